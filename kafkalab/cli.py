"""The ``kafkalab`` command line: the TUI by default, plus headless subcommands.

Exit codes: 0 success, 1 a scenario expectation or step failed, 2 bad input (an invalid
file, a data directory that is locked or not ours), 3 an error kafkalab did not expect
(a bug, or the disk refused). User mistakes print one clear message, never a
traceback; the console script (``entry_point``) turns any other error into one line
naming a log file with the details. ``main`` lets such errors through, so tests see them.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kafkalab import MODELLED_KAFKA, MODELLED_KAFKA_KRAFT, __version__


class _PrintVersion(argparse.Action):
    """``--version`` on one line (argparse's own would wrap it at the terminal's width)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:
        print(f"kafkalab {__version__}, modelling {MODELLED_KAFKA} and {MODELLED_KAFKA_KRAFT}")
        parser.exit()

if TYPE_CHECKING:
    from kafkalab.lessons.catalog import Catalog
    from kafkalab.lessons.model import Lesson
    from kafkalab.tui.web_tab import TabOptions


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for ``kafkalab`` and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="kafkalab",
        description="Learn Apache Kafka by breaking a real in-process cluster and watching it heal.",
    )
    parser.add_argument("--version", action=_PrintVersion, nargs=0,
                        help="show the version and the Kafka releases kafkalab models, and exit")
    _add_tui_options(parser, None)
    parser.add_argument("--fresh", action="store_true", help="delete the data directory's cluster and start over")
    parser.add_argument("--port", dest="tui_port", type=int, default=9092,
                        help="Kafka listener of broker 1 for your own clients; broker N listens on port+N-1 "
                             "(0: free ports; default 9092)")
    parser.add_argument("--link-latency-ms", dest="tui_link_latency_ms", type=float, default=None, metavar="MS",
                        help="one-way latency of the simulated links between brokers (default 0.05: brokers on "
                             "one host; 0.5 models a local network)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    lesson = commands.add_parser("lesson", help="open the TUI straight into a guided lesson, on a fresh cluster "
                                                "of its own (yours is kept)")
    lesson.add_argument("lesson_id", metavar="ID", help="the lesson's id (`kafkalab lessons` lists them)")
    lesson.add_argument("--lessons-dir", dest="tui_lessons_dir", metavar="DIR", default=argparse.SUPPRESS,
                        help="also load your own lessons from this folder")

    play = commands.add_parser("play", help="play a YAML scenario in the TUI on a fresh temporary cluster, with "
                                            "pause, single-step and speed")
    play.add_argument("file", help="the scenario file")
    play.add_argument("--speed", type=float, default=1.0, help="how fast virtual time runs, 0.1 to 10 (default 1)")
    play.add_argument("--partitioner", metavar="MODULE:FUNCTION",
                      help="the Python function `partitioner: custom` steps use: fn(topic, key, value, partitions)")

    run = commands.add_parser("run", help="run a YAML scenario headless under the virtual clock")
    run.add_argument("file", help="the scenario file")
    run.add_argument("--data-dir", dest="run_data_dir", help="run on the cluster persisted here (default: a fresh "
                                                              "temporary one, removed afterwards)")
    run.add_argument("--seed", type=int, help="override the scenario's cluster seed")
    run.add_argument("--json", action="store_true", help="print one JSON report instead of text")
    run.add_argument("--verbose", action="store_true", help="also print every high-watermark move")
    run.add_argument("--partitioner", metavar="MODULE:FUNCTION",
                     help="the Python function `partitioner: custom` steps use: fn(topic, key, value, partitions)")
    run.add_argument("--bootstrap", dest="run_bootstrap", metavar="HOST:PORT",
                     help="run on this real Kafka cluster instead of the lab; steps that need the lab are refused "
                          "before any runs (needs confluent-kafka: pip install 'kafkalab[attach]')")
    _add_attach_options(run)
    run.add_argument("--allow-writes", dest="run_allow_writes", action="store_true",
                     help="with --bootstrap: let steps change the cluster (produce, create/delete topic, alter config)")

    serve = commands.add_parser("serve", help="run the cluster headless on the live clock with a Kafka listener "
                                              "per broker; read scenario steps from standard input")
    serve.add_argument("--data-dir", dest="serve_data_dir", help="cluster data directory (default: the user data dir)")
    serve.add_argument("--brokers", dest="serve_brokers", type=int, default=None,
                       help="number of brokers for a new cluster (1-9, default 3)")
    serve.add_argument("--fresh", dest="serve_fresh", action="store_true",
                       help="delete the data directory's cluster and start over")
    serve.add_argument("--mode", dest="serve_mode", choices=("zookeeper", "kraft"), default=None,
                       help="for a new cluster: zookeeper (Kafka 3.9, the default) or kraft (Kafka 4.1)")
    serve.add_argument("--controllers", dest="serve_controllers", type=int, default=None,
                       help="number of KRaft controllers for a new kraft cluster (1-5, default 3)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=9092,
                       help="broker 1's port; broker N listens on port+N-1 (0: free ports; default 9092)")
    serve.add_argument("--config", action="append", default=[], metavar="KEY=VALUE",
                       help="a broker config override for a new cluster, with Kafka's name "
                            "(e.g. zookeeper.session.timeout.ms=6000); repeatable")
    serve.add_argument("--link-latency-ms", dest="serve_link_latency_ms", type=float, default=None, metavar="MS",
                       help="one-way latency of the simulated links between brokers (default 0.05: brokers on "
                            "one host; 0.5 models a local network)")

    web = commands.add_parser("web", help="serve the TUI to browsers, every tab a kafkalab of its own (for a class)")
    web.add_argument("--host", dest="web_host", default="127.0.0.1", metavar="HOST",
                     help="address to serve on (default 127.0.0.1: this machine only)")
    web.add_argument("--port", dest="web_port", type=int, default=8000, metavar="PORT", help="HTTP port (default 8000)")
    web.add_argument("--lesson", dest="web_lesson", metavar="ID",
                     help="every tab starts this lesson on a fresh cluster of its own")
    web.add_argument("--tab", dest="web_tab", action="store_true", help=argparse.SUPPRESS)  # what each tab runs
    # The TUI's options after `web` as well; their defaults stay the top-level parser's.
    _add_tui_options(web, argparse.SUPPRESS)

    attach = commands.add_parser("attach", help="the TUI on a real Kafka cluster (read-only unless --allow-writes); "
                                                "needs confluent-kafka: pip install 'kafkalab[attach]'")
    attach.add_argument("--bootstrap", dest="attach_bootstrap", required=True, metavar="HOST:PORT",
                        help="the cluster's bootstrap servers (comma-separated)")
    _add_attach_options(attach)
    attach.add_argument("--interval", type=float, default=2.0, metavar="S",
                        help="seconds between describe rounds, at least 0.5 (default 2)")
    attach.add_argument("--allow-writes", action="store_true",
                        help="let produce, create/delete topic and alter config change the cluster")

    commands.add_parser("schema", help="print the JSON Schema of scenario files")

    lessons = commands.add_parser("lessons", help="list the guided lessons and your progress")
    lessons.add_argument("--lessons-dir", help="also load your own lessons from this folder")
    lesson_commands = lessons.add_subparsers(dest="lessons_command", metavar="ACTION")
    verify = lesson_commands.add_parser("verify", help="prove lessons work: run each headless with its solutions")
    verify.add_argument("lesson_id", nargs="?", help="only this lesson")
    export = lesson_commands.add_parser("export", help="write your progress to a file")
    export.add_argument("file")
    restore = lesson_commands.add_parser("import", help="merge progress from a file")
    restore.add_argument("file")

    dump = commands.add_parser("dump-log", help="print a segment's batches and records like kafka-dump-log.sh")
    dump.add_argument("path", help="a .log, .index or .timeindex file, or a KRaft snapshot (.checkpoint)")
    dump.add_argument("--no-data", action="store_true", help="print batches only, not their records")
    dump.add_argument("--cluster-metadata-decoder", action="store_true",
                      help="decode KRaft metadata records (the default for files in __cluster_metadata-0)")
    return parser


def _add_attach_options(parser: argparse.ArgumentParser) -> None:
    """How to reach a real cluster's secured listeners, as Kafka's own tools take it."""
    parser.add_argument("--command-config", metavar="FILE",
                        help="a Kafka client properties file (security.protocol, sasl.*, ssl.*), as Kafka's tools take")


def _attach_properties(args: argparse.Namespace) -> dict[str, str] | None:
    """The ``--command-config`` properties (empty without one); None after saying why the file is unusable."""
    from kafkalab.attach.client import AttachError, read_properties

    if args.command_config is None:
        return {}
    try:
        return read_properties(Path(args.command_config).expanduser())
    except AttachError as exc:
        print(f"kafkalab: {exc}", file=sys.stderr)
        return None


def _attach(args: argparse.Namespace) -> int:
    from kafkalab.tui import run_attach

    if args.interval < 0.5:
        print(f"kafkalab: --interval must be at least 0.5 seconds, not {args.interval:g}", file=sys.stderr)
        return 2
    properties = _attach_properties(args)
    if properties is None:
        return 2
    return run_attach(args.attach_bootstrap, properties, args.interval, args.allow_writes)


def _add_tui_options(parser: argparse.ArgumentParser, default: Any) -> None:
    """The options the TUI and each ``kafkalab web`` tab open their cluster with."""
    parser.add_argument("--data-dir", default=default, metavar="DIR",
                        help="cluster data directory (default: the user data dir); for web, the first tab opens it and later "
                             "tabs are offered a fresh one (default: a fresh one per tab)")
    parser.add_argument("--brokers", type=int, default=default, metavar="N",
                        help="number of brokers for a new cluster (1-9, default 3)")
    parser.add_argument("--lessons-dir", dest="tui_lessons_dir", metavar="DIR", default=default,
                        help="also offer your own lessons from this folder")
    parser.add_argument("--partitioner", dest="tui_partitioner", metavar="MODULE:FUNCTION", default=default,
                        help="the Python function the produce form's `partitioner: custom` uses: "
                             "fn(topic, key, value, partitions)")
    parser.add_argument("--mode", choices=("zookeeper", "kraft"), default=default,
                        help="for a new cluster: zookeeper (Kafka 3.9, the default) or kraft (Kafka 4.1); "
                             "a data dir keeps its mode")
    parser.add_argument("--controllers", type=int, default=default, metavar="N",
                        help="number of KRaft controllers for a new kraft cluster (1-5, default 3)")
    parser.add_argument("--no-listen", dest="tui_no_listen", action="store_true",
                        default=False if default is None else default,
                        help="open no Kafka listener (only the TUI talks to the cluster; for web, each tab's "
                             "listener takes free ports)")


def _negative_latency(latency_ms: float | None) -> bool:
    """True (and said on stderr) when ``--link-latency-ms`` was given a negative value."""
    if latency_ms is None or latency_ms >= 0:
        return False
    print(f"kafkalab: --link-latency-ms cannot be negative ({latency_ms:g})", file=sys.stderr)
    return True


def _run_scenario(args: argparse.Namespace) -> int:
    if args.run_bootstrap is not None:
        return _run_attached(args)
    from kafkalab.coordination.tree import ZnodeTree
    from kafkalab.errors import KafkaError
    from kafkalab.scenarios.model import load_scenario
    from kafkalab.scenarios.report import TextReporter
    from kafkalab.scenarios.runner import ScenarioRunner
    from kafkalab.scenarios.yaml_source import SourceError

    data_dir = Path(args.run_data_dir).expanduser() if args.run_data_dir else None
    existing: frozenset[str] = frozenset()
    try:
        if data_dir is not None:
            # Read what topics the stored cluster already has, without touching the directory.
            topics = ZnodeTree(data_dir / "zookeeper", read_only=True).nodes.get("/brokers/topics")
            existing = frozenset(topics.children) if topics else frozenset()
        scenario = load_scenario(Path(args.file), existing)
    except SourceError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except KafkaError as exc:
        print(f"kafkalab: {exc}", file=sys.stderr)
        return 2
    reporter = TextReporter(sys.stdout, args.verbose)
    runner = ScenarioRunner(scenario, data_dir, args.seed, None if args.json else reporter.step,
                            custom_partitioner=args.partitioner, on_start=None if args.json else reporter.started)
    if not args.json:
        print(f"Scenario: {scenario.name}")
    try:
        report = runner.run()
    except KafkaError as exc:
        print(f"kafkalab: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.as_json(), indent=2, sort_keys=False))
    else:
        reporter.finish(report)
    return 0 if report.ok else 1


def _run_attached(args: argparse.Namespace) -> int:
    """``run --bootstrap``: check every step, then run them on the real cluster; the lab's report."""
    from kafkalab.attach.runner import run_on_cluster

    lab_options = [name for name, given in (("--data-dir", args.run_data_dir), ("--seed", args.seed),
                                            ("--partitioner", args.partitioner)) if given is not None]
    if lab_options:
        print(f"kafkalab: {', '.join(lab_options)} choose the lab's cluster; --bootstrap runs on a real one",
              file=sys.stderr)
        return 2
    properties = _attach_properties(args)
    if properties is None:
        return 2
    return run_on_cluster(Path(args.file), args.run_bootstrap, properties, allow_writes=args.run_allow_writes,
                          json_report=args.json, verbose=args.verbose, out=sys.stdout, err=sys.stderr)


def _lessons(args: argparse.Namespace) -> int:
    from kafkalab.errors import KafkaError, quoted
    from kafkalab.lessons.catalog import load_catalog
    from kafkalab.lessons.progress import Progress
    from kafkalab.lessons.verify import verify_lesson

    catalog = load_catalog(Path(args.lessons_dir) if args.lessons_dir else None)
    for mark, message in catalog.problems:
        print(f"{mark}: {message}", file=sys.stderr)
    if args.lessons_command == "verify":
        chosen = [lesson for lesson in catalog.lessons if args.lesson_id in (None, lesson.id)]
        if args.lesson_id and not chosen:
            print(f"kafkalab: no lesson {quoted(args.lesson_id)}", file=sys.stderr)
            return 2
        failed = 0
        for lesson in chosen:
            result = verify_lesson(lesson)
            print(f"{'ok    ' if result.ok else 'FAILED'} {lesson.id}: {lesson.title}")
            for problem in result.problems:
                print(f"       {problem}")
            failed += not result.ok
        return 2 if catalog.problems else 1 if failed else 0
    try:
        progress = Progress.load()
        if args.lessons_command == "export":
            progress.write_to(Path(args.file))
            print(f"Progress written to {args.file}")
            return 0
        if args.lessons_command == "import":
            progress.merge_from(Path(args.file))
            progress.save()
            print(f"Progress merged from {args.file}")
            return 0
    except KafkaError as exc:
        print(f"kafkalab: {exc}", file=sys.stderr)
        return 2
    id_width = max((len(lesson.id) for lesson in catalog.lessons), default=0)
    for number, lesson in enumerate(catalog.lessons, 1):
        done = len(progress.of(lesson.id).completed_steps)
        needs = f" (after {', '.join(lesson.prerequisites)})" if lesson.prerequisites else ""
        print(f"{number:>2}. {lesson.id:<{id_width}}  {done}/{len(lesson.steps)} steps  {lesson.title}{needs}")
        print(f"    {lesson.summary}")
    return 2 if catalog.problems else 0


def _find_lesson(lesson_id: str, lessons_dir: str | None) -> tuple[Lesson, Catalog] | None:
    """The lesson ``lesson_id`` and the catalog it is in; None, said in one line, if there is none."""
    from kafkalab.errors import quoted
    from kafkalab.lessons.catalog import load_catalog
    from kafkalab.scenarios.validate import suggest

    catalog = load_catalog(Path(lessons_dir) if lessons_dir else None)
    for mark, message in catalog.problems:
        print(f"{mark}: {message}", file=sys.stderr)
    lesson = catalog.get(lesson_id)
    if lesson is None:
        known = [known.id for known in catalog.lessons]
        print(f"kafkalab: no lesson {quoted(lesson_id)}{suggest(lesson_id, known)}; `kafkalab lessons` lists them",
              file=sys.stderr)
        return None
    return lesson, catalog


def _open_lesson(args: argparse.Namespace, home_dir: Path) -> int:
    from kafkalab.tui import run_lesson

    found = _find_lesson(args.lesson_id, args.tui_lessons_dir)
    return 2 if found is None else run_lesson(*found, home_dir)


def _play(args: argparse.Namespace) -> int:
    from kafkalab.scenarios.model import load_scenario
    from kafkalab.scenarios.yaml_source import SourceError
    from kafkalab.sim.realtime_clock import MAX_SPEED, MIN_SPEED

    if not MIN_SPEED <= args.speed <= MAX_SPEED:
        print(f"kafkalab: --speed must be between {MIN_SPEED:g} and {MAX_SPEED:g}, not {args.speed:g}", file=sys.stderr)
        return 2
    try:
        scenario = load_scenario(Path(args.file))
    except SourceError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    from kafkalab.tui import run_play

    return run_play(scenario, args.speed, args.partitioner)


#: Exit status of an error kafkalab did not expect.
UNEXPECTED_ERROR = 3


def entry_point() -> int:
    """The ``kafkalab`` console script: ``main``, with every error it lets through told in one line."""
    try:
        return main()
    except KeyboardInterrupt:
        print("kafkalab: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the one place that catches everything: the user gets a line, the log the rest
        return report_unexpected(exc)


def report_unexpected(error: BaseException) -> int:
    """Print one line about ``error`` and where its details went; the exit status for it."""
    from kafkalab.error_log import exception_details, write_error_log
    from kafkalab.errors import KafkaError

    if isinstance(error, KafkaError):  # a Kafka error names its cause in a sentence; no log needed
        print(f"kafkalab: {error}", file=sys.stderr)
        return 2
    details = getattr(error, "details", None) or exception_details(error)
    log = write_error_log(details)
    summary = " ".join(str(error).split())
    summary = summary if len(summary) <= 200 else summary[:197] + "..."
    what = f"{type(error).__name__}: {summary}" if summary else type(error).__name__
    where = f"details in {log}" if log is not None else "no log directory was writable"
    print(f"kafkalab: unexpected error ({what}); {where}", file=sys.stderr)
    return UNEXPECTED_ERROR


def tab_options(args: argparse.Namespace) -> TabOptions:
    """What each ``kafkalab web`` tab opens, from the command line's options (paths absolute: a tab's process may
    not share the server's working directory)."""
    from kafkalab.tui.web_tab import TabOptions

    return TabOptions(Path(args.data_dir).expanduser().absolute() if args.data_dir else None, args.brokers,
                      Path(args.tui_lessons_dir).expanduser().absolute() if args.tui_lessons_dir else None,
                      args.tui_partitioner, not args.tui_no_listen, args.web_lesson, args.mode, args.controllers)


def _web(args: argparse.Namespace) -> int:
    if args.fresh:
        print("kafkalab: web takes no --fresh (every tab would start the cluster over); run `kafkalab --fresh` once, "
              "or give no --data-dir for a fresh cluster per tab", file=sys.stderr)
        return 2
    options = tab_options(args)
    if args.web_tab:
        from kafkalab.tui.web_tab import run_tab

        return run_tab(options)
    from kafkalab.cluster.cluster import MAX_BROKERS

    if args.brokers is not None and not 1 <= args.brokers <= MAX_BROKERS:  # Cluster.open's rule, said at start too
        print(f"kafkalab: --brokers must be between 1 and {MAX_BROKERS}, not {args.brokers}", file=sys.stderr)
        return 2
    from kafkalab.cluster.quorum import MAX_CONTROLLERS

    if args.controllers is not None and (args.mode != "kraft" or not 1 <= args.controllers <= MAX_CONTROLLERS):
        print(f"kafkalab: --controllers takes 1 to {MAX_CONTROLLERS} controllers, with --mode kraft", file=sys.stderr)
        return 2
    if args.web_lesson is not None and _find_lesson(args.web_lesson, args.tui_lessons_dir) is None:
        return 2  # said here once, rather than by every tab's process to a browser that shows no standard error
    if not 1 <= args.web_port <= 65535:
        print(f"kafkalab: --port must be between 1 and 65535, not {args.web_port}", file=sys.stderr)
        return 2
    from kafkalab.tui.web import serve

    return serve(options, args.web_host, args.web_port)


def _serve(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from kafkalab.cluster.datadir import default_data_dir
    from kafkalab.wire.serve import ServeOptions, serve

    if not 0 <= args.port <= 65535:
        print(f"kafkalab: --port must be between 0 and 65535, not {args.port}", file=sys.stderr)
        return 2
    config: dict[str, str] = {}
    for item in args.config:
        key, equals, value = item.partition("=")
        if not equals or not key.strip():
            print(f"kafkalab: --config takes KEY=VALUE, not {item!r}", file=sys.stderr)
            return 2
        config[key.strip()] = value.strip()
    data_dir = Path(args.serve_data_dir or args.data_dir or default_data_dir()).expanduser()
    options = ServeOptions(data_dir, args.serve_brokers or args.brokers, args.serve_fresh or args.fresh, args.host,
                           args.port, config, args.serve_mode or args.mode,
                           args.serve_controllers or args.controllers)
    if args.serve_link_latency_ms is not None:
        if _negative_latency(args.serve_link_latency_ms):
            return 2
        options = replace(options, link_latency_ms=args.serve_link_latency_ms)
    return serve(options, sys.stdin, sys.stdout, sys.stderr)


#: Exit status when the reader of the output went away (``| head``): what a shell reports for a tool that
#: SIGPIPE ended (128 + 13), as ``seq``, ``cat`` and ``grep`` are.
BROKEN_PIPE = 141


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status. Errors kafkalab does not expect propagate."""
    try:
        return _main(argv)
    except BrokenPipeError:
        _drop_stdout()
        return BROKEN_PIPE


def _drop_stdout() -> None:
    """Point standard output at the null device, so the interpreter's last flush at exit finds no pipe to break
    (it would print "Exception ignored ... BrokenPipeError"); the Python documentation's recipe for SIGPIPE."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass  # not a real file (captured by a test): nothing will flush into a closed pipe


def _lessons_dir_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the ``--lessons-dir`` given, if one was: a folder that is not there would add no lessons
    without a word."""
    given = getattr(args, "lessons_dir", None) or getattr(args, "tui_lessons_dir", None)
    if given is None:
        return None
    folder = Path(given).expanduser()
    if folder.is_dir():
        return None
    return f"--lessons-dir {given}: {'not a folder' if folder.exists() else 'no such folder'}"


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    problem = _lessons_dir_problem(args)
    if problem is not None:
        print(f"kafkalab: {problem}", file=sys.stderr)
        return 2
    if args.command == "dump-log":
        from kafkalab.metadata.json_format import decode_payload
        from kafkalab.storage.dump import dump_log_command

        metadata = args.cluster_metadata_decoder or Path(args.path).parent.name == "__cluster_metadata-0"
        return dump_log_command(args.path, print_data=not args.no_data, out=sys.stdout,
                                decoder=decode_payload if metadata else None)
    if args.command == "run":
        return _run_scenario(args)
    if args.command == "lessons":
        return _lessons(args)
    if args.command == "play":
        return _play(args)
    if args.command == "serve":
        return _serve(args)
    if args.command == "web":
        return _web(args)
    if args.command == "attach":
        return _attach(args)
    if args.command == "schema":
        from kafkalab.scenarios.schema import scenario_schema

        print(json.dumps(scenario_schema(), indent=2))
        return 0
    from kafkalab.cluster.datadir import default_data_dir
    from kafkalab.tui import run_tui

    data_dir = Path(args.data_dir).expanduser() if args.data_dir else default_data_dir()
    if args.command == "lesson":
        return _open_lesson(args, data_dir)
    lessons_dir = Path(args.tui_lessons_dir).expanduser() if args.tui_lessons_dir else None
    if not 0 <= args.tui_port <= 65535:
        print(f"kafkalab: --port must be between 0 and 65535, not {args.tui_port}", file=sys.stderr)
        return 2
    if _negative_latency(args.tui_link_latency_ms):
        return 2
    listen = None if args.tui_no_listen else ("127.0.0.1", args.tui_port)
    return run_tui(data_dir, args.brokers, args.fresh, lessons_dir, args.tui_partitioner, listen, args.mode,
                   args.controllers, args.tui_link_latency_ms)
