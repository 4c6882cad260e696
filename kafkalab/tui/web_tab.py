"""One browser tab of ``kafkalab web``: the TUI on a cluster of the tab's own, in the process textual-serve starts for it.

The server (``kafkalab/tui/web.py``) starts this once per tab, so tabs share nothing but the data dir they may be
given. A data dir another tab (or a terminal) holds cannot be opened twice (its lock, ``kafkalab/cluster/datadir.py``):
the tab then says so in the terminal app's own words and offers the fresh temporary cluster it opened instead, as a
dialog over the lab rather than a message on a standard error no browser shows. Temporary clusters (no data dir,
a lesson, or the offered one) live in a folder removed when the tab closes.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from kafkalab.errors import KafkaError
from kafkalab.tui import _run
from kafkalab.tui.app import KafkaLabApp
from kafkalab.tui.bridge import EngineBridge
from kafkalab.tui.keymap import user_config_file
from kafkalab.tui.lesson_control import LessonLibrary


@dataclass(frozen=True)
class TabOptions:
    """What every tab of one ``kafkalab web`` opens: the TUI's own options, plus the lesson a class follows."""

    data_dir: Path | None
    brokers: int | None
    lessons_dir: Path | None
    custom_partitioner: str | None
    #: Whether each tab opens a Kafka listener (on free ports, as tabs would fight over fixed ones).
    listen: bool
    lesson_id: str | None = None
    #: For a new cluster (a data dir keeps its own): ``zookeeper`` or ``kraft``, and KRaft's controller count.
    mode: str | None = None
    controllers: int | None = None


class InUseScreen(ModalScreen[bool]):
    """Why the tab's cluster is not the data dir asked for, and the fresh temporary one offered instead."""

    BINDINGS = [
        Binding("escape", "dismiss(True)", "use it", id="in_use.accept", tooltip="Use the fresh temporary cluster."),
    ]

    def __init__(self, reason: str) -> None:
        super().__init__()
        self._reason = reason

    def compose(self) -> ComposeResult:
        with Vertical(id="in-use-body") as body:
            body.border_title = "data dir in use"
            yield Static(f"kafkalab: {self._reason}", id="in-use-reason", markup=False)
            yield Static("This tab has a fresh temporary cluster of its own instead, removed when the tab closes.",
                         id="in-use-offer")
            with Horizontal(classes="form-buttons"):
                yield Button("Use a fresh temporary cluster", variant="primary", id="in-use-accept")
                yield Button("Close this tab", id="in-use-close")

    def on_mount(self) -> None:
        self.query_one("#in-use-accept", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "in-use-accept")


class WebTabApp(KafkaLabApp):
    """The lab, opening with ``InUseScreen`` when the data dir asked for was unusable."""

    def __init__(self, bridge: EngineBridge, unusable: str | None, **options: Any) -> None:
        """``unusable``: why the data dir asked for did not open (None: it did, or none was asked for)."""
        super().__init__(bridge, **options)
        self._unusable = unusable

    def on_mount(self) -> None:
        super().on_mount()
        if self._unusable is not None:
            self.push_screen(InUseScreen(self._unusable), self._in_use_answered)

    async def _in_use_answered(self, accepted: bool | None) -> None:
        if not accepted:
            await self.action_quit()


def run_tab(options: TabOptions) -> int:
    """Run one tab's lab until the browser closes it (textual-serve then asks the app to quit); remove its temporary
    data. 2 if even a temporary cluster cannot open, or the lesson is unknown."""
    temporary = Path(tempfile.mkdtemp(prefix="kafkalab-web-"))
    try:
        return _run_in(temporary, options)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)


def _run_in(temporary: Path, options: TabOptions) -> int:
    from kafkalab.lessons.catalog import load_catalog
    from kafkalab.lessons.progress import Progress
    from kafkalab.sim.network import ONE_HOST_LATENCY_MS

    listen = ("127.0.0.1", 0) if options.listen else None
    config_file = user_config_file()
    if options.lesson_id is not None:
        catalog = load_catalog(options.lessons_dir)
        lesson = catalog.get(options.lesson_id)
        if lesson is None:
            print(f"kafkalab: no lesson {options.lesson_id!r}", file=sys.stderr)
            return 2
        # A class: every tab its own lesson cluster and its own progress, so tabs never meet.
        library = LessonLibrary(Progress(temporary / "progress.json"), temporary / "lesson-clusters", catalog)
        spec = lesson.cluster
        return _run(lambda: EngineBridge.open(library.cluster_dir(lesson.id), brokers=spec.brokers, fresh=True,
                                              seed=spec.seed, broker_config=spec.config, listen=listen,
                                              mode=spec.mode, controllers=spec.controllers),
                    lambda bridge: WebTabApp(bridge, None, lessons=library, home_dir=temporary / "cluster",
                                             lesson=lesson, config_file=config_file))
    try:
        library = LessonLibrary.load(options.lessons_dir)
    except KafkaError as exc:
        print(f"kafkalab: {exc}", file=sys.stderr)
        return 2
    unusable: list[str] = []

    def open_bridge() -> EngineBridge:
        # A tab's own cluster has the links `kafkalab`'s has (brokers on one host, ``run_tui``).
        if options.data_dir is not None:
            try:
                return EngineBridge.open(options.data_dir, brokers=options.brokers,
                                         custom_partitioner=options.custom_partitioner, listen=listen,
                                         mode=options.mode, controllers=options.controllers,
                                         link_latency_ms=ONE_HOST_LATENCY_MS)
            except KafkaError as exc:
                unusable.append(str(exc))
        return EngineBridge.open(temporary / "cluster", brokers=options.brokers,
                                 custom_partitioner=options.custom_partitioner, listen=listen, mode=options.mode,
                                 controllers=options.controllers, link_latency_ms=ONE_HOST_LATENCY_MS)

    return _run(open_bridge, lambda bridge: WebTabApp(bridge, unusable[0] if unusable else None, lessons=library,
                                                      config_file=config_file))
