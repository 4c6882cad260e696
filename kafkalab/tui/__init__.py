"""The Textual TUI: a live, teachable picture of the cluster (the only package that imports Textual)."""

from __future__ import annotations

import io
import shutil
import sys
import tempfile
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from kafkalab.gc_pause import collector_paused

if TYPE_CHECKING:
    from kafkalab.lessons.catalog import Catalog
    from kafkalab.lessons.model import Lesson
    from kafkalab.scenarios.model import Scenario
    from kafkalab.tui.app import KafkaLabApp
    from kafkalab.tui.attach_bridge import Bridge


#: The bridge a command opens: the lab's engine, or an attached cluster.
B = TypeVar("B", bound="Bridge")
P = ParamSpec("P")


def _started_without_collection(command: Callable[P, int]) -> Callable[P, int]:
    """``command``'s imports and start-up run without the garbage collector, until the app's first frame
    (``kafkalab/tui/collector.py`` says why)."""

    @wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> int:
        with collector_paused():
            return command(*args, **kwargs)

    return run


class AppCrashed(Exception):
    """The app stopped on an error Textual caught; ``details`` holds Textual's report, for the error log."""

    def __init__(self, details: str) -> None:
        super().__init__("the TUI stopped on an error it did not expect")
        self.details = details


def _run(open_bridge: Callable[[], B], make_app: Callable[[B], KafkaLabApp]) -> int:
    """Open the engine, run the app until the user quits, close the engine; 2 if the engine cannot open.

    Processes that failed meanwhile are listed on the way out. An error that stopped the app or the
    engine thread is raised once the terminal is restored (AppCrashed carries Textual's report), for
    the command line to tell in one line.
    """
    from rich.console import Console

    from kafkalab.errors import KafkaError

    try:
        bridge = open_bridge()
    except KafkaError as exc:
        print(f"kafkalab: {exc}", file=sys.stderr)
        return 2
    report = io.StringIO()
    try:
        bridge.start()  # the cluster starts while Textual does
        app = make_app(bridge)
        # Textual prints an unexpected error's traceback here rather than on the user's terminal.
        app.error_console = Console(file=report, width=120, color_system=None, markup=False, highlight=False)
        app.run()
    finally:
        closed = _close(bridge)
    for event in bridge.process_failures:
        print(f"kafkalab: a process failed: {event.describe()}", file=sys.stderr)
    if app.return_code:
        raise AppCrashed(report.getvalue())
    if bridge.error is not None:
        raise bridge.error
    return 0 if closed else 2


def _close(bridge: Bridge) -> bool:
    """Close the engine; a disk that refuses the final writes is one line, not a traceback."""
    from kafkalab.errors import KafkaError

    try:
        bridge.close()
    except KafkaError as exc:
        print(f"kafkalab: {exc}", file=sys.stderr)
        return False
    return True


@_started_without_collection
def run_tui(data_dir: Path, brokers: int | None, fresh: bool, lessons_dir: Path | None = None,
            custom_partitioner: str | None = None, listen: tuple[str, int] | None = None,
            mode: str | None = None, controllers: int | None = None, link_latency_ms: float | None = None) -> int:
    """Open the cluster in ``data_dir`` and run the app until the user quits; 2 if the directory is unusable.

    ``custom_partitioner`` (``module:function``) is what produce actions with ``partitioner: custom`` call;
    ``listen`` (host, base port) opens a Kafka listener per broker for real clients. The brokers' links take
    ``link_latency_ms`` one way, by default what brokers on one host have (``ONE_HOST_LATENCY_MS``, as
    ``kafkalab serve``'s): a connection's requests are served one at a time (Kafka mutes a channel until its
    answer is sent) and an acks=all produce waits for two hops, so at 0.5 ms one connection carried at most
    one produce per millisecond of hops plus the engine's work, a bound a client producing 20,000 records/s
    reached. No screen shows anything shorter than a frame (100 ms), so the lanes look the same either way.
    """
    from kafkalab.errors import KafkaError
    from kafkalab.sim.network import ONE_HOST_LATENCY_MS
    from kafkalab.tui.app import KafkaLabApp
    from kafkalab.tui.bridge import EngineBridge
    from kafkalab.tui.keymap import user_config_file
    from kafkalab.tui.lesson_control import LessonLibrary

    try:
        library = LessonLibrary.load(lessons_dir)
    except KafkaError as exc:
        print(f"kafkalab: {exc}", file=sys.stderr)
        return 2
    latency_ms = ONE_HOST_LATENCY_MS if link_latency_ms is None else link_latency_ms
    return _run(lambda: EngineBridge.open(data_dir, brokers=brokers, fresh=fresh, mode=mode, controllers=controllers,
                                          custom_partitioner=custom_partitioner, listen=listen,
                                          link_latency_ms=latency_ms),
                lambda bridge: KafkaLabApp(bridge, lessons=library, config_file=user_config_file()))


@_started_without_collection
def run_lesson(lesson: Lesson, catalog: Catalog, home_dir: Path) -> int:
    """Open the TUI straight into ``lesson``, on a fresh cluster of its own; ``home_dir`` is the user's cluster."""
    from kafkalab.cluster.datadir import default_lesson_clusters_dir
    from kafkalab.errors import KafkaError
    from kafkalab.lessons.progress import Progress
    from kafkalab.tui.app import KafkaLabApp
    from kafkalab.tui.bridge import EngineBridge
    from kafkalab.tui.keymap import user_config_file
    from kafkalab.tui.lesson_control import LessonLibrary

    try:
        library = LessonLibrary(Progress.load(), default_lesson_clusters_dir(), catalog)
    except KafkaError as exc:
        print(f"kafkalab: {exc}", file=sys.stderr)
        return 2
    spec = lesson.cluster
    return _run(lambda: EngineBridge.open(library.cluster_dir(lesson.id), brokers=spec.brokers, fresh=True,
                                          seed=spec.seed, broker_config=spec.config),
                lambda bridge: KafkaLabApp(bridge, lessons=library, home_dir=home_dir, lesson=lesson,
                                           config_file=user_config_file()))


@_started_without_collection
def run_play(scenario: Scenario, speed: float, custom_partitioner: str | None = None) -> int:
    """Play ``scenario`` in the TUI on a fresh temporary cluster built to its spec, removed afterwards."""
    from kafkalab.tui.app import KafkaLabApp
    from kafkalab.tui.bridge import EngineBridge
    from kafkalab.tui.keymap import user_config_file

    temporary = Path(tempfile.mkdtemp(prefix="kafkalab-play-"))
    spec = scenario.cluster
    try:
        return _run(lambda: EngineBridge.open(temporary / "data", brokers=spec.brokers, seed=spec.seed,
                                              broker_config=spec.config, speed=speed,
                                              custom_partitioner=custom_partitioner),
                    lambda bridge: KafkaLabApp(bridge, scenario=scenario, config_file=user_config_file()))
    finally:
        shutil.rmtree(temporary, ignore_errors=True)


@_started_without_collection
def run_attach(bootstrap: str, properties: dict[str, str], interval_s: float, allow_writes: bool) -> int:
    """The TUI on the real Kafka cluster at ``bootstrap`` (``properties``: the client's, from --command-config);
    2 if it cannot attach."""
    from kafkalab.attach.client import AttachError
    from kafkalab.tui.app import KafkaLabApp
    from kafkalab.tui.attach_bridge import AttachBridge
    from kafkalab.tui.keymap import user_config_file

    try:
        bridge = AttachBridge.open(bootstrap, properties, interval_s=interval_s, allow_writes=allow_writes)
    except AttachError as exc:
        print(f"kafkalab: {exc}", file=sys.stderr)
        return 2
    return _run(lambda: bridge, lambda opened: KafkaLabApp(opened, config_file=user_config_file()))
