"""The Textual TUI: a live, teachable picture of the cluster (the only package that imports Textual)."""

from __future__ import annotations

from pathlib import Path


def run_tui(data_dir: Path, brokers: int | None, fresh: bool) -> int:
    """Open the cluster in ``data_dir`` and run the app until the user quits; 2 if the directory is unusable."""
    import sys

    from kafkalab.errors import KafkaError
    from kafkalab.tui.app import KafkaLabApp
    from kafkalab.tui.bridge import EngineBridge

    try:
        bridge = EngineBridge.open(data_dir, brokers=brokers, fresh=fresh)
    except KafkaError as exc:
        print(f"kafkalab: {exc}", file=sys.stderr)
        return 2
    try:
        bridge.start()  # the cluster starts while Textual does
        KafkaLabApp(bridge).run()
    finally:
        bridge.close()
    return 0
