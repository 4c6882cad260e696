"""The lesson panel beside the live views: the step's text, its goal ticking live, hints, solution, explanation.

A prediction step first asks its question with numbered choices; once the goal is met
the panel says, right under the step's title, whether the learner was right, which answer
was, and why, then what just happened. Folded, the panel is a strip of three lines under
the views: the step, what to do (or that the goal is met) and the goal, so a small
terminal keeps the views whole. Texts are Markdown, drawn with Rich; the widgets update
only when what they show changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from kafkalab.tui.expectations import check_line
from kafkalab.tui.flow import flow
from kafkalab.tui.frames import LessonState
from kafkalab.tui.markdown import markdown
from kafkalab.tui.prose import prose
from kafkalab.tui.widgets.prediction_choices import PredictionChoices

if TYPE_CHECKING:
    from kafkalab.lessons.model import Lesson, LessonStep, StepText

KEYS = "h hint · s/w solution · n/N step · t fold"
STRIP_KEYS = "t unfold · h hint · s/w solution · n/N step"
PANEL_TITLE = "lesson"


def _heading(text: str, style: str = "bold") -> Text:
    return Text(f"\n{text}", style=style)


def step_body(content: StepText) -> Group:
    """What the learner reads first: the step's Markdown text and its one-line instruction."""
    parts: list[RenderableType] = [markdown(content.text)]
    if content.do:
        parts += [Text(), markdown(f"**▶ {content.do}**")]
    return Group(*parts)


def prediction_text(content: StepText, state: LessonState) -> Text:
    """The question, and what happens to the learner's pick until the goal is met."""
    prediction = content.predict
    if prediction is None:
        return Text()
    text = Text("\nPredict first\n", style="bold")
    text.append_text(prose(prediction.question))
    if state.can_predict:
        text.append(f"\nPick 1-{len(prediction.choices)} (or ↑↓ enter) before you act:", "dim")
    elif state.prediction is not None and not state.met:
        text.append_text(Text.assemble("\nYou predicted: ", prose(prediction.choices[state.prediction].label),
                                       ". Now act and see.", style="italic"))
    elif not state.met:
        text.append("\nYou acted before predicting; the answer shows when the goal is met.", "dim")
    return text


def solution_text(step: LessonStep) -> Text:
    """The solution's actions as the YAML steps they are."""
    lines = []
    for solution_step in step.solution:
        name, values = next(iter(solution_step.action.as_step().items()))
        lines.append(f"- {name}: {flow(values)}")
    return Text("\n".join(lines), style="bold")


def status(step: LessonStep, state: LessonState, solution_shown: bool) -> Group:
    """The goal's expectations, problems, hints and the solution if asked for."""
    content = step.content
    if state.setting_up:
        return Group(Text("\nSetting up the lesson's cluster ...", style="italic"))
    parts: list[RenderableType] = [_heading("Goal"), *(check_line(result) for result in state.goal)]
    if state.solution_playing:
        parts.append(Text("▶ playing the solution ...", style="bold"))
    parts.extend(Text(problem, style="bold red") for problem in state.problems)
    for number, hint in enumerate(content.hints[:state.hints_shown], 1):
        parts.append(Text.assemble((f"\nHint {number}: ", "bold"), prose(hint)))
    if solution_shown:
        parts.append(_heading("Solution (w plays it)"))
        parts.append(solution_text(step))
    return Group(*parts)


def explanation(content: StepText, state: LessonState, last: bool) -> Group:
    """What a met goal means: whether the prediction was right and why, then the step's explanation."""
    parts: list[RenderableType] = [Text("✓ Goal met", style="bold green")]
    prediction = content.predict
    if prediction is not None:
        parts += [verdict(content, state), markdown(prediction.why), Text()]
    parts.append(markdown(content.explain))
    parts.append(Text("\nLast step. l lists the lessons." if last else "\nn: next step", style="dim"))
    return Group(*parts)


def verdict(content: StepText, state: LessonState) -> Text:
    """Whether the learner's prediction was right, and the right answer."""
    prediction = content.predict
    assert prediction is not None
    right = (prose(prediction.choices[state.right_choice].label) if state.right_choice is not None
             else Text("none of them holds any more (the cluster has moved on)"))
    if state.prediction is None:
        return Text.assemble("You did not predict. The answer: ", right, ".", style="bold")
    picked = prose(prediction.choices[state.prediction].label)
    if state.prediction == state.right_choice:
        return Text.assemble("You predicted ", picked, ": right!", style="bold green")
    return Text.assemble(Text.assemble("You predicted ", picked, ": not quite. ", style="bold yellow"),
                         Text.assemble("The answer: ", right, ".", style="bold"))


def strip_text(lesson: Lesson, state: LessonState) -> Text:
    """The folded panel's three lines: the step, what to do now, and the goal (its first check not met yet)."""
    content = lesson.steps[state.step].content
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"Step {state.step + 1} of {len(lesson.steps)}: ", "bold")
    text.append_text(prose(content.title, "bold"))
    if state.setting_up:
        text.append("\nSetting up the lesson's cluster ...", "italic")
        return text
    if state.met:
        text.append("\n✓ Goal met: t unfolds the explanation, n goes on.", "bold green")
    elif state.can_predict:
        text.append("\nPredict first: t unfolds the question and its choices.", "bold yellow")
    elif content.do:
        text.append_text(prose(f"\n▶ {content.do}", "bold"))
    else:
        text.append("\nt unfolds the step.", "bold")
    shown = next((result for result in state.goal if not result.ok), state.goal[0] if state.goal else None)
    if shown is not None:
        text.append("\n")
        text.append_text(check_line(shown).split("\n")[0])
    return text


class LessonPanel(VerticalScroll):
    """The current lesson step, kept in step with the engine's ``LessonState``."""

    DEFAULT_CSS = """
    LessonPanel { background: $surface; padding: 0 0 0 1; scrollbar-gutter: stable; scrollbar-size-vertical: 1; }
    LessonPanel > .lesson-progress { color: $text-muted; }
    LessonPanel #lesson-title { text-style: bold; }
    LessonPanel #lesson-step-title { text-style: bold; color: $accent; }
    LessonPanel #lesson-explanation { margin-bottom: 1; border-left: thick $success; padding-left: 1; }
    LessonPanel #lesson-full { height: auto; }
    LessonPanel #lesson-strip { display: none; }
    LessonPanel.-strip { scrollbar-gutter: auto; }
    LessonPanel.-strip #lesson-full { display: none; }
    LessonPanel.-strip #lesson-strip { display: block; }
    """

    class Predicted(Message):
        """The learner picked choice ``index`` of the current step's prediction."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self._step_key: tuple[str, int] | None = None
        self._state: LessonState | None = None
        self._solution_shown = False
        self._folded = False
        self._focus_back: Widget | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="lesson-full"):
            yield Static(id="lesson-title")
            yield Static(id="lesson-progress", classes="lesson-progress")
            yield Static(id="lesson-step-title")
            yield Static(id="lesson-explanation")
            yield Static(id="lesson-text")
            yield Static(id="lesson-question")
            yield PredictionChoices(id="lesson-choices")
            yield Static(id="lesson-status")
        yield Static(id="lesson-strip")

    def show(self, lesson: Lesson, state: LessonState, solution_shown: bool, folded: bool = False) -> None:
        """Draw ``state`` of ``lesson``, whole or ``folded`` to a strip; focus the choices when a prediction opens."""
        step = lesson.steps[state.step]
        content = step.content
        step_key = (lesson.id, state.step)
        if step_key != self._step_key:
            self._step_key = step_key
            # Titles are the lesson file's words, never markup: ``[`` stays a bracket.
            self.query_one("#lesson-title", Static).update(prose(lesson.title))
            self.query_one("#lesson-step-title", Static).update(prose(f"Step {state.step + 1} of {len(lesson.steps)}: "
                                                                       f"{content.title}"))
            self.query_one("#lesson-text", Static).update(step_body(content))
            self.scroll_home(animate=False)
        if state == self._state and solution_shown == self._solution_shown and folded == self._folded:
            return
        previous, self._state, self._solution_shown = self._state, state, solution_shown
        was_folded, self._folded = self._folded, folded
        self.set_class(folded, "-strip")
        # The strip's border names the lesson; the panel beside the views is too narrow for a long title in its
        # border, so there the title wraps on the panel's first line.
        self.border_title = Text(lesson.title) if folded else PANEL_TITLE
        self.border_subtitle = STRIP_KEYS if folded else KEYS
        self.query_one("#lesson-strip", Static).update(strip_text(lesson, state))
        self.query_one("#lesson-progress", Static).update(" ".join(
            "●" if index in state.completed else "◉" if index == state.step else "○"
            for index in range(len(lesson.steps))))
        question = self.query_one("#lesson-question", Static)
        question.display = content.predict is not None
        question.update(prediction_text(content, state))
        choices = self.query_one(PredictionChoices)
        choices.display = state.can_predict
        if content.predict is not None:
            choices.show(tuple(choice.label for choice in content.predict.choices))
        self.query_one("#lesson-status", Static).update(status(step, state, solution_shown))
        explained = self.query_one("#lesson-explanation", Static)
        explained.display = state.met
        explained.update(explanation(content, state, state.step == len(lesson.steps) - 1) if state.met else "")
        self._move_focus(previous, was_folded, state, choices)
        if state.met and (previous is None or not previous.met or previous.step != state.step):
            self.scroll_home(animate=False)

    def _move_focus(self, previous: LessonState | None, was_folded: bool, state: LessonState,
                    choices: PredictionChoices) -> None:
        """Focus the choices when a prediction opens (or unfolds); give focus back when it closes (or folds)."""
        was_open = (previous is not None and previous.can_predict and previous.step == state.step
                    and not was_folded)
        if state.can_predict and not self._folded and not was_open:
            self._focus_back = self.screen.focused
            choices.focus()
        elif (not state.can_predict or self._folded) and choices.has_focus:
            back = self._focus_back
            if back is not None and back.is_attached:
                back.focus()
            else:
                self.screen.focus_next()

    def on_prediction_choices_chosen(self, message: PredictionChoices.Chosen) -> None:
        message.stop()
        self.post_message(self.Predicted(message.index))
