"""``kafkalab serve`` as a command: its first line, its answers, a port in use, signals and end of input."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

from kafkalab.sim.network import DEFAULT_LATENCY_MS, ONE_HOST_LATENCY_MS
from kafkalab.wire.serve import ServeOptions, open_cluster
from tests.wire.serve_process import ROOT, ServeProcess


def test_answers_steps_and_errors_and_narrates_what_they_cause(tmp_path: Path) -> None:
    serve = ServeProcess(tmp_path / "data", brokers=2)
    try:
        assert len(serve.ports) == 2 and serve.bootstrap.startswith("127.0.0.1:")
        created = serve.act("create_topic: {name: orders, partitions: 2, replication_factor: 2}")
        assert created["ok"] and created["action"] == "create_topic"
        assert "error" in serve.act("kill_broker: [")
        unknown = serve.act("explode_broker: 1")
        assert "unknown step 'explode_broker'" in unknown["error"]
        failed = serve.act("kill_broker: 7")
        assert failed["ok"] is False and failed["error"] == "INVALID_ARGUMENT"
        serve.wait_for(lambda: any("orders" in line for line in serve.narration), what="the topic narrated")
    finally:
        assert serve.stop() == 0


def test_sigterm_closes_the_cluster_cleanly(tmp_path: Path) -> None:
    serve = ServeProcess(tmp_path / "data", brokers=1)
    serve.proc.send_signal(signal.SIGTERM)
    assert serve.proc.wait(60) == 0
    serve.stop()
    assert any(path.name == ".kafka_cleanshutdown" for path in (tmp_path / "data").rglob("*"))


def test_a_port_in_use_is_one_clear_line(tmp_path: Path) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        result = subprocess.run([sys.executable, "-m", "kafkalab", "serve", "--data-dir", str(tmp_path / "d"),
                                 "--brokers", "1", "--port", str(port)], capture_output=True, text=True,
                                timeout=60, cwd=ROOT, stdin=subprocess.DEVNULL, check=False)
    finally:
        taken.close()
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"kafkalab: port {port} (broker 1) is already in use; choose another base port with --port P "
        f"(brokers use P, P+1, ...) or --port 0 for free ports"]


def test_listening_beyond_loopback_warns_that_there_is_no_authentication(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "kafkalab", "serve", "--data-dir", str(tmp_path / "d"),
                             "--brokers", "1", "--port", "0", "--host", "0.0.0.0"], capture_output=True, text=True,
                            timeout=60, cwd=ROOT, stdin=subprocess.DEVNULL, check=False)
    assert result.returncode == 0
    assert "no authentication" in result.stderr
    assert result.stdout.startswith("bootstrap: 127.0.0.1:")


def test_links_between_brokers_are_those_of_one_host_unless_asked_otherwise(tmp_path: Path) -> None:
    assert ONE_HOST_LATENCY_MS < DEFAULT_LATENCY_MS
    for options, expected in ((ServeOptions(tmp_path / "one-host", 3, True, "127.0.0.1", 0), ONE_HOST_LATENCY_MS),
                              (ServeOptions(tmp_path / "network", 3, True, "127.0.0.1", 0, link_latency_ms=2.5), 2.5)):
        cluster = open_cluster(options)
        try:
            assert cluster.network.latency("broker-1", "broker-2") == expected
        finally:
            cluster.close()


def test_a_negative_link_latency_is_one_clear_line(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "kafkalab", "serve", "--data-dir", str(tmp_path / "d"),
                             "--brokers", "1", "--port", "0", "--link-latency-ms", "-1"], capture_output=True,
                            text=True, timeout=60, cwd=ROOT, stdin=subprocess.DEVNULL, check=False)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["kafkalab: --link-latency-ms cannot be negative (-1)"]
