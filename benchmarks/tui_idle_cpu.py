"""CPU the TUI uses while nothing happens: virtual time paused, and running with an idle cluster.

A child process runs the app headless (as ``kafkalab`` would, on a 3-broker cluster with
three small topics) and reports its own CPU time (all threads: UI and engine) over a
measuring window after a warm-up, as a share of one core.

Run: ``python benchmarks/tui_idle_cpu.py [--seconds 10]``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from tui_support import fill

CHILD = r"""
import asyncio, sys, time
from kafkalab.tui.app import KafkaLabApp
from kafkalab.tui.bridge import EngineBridge

paused, seconds = sys.argv[2] == "paused", float(sys.argv[3])
bridge = EngineBridge.open(sys.argv[1], paused=paused)

async def measure(pilot):
    await asyncio.sleep(2.0)  # warm-up: cluster started, first frames drawn
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.sleep(seconds)
    share = (time.process_time() - cpu) / (time.perf_counter() - wall)
    pilot.app.exit(share)

app = KafkaLabApp(bridge)
bridge.start()
share = app.run(headless=True, size=(160, 48), auto_pilot=measure)
bridge.close()
print(share)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kafkalab-bench-idle-") as temp:
        data = Path(temp) / "data"
        fill(data, {"orders": 6, "payments": 3, "audit": 3}, 2000)
        for mode in ("paused", "running"):
            out = subprocess.run([sys.executable, "-c", CHILD, str(data), mode, str(args.seconds)],
                                 capture_output=True, text=True, check=True)
            share = float(out.stdout.split()[-1])
            target = " (target < 5%)" if mode == "paused" else ""
            print(f"{mode}, idle: {share:.1%} of one core{target}")


if __name__ == "__main__":
    main()
