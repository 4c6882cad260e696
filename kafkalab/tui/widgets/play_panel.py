"""The scenario panel beside the live views while ``kafkalab play`` runs: every step, and the current one's outcome."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from kafkalab.tui.expectations import check_line
from kafkalab.tui.flow import flow
from kafkalab.tui.frames import ClockState, PlayState

if TYPE_CHECKING:
    from kafkalab.scenarios.model import Step
    from kafkalab.scenarios.runner import StepReport

KEYS = "␣ play/pause · o one step · + - speed"
#: Events shown under a step's outcome; high-watermark moves would drown the rest.
EVENTS_SHOWN = 6
QUIET_KINDS = frozenset({"hw"})


def step_line(step: Step) -> str:
    """A step as one line of YAML: ``kill_broker {broker: 1}``."""
    name, values = next(iter(step.action.as_step().items()))
    return f"{name} {flow(values)}".strip()


def play_status(state: PlayState, clock: ClockState) -> Text:
    """Playing, paused, waiting for the next single step, or finished (passed or failed)."""
    done = len(state.reports)
    total = len(state.steps)
    if state.finished:
        verdict = ("■ PASSED", "bold green") if state.ok else ("■ FAILED", "bold red")
        return Text.assemble(verdict, f"  {done} of {total} steps ran")
    if state.holding:
        mode = ("⏭ stepped: o runs the next step, space plays on", "bold yellow")
    elif clock.paused:
        mode = ("⏸ paused: space plays, o runs one step", "bold yellow")
    else:
        mode = (f"▶ playing at {clock.speed:g}x", "bold green")
    return Text.assemble(mode, f"\n{done} of {total} steps done")


def steps_text(state: PlayState) -> Text:
    """Every step with a mark: ✓ passed, ✗ failed, ▶ running, · to come."""
    text = Text()
    for step in state.steps:
        if step.index < len(state.reports):
            mark, style = ("✓", "green") if state.reports[step.index].ok else ("✗", "bold red")
        elif step.index == state.current:
            mark, style = "▶", "bold"
        else:
            mark, style = "·", "dim"
        text.append(f"{mark} {step.index:>2} ", style)
        text.append(step_line(step) + "\n", style if mark != "✓" else "")
    text.rstrip()
    return text


def _result_text(report: StepReport) -> Text:
    # The results load with the vocabulary the played steps are from, not with the panel (issue 18).
    from kafkalab.actions.results import ExpectResult, NoteResult
    from kafkalab.tui.results import result_text

    result = report.result
    text = Text()
    if result is None or isinstance(result, NoteResult):
        # A failed step's error is shown above; a note's text is the narration.
        return text
    if isinstance(result, ExpectResult):
        for check in result.checks:
            text.append_text(check_line(check, live=False))
            text.append("\n")
        return text
    shown = result_text(result)
    text.append((shown if len(shown) <= 300 else shown[:297] + "...") + "\n", "dim")
    return text


def outcome_text(state: PlayState) -> Text:
    """The running step, or the last one that ran: what it did, its errors, checks and the events it caused."""
    index = state.current if state.current is not None else len(state.reports) - 1
    if index < 0:
        return Text("Starting ...", style="italic")
    step = state.steps[index]
    # An expect step's checks are listed below with their outcome.
    text = Text.assemble((f"Step {index}: ", "bold"), "expect" if step.action.step == "expect" else step_line(step),
                         "\n")
    if index >= len(state.reports):
        text.append("running ...", "italic")
        return text
    report = state.reports[index]
    if not report.ok:
        text.append(f"FAILED: {report.problem}\n", "bold red")
    elif report.error is not None:
        expected = "as expected" if step.expect_error else "allowed"
        text.append(f"ok: {report.error} {expected}\n", "bold green")
        text.append(f"{report.message}\n", "dim")
    else:
        text.append("ok\n", "bold green")
    text.append_text(_result_text(report))
    events = [sentence for kind, sentence in report.events if kind not in QUIET_KINDS]
    for sentence in events[:EVENTS_SHOWN]:
        text.append(f"· {sentence}\n", "dim")
    if len(events) > EVENTS_SHOWN:
        text.append(f"  and {len(events) - EVENTS_SHOWN} more events (5 lists them)\n", "dim")
    text.rstrip()
    return text


class PlayPanel(VerticalScroll):
    """The scenario being played, kept in step with the engine's ``PlayState``."""

    DEFAULT_CSS = """
    PlayPanel { background: $surface; padding: 0 0 0 1; scrollbar-gutter: stable; scrollbar-size-vertical: 1; }
    PlayPanel #play-outcome { margin: 1 0; }
    PlayPanel #play-steps { text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: tuple[PlayState, ClockState] | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="play-status")
        yield Static(id="play-outcome")
        yield Static(id="play-steps")

    def show(self, state: PlayState, clock: ClockState) -> None:
        """Draw ``state`` (only what changed since the last call)."""
        shown = (state, clock)
        if shown == self._shown:
            return
        previous, self._shown = self._shown, shown
        self.border_title = Text(f"scenario: {state.scenario}")  # the file's name for it, never markup
        self.border_subtitle = KEYS
        self.query_one("#play-status", Static).update(play_status(state, clock))
        if previous is None or previous[0] != state:
            self.query_one("#play-steps", Static).update(steps_text(state))
            self.query_one("#play-outcome", Static).update(outcome_text(state))
