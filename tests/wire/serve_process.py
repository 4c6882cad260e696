"""``kafkalab serve`` as a subprocess for tests: its bootstrap address, its narration and its answers."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


class ServeProcess:
    """A running ``kafkalab serve``; ``act`` sends a scenario step and returns its JSON answer."""

    def __init__(self, data_dir: Path, brokers: int = 3, extra: tuple[str, ...] = ()) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        self.stderr_path = data_dir.parent / "serve.err"
        self._stderr = self.stderr_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kafkalab", "serve", "--data-dir", str(data_dir), "--brokers", str(brokers),
             "--port", "0", *extra],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, text=True, cwd=ROOT, env=env)
        self.narration: list[str] = []
        self._answers: queue.Queue[dict[str, Any]] = queue.Queue()
        self._first: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        try:
            line = self._first.get(timeout=60)
        except queue.Empty:
            self.stop()
            raise RuntimeError(f"kafkalab serve did not start: {self.stderr_path.read_text()}") from None
        assert line.startswith("bootstrap: "), line
        self.bootstrap = line.split(" ", 1)[1]
        self.ports = [int(address.rsplit(":", 1)[1]) for address in self.bootstrap.split(",")]

    def _read(self) -> None:
        assert self.proc.stdout is not None
        first = True
        for raw in self.proc.stdout:
            line = raw.rstrip("\n")
            if first:
                self._first.put(line)
                first = False
            elif line.startswith("{"):
                self._answers.put(json.loads(line))
            else:
                self.narration.append(line)

    def act(self, step: str, timeout: float = 60.0) -> dict[str, Any]:
        """Send one step line and wait for its answer."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(step + "\n")
        self.proc.stdin.flush()
        return self._answers.get(timeout=timeout)

    def wait_for(self, condition: Any, timeout: float = 30.0, what: str = "the condition") -> Any:
        """Poll ``condition()`` until it returns something true; fail after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                recent = "\n".join(self.narration[-40:])
                raise AssertionError(f"timed out waiting for {what}; the cluster said lately:\n{recent}")
            time.sleep(0.05)

    def leader_of(self, topic: str, partition: int) -> int | None:
        """The partition's current leader, as serve's describe_topic reports it."""
        result = self.act(f"describe_topic: {topic}")["result"]
        return next(p["leader"] for p in result["partitions"] if p["partition"] == partition)

    def stop(self, timeout: float = 60.0) -> int:
        """Close standard input (serve closes the cluster) and wait for the exit status."""
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        finally:
            self._stderr.close()
