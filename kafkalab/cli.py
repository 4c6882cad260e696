"""The ``kafkalab`` command line: the TUI by default, plus headless subcommands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from kafkalab import __version__


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for ``kafkalab`` and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="kafkalab",
        description="Learn Apache Kafka by breaking a real in-process cluster and watching it heal.",
    )
    parser.add_argument("--version", action="version", version=f"kafkalab {__version__}")
    parser.add_argument("--data-dir", help="cluster data directory (default: the user data dir)")
    parser.add_argument("--brokers", type=int, default=3, help="number of brokers for a new cluster (1-9)")
    parser.add_argument("--fresh", action="store_true", help="delete the data directory's cluster and start over")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    dump = commands.add_parser("dump-log", help="print a segment's batches and records like kafka-dump-log.sh")
    dump.add_argument("path", help="a .log segment file")
    dump.add_argument("--no-data", action="store_true", help="print batches only, not their records")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kafkalab`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "dump-log":
        from kafkalab.storage.dump import dump_log_command

        return dump_log_command(args.path, print_data=not args.no_data, out=sys.stdout)
    from kafkalab.cluster.datadir import default_data_dir
    from kafkalab.demo import run_demo
    from kafkalab.errors import KafkaError

    data_dir = Path(args.data_dir).expanduser() if args.data_dir else default_data_dir()
    try:
        return run_demo(data_dir, args.brokers, args.fresh, sys.stdout)
    except KafkaError as exc:
        print(f"kafkalab: {exc}", file=sys.stderr)
        return 2
