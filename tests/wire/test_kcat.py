"""kcat (Debian's ``kcat`` package), where installed: metadata, produce and consume against ``kafkalab serve``."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.wire.serve_process import ServeProcess

KCAT = shutil.which("kcat") or shutil.which("kafkacat")
pytestmark = pytest.mark.skipif(KCAT is None, reason="kcat is not installed (apt-get install kcat)")


def _kcat(serve: ServeProcess, *args: str, stdin: str | None = None) -> str:
    assert KCAT is not None
    result = subprocess.run([KCAT, "-b", serve.bootstrap, *args], input=stdin, capture_output=True, text=True,
                            timeout=60, check=True)
    return result.stdout


def test_kcat_lists_metadata_produces_and_consumes(serve: ServeProcess) -> None:
    assert serve.act("create_topic: {name: kc-topic, partitions: 2, replication_factor: 3}")["ok"]
    metadata = _kcat(serve, "-L", "-t", "kc-topic")
    assert "3 brokers:" in metadata and 'topic "kc-topic" with 2 partitions' in metadata
    assert f"broker 1 at 127.0.0.1:{serve.ports[0]}" in metadata
    lines = "".join(f"key-{i}:value-{i}\n" for i in range(20))
    _kcat(serve, "-P", "-t", "kc-topic", "-K", ":", "-X", "acks=all", stdin=lines)
    consumed = _kcat(serve, "-C", "-t", "kc-topic", "-e", "-f", "%k=%s@%p\\n")
    got = sorted(line.split("@")[0] for line in consumed.splitlines())
    assert got == sorted(f"key-{i}=value-{i}" for i in range(20))
    described = serve.act("describe_topic: kc-topic")["result"]
    assert sum(p["high_watermark"] for p in described["partitions"]) == 20
