"""The kafkalab app: screens as modes, keys from the command registry, frames from the engine bridge.

The app owns the UI's state (the latest frame, the selection, event and throughput
history) and hands each frame to the visible screen only. Everything the user does to
the cluster becomes an action of the shared vocabulary, submitted through the bridge,
so the session's recorder can replay it as a scenario. Lessons and played scenarios
run on the engine thread; the app forwards the user's commands and shows their state.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable
from concurrent.futures import Future as ThreadFuture
from dataclasses import replace
from itertools import count
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.widget import Widget

from kafkalab.events.failures import ProcessFailed, ReplicaFetchFailed
from kafkalab.events.journal import Event
from kafkalab.tui.closing import ClosingScreen
from kafkalab.tui.collector import CollectorTuning
from kafkalab.tui.commands import ActionSpec, Values, bindings, needs_form, spec_for
from kafkalab.tui.frames import Frame
from kafkalab.tui.help import HelpScreen
from kafkalab.tui.history import EventHistory, ThroughputHistory
from kafkalab.tui.keymap import bindings_by_id, load_keymap
from kafkalab.tui.lesson_control import LessonControl, LessonLibrary
from kafkalab.tui.messages import ActionFinished, EngineFailed, FrameReady
from kafkalab.tui.palette import LabCommands
from kafkalab.tui.prompt import TextPrompt
from kafkalab.tui.screens.base import TALL_ROWS, WIDE_COLUMNS, LabScreen
from kafkalab.tui.screens.dashboard import DashboardScreen
from kafkalab.tui.selection import Selection
from kafkalab.tui.widgets.lesson_panel import LessonPanel

if TYPE_CHECKING:
    from kafkalab.actions.base import Action
    from kafkalab.lessons.model import Lesson
    from kafkalab.scenarios.model import Scenario
    from kafkalab.tui.attach_bridge import Bridge
    from kafkalab.tui.forms import Submitted, Texts

THEMES = ("textual-dark", "textual-light")
#: Screen 4 shows what coordinates the cluster: the znode tree in ZooKeeper mode, the quorum in KRaft mode.
COORDINATION_SCREENS = {"zookeeper": "zookeeper", "kraft": "quorum"}
#: At most this many failures of one frame get a notification each; the rest are counted in one.
MAX_FAILURE_NOTICES = 3


def _on_first_visit(module: str, name: str) -> Callable[[], LabScreen]:
    """A mode's screen, its module imported when the mode is first shown.

    The app opens on the dashboard; importing the other ten screens with it cost start-up 50-70 ms
    before the cluster could be drawn (issue 18). A first visit composes its screen anyway (150 ms and more).
    """

    def make() -> LabScreen:
        screen: type[LabScreen] = getattr(importlib.import_module(f"kafkalab.tui.screens.{module}"), name)
        return screen()

    return make


class KafkaLabApp(App[None]):
    """A live, teachable picture of an in-process Kafka cluster."""

    CSS_PATH = "app.tcss"
    TITLE = "kafkalab"
    BINDINGS: ClassVar[list[BindingType]] = bindings()
    COMMANDS = App.COMMANDS | {LabCommands}
    MODES: ClassVar[dict[str, Any]] = {
        "dashboard": DashboardScreen,
        "replication": _on_first_visit("replication", "ReplicationScreen"),
        "groups": _on_first_visit("groups", "GroupsScreen"),
        "zookeeper": _on_first_visit("zookeeper", "ZookeeperScreen"),
        "quorum": _on_first_visit("quorum", "QuorumScreen"),
        "events": _on_first_visit("events", "EventsScreen"),
        "records": _on_first_visit("records", "RecordsScreen"),
        "throughput": _on_first_visit("throughput", "ThroughputScreen"),
        "clients": _on_first_visit("clients", "ClientsScreen"),
        "transactions": _on_first_visit("transactions", "TransactionsScreen"),
        "configs": _on_first_visit("configs", "ConfigsScreen"),
    }
    DEFAULT_MODE = "dashboard"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (WIDE_COLUMNS, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (TALL_ROWS, "-tall")]

    def __init__(self, bridge: Bridge, *, theme: str = THEMES[0], lessons: LessonLibrary | None = None,
                 home_dir: Path | None = None, lesson: Lesson | None = None, scenario: Scenario | None = None,
                 config_file: Path | None = None) -> None:
        """``lessons`` defaults to the built-in ones and the user's progress; ``home_dir`` (the cluster a learner
        goes back to) to the bridge's; ``lesson`` runs on the bridge's cluster, ``scenario`` plays on it;
        ``config_file`` holds the user's keymap (None: the default keys)."""
        super().__init__()
        self.bridge = bridge
        self.config_file = config_file
        #: Binding id to the keys the user's config file gives it (Textual's spelling, comma-separated).
        self.user_keymap: dict[str, str] = {}
        self._initial_theme = theme
        self._initial_lesson = lesson
        self._scenario = scenario
        #: The newest frame from the engine (None until the cluster has started).
        self.frame: Frame | None = None
        self.selection = Selection()
        self.events = EventHistory()
        self.throughput = ThroughputHistory()
        self.lessons = LessonControl(bridge, self.post_message, lessons, home_dir or bridge.opened_dir)
        #: Whether the user unfolded (True) or folded (False) the lesson or scenario panel with ``t``; None
        #: until they do, and the panel unfolds on wide terminals only.
        self.side_panel_choice: bool | None = None
        self._contexts: tuple[bool, bool, bool] = (False, False, False)
        #: The lesson step (cluster generation, lesson, step) whose topic was last selected.
        self._followed_step: tuple[int, str, int] | None = None
        #: True once the engine stopped (``EngineFailed``): the screen shows the last frame, frozen.
        self.engine_stopped = False
        #: Actions sent from a form and not finished yet, with the form's spec and texts: a failed one's form
        #: opens again with what was typed.
        self._from_forms: list[tuple[Action, ActionSpec, Texts]] = []
        self._collector = CollectorTuning()

    # -- engine ------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.theme = self._initial_theme
        if self.config_file is not None:
            self._apply_keymap(self.config_file)
        self.bridge.start(self.post_message)
        if self._initial_lesson is not None:
            self.bridge.host_lesson(self._initial_lesson)
        if self._scenario is not None:
            self.bridge.play(self._scenario)

    def on_unmount(self) -> None:
        self.bridge.close()
        self._collector.release()

    def on_frame_ready(self, message: FrameReady) -> None:
        frame = message.frame
        self.bridge.acknowledge(frame)
        if self.frame is None:
            self._collector.apply()
        if self.frame is not None and frame.generation != self.frame.generation:
            # Another cluster: its events, rates and topics have nothing to do with the last one's.
            self.events.reset()
            self.throughput.reset()
            self.selection = Selection()
        self._notify_failures(self.events.extend(frame.events))
        self.throughput.add(frame.view)
        self.frame = frame
        self.lessons.observe(frame)
        self._follow_lesson(frame)
        contexts = (frame.lesson is not None, frame.play is not None, frame.recording)
        if contexts != self._contexts:
            self._contexts = contexts
            self.refresh_bindings()
        coordination = COORDINATION_SCREENS.get(frame.view.mode)
        if self.current_mode in COORDINATION_SCREENS.values() and coordination not in (None, self.current_mode):
            self.switch_mode(coordination)  # another cluster, in the other mode (a lesson's, or back home)
        settled = self.selection.settled(frame.view)
        if settled != self.selection:
            self.selection = settled
            self.request_frame()
        self.redraw()

    def _follow_lesson(self, frame: Frame) -> None:
        """When a lesson step begins, select the topic it is about (once it exists), so the lanes show it."""
        state = frame.lesson
        if state is None or state.setting_up:
            return
        step = (frame.generation, state.lesson_id, state.step)
        lesson = self.lessons.content(state)
        if step == self._followed_step or lesson is None:
            return
        topics = [topic for topic in lesson.steps[state.step].topics() if frame.view.topic(topic) is not None]
        if topics:
            self._followed_step = step
            self.select(topic=topics[0])

    def redraw(self) -> None:
        """Draw the newest frame on the visible view."""
        screen = self.lab_screen
        # A frame can arrive before the first screen has composed its widgets; it draws on mount.
        # Frames keep arriving while the app shuts down; a detached screen has lost its widgets.
        if (self.is_running and screen is not None and screen.ready and screen.is_attached
                and self.frame is not None):
            with self.batch_update():
                screen.show_frame(self.frame, self.selection)

    def on_action_finished(self, message: ActionFinished) -> None:
        outcome = message.outcome
        step = outcome.action.step
        error, result = outcome.error, outcome.result
        typed = next((entry for entry in self._from_forms if entry[0] is outcome.action), None)
        if typed is not None:
            self._from_forms.remove(typed)
        if error is not None:
            self.notify(error.message, title=f"{error.name} ({step})", severity="error", timeout=10, markup=False)
            if typed is not None and self.screen is self.lab_screen:
                # Never over a dialog the user opened meanwhile; the notification says what failed either way.
                self.open_form(typed[1], dict(typed[2]))
            return
        assert result is not None  # an outcome without an error has its result
        from kafkalab.tui.results import focus, result_text  # with the vocabulary, which the action loaded

        text = result_text(result)
        self.notify(text if len(text) < 300 else text[:297] + "...", title=f"{step}: ok", markup=False)
        target = focus(result)
        if target is not None:
            self.select(topic=target.topic, partition=target.partition)

    def _notify_failures(self, events: list[Event]) -> None:
        """Say when something in the engine stopped: a process nobody watched, or one partition's replication."""
        failures = [event for event in events if isinstance(event, ProcessFailed)
                    or (isinstance(event, ReplicaFetchFailed) and not event.retrying)]
        for event in failures[:MAX_FAILURE_NOTICES]:
            bug = isinstance(event, ProcessFailed) and event.bug
            self.notify(event.describe(), title="kafkalab bug: a process stopped" if bug else "something stopped",
                        severity="error" if isinstance(event, ProcessFailed) else "warning", timeout=20, markup=False)
        if len(failures) > MAX_FAILURE_NOTICES:
            self.notify(f"{len(failures) - MAX_FAILURE_NOTICES} more failure(s): see the events view (5).",
                        title="something stopped", severity="error", timeout=20, markup=False)

    def on_engine_failed(self, message: EngineFailed) -> None:
        failure = message.failure
        if self.engine_stopped:
            self.notify(f"Nothing runs any more: the engine stopped on {failure.error_name}. Quit with q and "
                        f"start kafkalab again.", title="the engine stopped", severity="error", timeout=5, markup=False)
            return
        self.engine_stopped = True
        where = f" (at {failure.where})" if failure.bug and failure.where else ""
        self.notify(f"{failure.error_name}: {failure.message}{where}. Nothing you do runs from now on: quit with q "
                    f"and start kafkalab again; the data directory keeps what was flushed.",
                    title="the engine stopped", severity="error", timeout=60, markup=False)
        if self.frame is not None:
            # The last frame stays on screen, its clock marked as stopped rather than running.
            self.frame = replace(self.frame, clock=replace(self.frame.clock, stopped=True))
            self.redraw()

    @property
    def lab_screen(self) -> LabScreen | None:
        """The view under any open dialog."""
        for screen in reversed(self.screen_stack):
            if isinstance(screen, LabScreen):
                return screen
        return None

    def side_panel(self) -> Widget | None:
        """The lesson or scenario panel when one shows, for dialogs to stay clear of."""
        screen = self.lab_screen
        if screen is None:
            return None
        return next((panel for panel in screen.query("#lesson-panel, #play-panel") if panel.display), None)

    def screen_shown(self, screen: LabScreen) -> None:
        """A view became visible: ask for its close-ups and draw what we have."""
        self.request_frame()
        self.redraw()

    def request_frame(self) -> None:
        """Tell the engine what the visible view needs now; a fresh frame follows."""
        screen = self.lab_screen
        if screen is not None and screen.ready:
            self.bridge.request(screen.frame_request(self.selection))

    def select(self, topic: str | None = None, partition: int | None = None, broker: int | None = None) -> None:
        """Change the shared selection (a new topic starts at partition 0)."""
        selection = self.selection
        if topic is not None and topic != selection.topic:
            selection = Selection(topic, 0, selection.broker)
        if partition is not None:
            selection = replace(selection, partition=partition)
        if broker is not None:
            selection = replace(selection, broker=broker)
        if self.frame is not None:
            selection = selection.settled(self.frame.view)
        if selection != self.selection:
            self.selection = selection
            self.request_frame()
            self.redraw()

    async def settle(self, step_ms: float = 0.0, timeout: float = 30.0) -> Frame:
        """Wait until the engine ran all submitted work (plus ``step_ms`` of virtual time) and the view shows it."""
        if step_ms:
            self.bridge.step(step_ms)
        for _ in range(5):
            number = await asyncio.wait_for(asyncio.wrap_future(self.bridge.sync()), timeout)
            while self.frame is None or self.frame.number < number:
                await asyncio.sleep(0.005)
            screen = self.lab_screen
            if screen is None or self.frame.request == screen.frame_request(self.selection):
                break
            self.request_frame()
        assert self.frame is not None
        return self.frame

    # -- actions -----------------------------------------------------------------------

    def refused(self, step: str) -> bool:
        """Say why ``step`` cannot run on the attached cluster, if it cannot (the palette reaches every action)."""
        reason = self.bridge.unavailable("start_action", (step,))
        if reason is not None:
            self.notify(reason, title=f"{step}: not on this cluster", severity="warning", markup=False)
        return reason is not None

    def perform(self, spec: ActionSpec, values: Values) -> None:
        """Run ``spec``'s action with ``values``, asking for the missing ones in a form."""
        if self.refused(spec.step):
            return
        if needs_form(spec.action_type, values):
            self.open_form(spec, values)
            return
        try:
            action = spec.action_type(**values)
        except (TypeError, ValueError) as exc:
            self.notify(str(exc), title="INVALID_ARGUMENT", severity="error", markup=False)
            return
        self.submit(action)

    def open_form(self, spec: ActionSpec, values: Values) -> None:
        """Ask for ``spec``'s action in a form that starts with ``values``."""
        # Forms, the lesson browser and the scenario player load when first used: with the scenario validator and
        # PyYAML under them they delayed the first paint (issue 18).
        from kafkalab.tui.forms import ActionForm

        choices = spec.choices(self.frame) if spec.choices is not None and self.frame is not None else None
        self.push_screen(ActionForm(spec, values, self.side_panel(), choices),
                         lambda submitted: self._submit_from_form(spec, submitted))

    def _submit_from_form(self, spec: ActionSpec, submitted: Submitted | None) -> None:
        if submitted is not None:
            self._from_forms.append((submitted.action, spec, submitted.texts))
            self.submit(submitted.action)

    def submit(self, action: Action) -> None:
        """Send ``action`` to the engine; its outcome arrives as a notification."""
        self.bridge.execute(action)

    def action_start_action(self, step: str) -> None:
        """Open the form of vocabulary action ``step``, filled in from the selection."""
        if self.refused(step):
            return
        spec = spec_for(step)
        self.open_form(spec, spec.prefill(self.selection, self.frame) if self.frame is not None else {})

    def action_show_screen(self, mode: str) -> None:
        if mode in COORDINATION_SCREENS.values() and self.frame is not None:
            mode = COORDINATION_SCREENS.get(self.frame.view.mode, mode)
        if mode in self.MODES and mode != self.current_mode:
            self.switch_mode(mode)

    def action_toggle_pause(self) -> None:
        if self.frame is not None and self.frame.play is not None:
            from kafkalab.tui.player import ScenarioPlayer

            self.bridge.on_player(ScenarioPlayer.toggle)
        else:
            self.bridge.toggle_pause()

    def action_step_clock(self, duration_ms: float) -> None:
        self.bridge.step(duration_ms)

    def action_change_speed(self, steps: int) -> None:
        self.bridge.change_speed(steps)

    def action_move_selection(self, partitions: int, topics: int) -> None:
        if self.frame is not None:
            moved = self.selection.moved(self.frame.view, partitions, topics)
            self.select(moved.topic, moved.partition)

    def action_next_replica(self) -> None:
        if self.frame is None:
            return
        partition = self.selection.partition_view(self.frame.view)
        current = self.selection.replica(self.frame.view)
        if partition is not None and current is not None:
            replicas = list(partition.replicas)
            self.select(broker=replicas[(replicas.index(current) + 1) % len(replicas)])

    def action_help(self) -> None:
        screen = self.lab_screen
        own = list({active.binding.id: active.binding for active in self.screen.active_bindings.values()
                    if active.node is not self and active.binding.id and not active.binding.id.startswith(
                        ("screen.", "clock.", "select.", "app."))}.values()) if screen is not None else []
        self.push_screen(HelpScreen(own, self.current_keys(), self.config_file))

    # -- keys --------------------------------------------------------------------------

    def _apply_keymap(self, config_file: Path) -> None:
        """Give bindings the user's keys from ``config_file``; say what in it is wrong (the rest applies)."""
        app_keys = {binding.id: binding.key for binding in bindings() if isinstance(binding, Binding) and binding.id}
        user = load_keymap(config_file, app_keys)
        self.user_keymap = user.as_keymap()
        self.set_keymap(self.user_keymap)
        for problem in user.problems:
            self.notify(problem, title="your keymap", severity="warning", timeout=30, markup=False)

    def current_keys(self) -> dict[str, str]:
        """Binding id to the keys that run it, as the footer shows them (the user's keymap applied); a binding
        whose key the keymap gave another has none."""
        shown: dict[str, str] = {}
        for binding_id, key_bindings in bindings_by_id(self.user_keymap).items():
            displays = dict.fromkeys(self.get_key_display(binding) for binding in key_bindings)
            shown[binding_id] = " ".join(displays)
        return shown

    # -- lessons, plays and recordings -------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Lesson, play and recording commands apply only while there is a lesson, a play, a recording; attached
        to a real cluster, what needs the lab is shown disabled (None)."""
        if self.bridge.unavailable(action, parameters) is not None:
            return None
        frame = self.frame
        lesson = frame is not None and frame.lesson is not None
        play = frame is not None and frame.play is not None
        recording = frame is not None and frame.recording
        available = {"lesson": lesson, "toggle_panel": lesson or play, "play_step": play,
                     "start_recording": frame is not None and not recording, "save_recording": recording}
        return available.get(action, True)

    def track(self, future: ThreadFuture[Any], failure: str) -> None:
        """Tell the user if ``future`` (engine work they asked for) fails."""

        async def wait() -> None:
            try:
                await asyncio.wrap_future(future)
            except Exception as exc:
                self.notify(str(exc), title=failure, severity="error", timeout=20, markup=False)

        self.run_worker(wait(), group="engine-work")

    def action_browse_lessons(self) -> None:
        from kafkalab.tui.screens.lesson_browser import LessonBrowser

        current = self.frame.lesson.lesson_id if self.frame is not None and self.frame.lesson is not None else None
        self.push_screen(LessonBrowser(self.lessons.library, current), self._lesson_chosen)

    def _lesson_chosen(self, lesson_id: str | None) -> None:
        if lesson_id is not None:
            self.lessons.start(lesson_id)

    def action_lesson(self, command: str) -> None:
        self.lessons.command(command)

    def on_lesson_control_notice(self, message: LessonControl.Notice) -> None:
        self.notify(message.text, title=message.title, severity=message.severity, markup=False)

    def on_lesson_control_switching(self, message: LessonControl.Switching) -> None:
        if message.into_lesson:
            self.side_panel_choice = None
        self.track(message.work, message.failure)

    def on_lesson_control_solution_toggled(self, message: LessonControl.SolutionToggled) -> None:
        self.redraw()

    def on_lesson_panel_predicted(self, message: LessonPanel.Predicted) -> None:
        self.lessons.predict(message.index)

    def side_panel_unfolded(self) -> bool:
        """Whether the lesson or scenario panel shows whole beside the views (else folded: a strip, or hidden)."""
        if self.side_panel_choice is not None:
            return self.side_panel_choice
        return self.size.width >= WIDE_COLUMNS

    def action_toggle_panel(self) -> None:
        self.side_panel_choice = not self.side_panel_unfolded()
        self.redraw()

    def action_play_step(self) -> None:
        from kafkalab.tui.player import ScenarioPlayer

        self.bridge.on_player(ScenarioPlayer.one_step)

    def action_start_recording(self) -> None:
        self.bridge.start_recording()
        self.notify("Every action from now on is recorded; \"session: stop recording and save\" writes it as a "
                    "scenario.", title="recording", markup=False)

    def action_save_recording(self) -> None:
        default = next(f"recording-{n}.yaml" for n in count(1) if not Path(f"recording-{n}.yaml").exists())
        self.push_screen(TextPrompt("session: stop recording and save", "The recording is written as a scenario "
                                    "file that `kafkalab run FILE` replays. Path (relative to the current directory):",
                                    default, "Save", _unusable_path, self.side_panel()),
                         self._save_recording)

    def _save_recording(self, path_text: str | None) -> None:
        if path_text is None:
            return
        path = Path(path_text).expanduser()

        async def save() -> None:
            try:
                text = await asyncio.wrap_future(self.bridge.stop_recording(path.stem))
                path.write_text(text)
            except (OSError, RuntimeError) as exc:
                self.notify(str(exc), title="recording not saved", severity="error", timeout=20, markup=False)
                return
            self.notify(f"Saved to {path}; replay it with `kafkalab run {path}`.", title="recording", markup=False)

        self.run_worker(save(), group="engine-work")

    def action_toggle_theme(self) -> None:
        self.theme = THEMES[1] if self.theme == THEMES[0] else THEMES[0]

    async def action_quit(self) -> None:
        if isinstance(self.screen, ClosingScreen):
            return  # already quitting
        await self.push_screen(ClosingScreen())
        await asyncio.to_thread(self.bridge.close)
        self.exit()


def _unusable_path(text: str) -> str | None:
    """Why a recording cannot be saved to ``text`` (None if it can)."""
    if not text:
        return "Give a file name, e.g. recording-1.yaml."
    path = Path(text).expanduser()
    if path.exists():
        return f"{path} exists; choose another name."
    if not path.parent.is_dir():
        return f"There is no folder {path.parent}."
    return None
