"""Time from starting ``kafkalab`` to the first paint, on a data dir holding about 1 GB of logs.

A child process does what ``kafkalab --data-dir DIR --no-listen`` does (imports, opens and locks
the data dir, starts the app, with no garbage collection until the first frame; with ``--listen``,
what ``kafkalab --data-dir DIR --port 0`` does) but headless, and reports two moments measured
from the interpreter's start: the first screen paint (the app's widgets on screen, cluster still
starting) and the first paint of the cluster itself (brokers, topics, lanes drawn from the first
engine frame); and the CPU time the child (all its threads) had used by each, which a busy machine
inflates far less than the wall clock. The data dir is filled once (RF 3, 64 MB segments) and
reused. A first launch, not measured, leaves the compiled bytecode a normal install has; the
test-only packages of this environment are kept out of the child, as a user's install does not
have them.

Run: ``python benchmarks/tui_first_paint.py [--gb 1.0] [--dir DIR] [--runs 5] [--listen]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from tui_support import cached_dir, fill, log_bytes

CHILD = r"""
import sys, time
# kio registers hypothesis strategies for its types whenever hypothesis can be imported (kio/static/_phantom.py),
# which costs 0.3-0.4 s; hypothesis is a test dependency that a user's install does not have, so the child runs
# without it, as `kafkalab` runs for a user.
sys.modules["hypothesis"] = None
from kafkalab.gc_pause import collector_paused


def run():
    from kafkalab.tui.app import KafkaLabApp
    from kafkalab.tui.bridge import EngineBridge

    painted = {}
    # `kafkalab` opens a Kafka listener unless told --no-listen; with --listen the child does too, on free ports.
    bridge = EngineBridge.open(sys.argv[1], listen=("127.0.0.1", 0) if sys.argv[2:] == ["listen"] else None)
    app = KafkaLabApp(bridge)
    display = app._display

    def timed_display(screen, renderable):
        display(screen, renderable)
        if renderable is None:
            return
        now = time.time()  # wall clock, comparable with the parent's launch time
        if "screen" not in painted:
            painted["screen"] = (now, time.process_time())
        if "cluster" not in painted and app.frame is not None and app.frame.lanes:
            painted["cluster"] = (now, time.process_time())
            app.exit()

    app._display = timed_display
    bridge.start()  # as `kafkalab` does: the cluster starts while Textual does
    app.run(headless=True, size=(160, 48))
    bridge.close()
    print(*painted["screen"], *painted["cluster"])


# As `kafkalab` starts (kafkalab/tui/__init__.py): no garbage collection until the first frame.
with collector_paused():
    run()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--gb", type=float, default=1.0, help="gigabytes of logs on disk (default 1)")
    parser.add_argument("--dir", help="data directory to fill once and reuse (default: under the temp dir)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--listen", action="store_true",
                        help="open a Kafka listener (free ports) as `kafkalab` does by default; without it, as --no-listen")
    args = parser.parse_args()
    data = cached_dir("first-paint", args.dir)
    if log_bytes(data) < args.gb * 0.95e9 if data.exists() else True:
        print(f"filling {data} with {args.gb} GB ...", flush=True)
        fill(data, {"big": 6}, int(args.gb * 1e9 / 3 / 110), segment_bytes=64 * 1024 * 1024)
    print(f"{log_bytes(data) / 1e9:.2f} GB of logs in {len(list(data.glob('broker-*/*/*.log')))} segments")
    # Python writes compiled bytecode by default, and pip compiles what it installs: a setting that turns it off
    # (PYTHONDONTWRITEBYTECODE, as in some containers) would make every launch compile kafkalab again. The child
    # runs as Python does by default, once unmeasured so that the bytecode exists.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    child = [sys.executable, "-c", CHILD, str(data), *(["listen"] if args.listen else [])]
    subprocess.run(child, capture_output=True, text=True, check=True, env=env)
    for _ in range(args.runs):
        launched = time.time()
        out = subprocess.run(child, capture_output=True, text=True, check=True, env=env)
        screen_at, screen_cpu, cluster_at, cluster_cpu = (float(value) for value in out.stdout.split()[-4:])
        print(f"from launch: first paint {screen_at - launched:.3f} s, cluster drawn (brokers, topics, lanes) "
              f"{cluster_at - launched:.3f} s (target < 1 s); the child's CPU by then {screen_cpu:.3f} / "
              f"{cluster_cpu:.3f} s")


if __name__ == "__main__":
    main()
