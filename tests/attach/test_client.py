"""confluent-kafka stays optional, and ``--command-config`` reads a Kafka client properties file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kafkalab.attach.client import MISSING_CLIENT, AttachError, client_config, confluent, read_properties
from tests.wire.serve_process import ROOT


def test_a_missing_client_library_is_one_line_saying_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "confluent_kafka", None)
    with pytest.raises(AttachError) as caught:
        confluent()
    assert str(caught.value) == MISSING_CLIENT and "\n" not in MISSING_CLIENT
    assert "pip install 'kafkalab[attach]'" in MISSING_CLIENT


def test_a_properties_file_as_kafka_tools_take_it(tmp_path: Path) -> None:
    path = tmp_path / "client.properties"
    path.write_text("# secured cluster\n! also a comment\n\nsecurity.protocol=SASL_SSL\n"
                    "sasl.mechanism : PLAIN\nsasl.password=a=b\n")
    properties = read_properties(path)
    assert properties == {"security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN", "sasl.password": "a=b"}
    config = client_config("kafka:9092", properties)
    assert config["bootstrap.servers"] == "kafka:9092" and config["security.protocol"] == "SASL_SSL"


@pytest.mark.parametrize(("text", "message"), [
    ("security.protocol\n", "client.properties:1: expected key=value"),
    ("bootstrap.servers=elsewhere:9092\n", "bootstrap.servers is set by kafkalab"),
])
def test_a_properties_file_kafkalab_cannot_use_is_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "client.properties"
    path.write_text(text)
    with pytest.raises(AttachError, match=message):
        read_properties(path)


def test_a_missing_properties_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(AttachError, match="cannot read --command-config"):
        read_properties(tmp_path / "nope.properties")


def test_the_clients_log_lines_never_reach_the_terminal() -> None:
    # librdkafka logs a refused connection at error level: over the TUI it would garble the screen. A process of its
    # own, as the command runs, without pytest's log capture standing in for a handler.
    script = ("from kafkalab.attach.client import client_config\n"
              "client_config('127.0.0.1:1')['logger'].error('FAIL|rdkafka#producer-1| Connect failed')\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert (done.stdout, done.stderr) == ("", "")


def test_topic_ids_are_printed_as_kafka_prints_them() -> None:
    ck = pytest.importorskip("confluent_kafka")
    from kafkalab.attach.observe import kafka_uuid

    # A Uuid whose bytes base64-encode to + and /: librdkafka prints standard base64, Kafka's Uuid.toString URL-safe.
    uuid = ck.Uuid(-(1 << 58) - 1, -(1 << 58) - 1)
    assert str(uuid) == "+//////////7/////////w"
    assert kafka_uuid(str(uuid)) == "-__________7_________w"
