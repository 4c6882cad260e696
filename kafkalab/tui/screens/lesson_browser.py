"""The lesson browser: every lesson in order with its summary, your progress and its prerequisites.

Enter starts the highlighted lesson on a fresh cluster of its own; the user's cluster is
closed, never wiped, and ``lesson: leave`` reopens it. Invalid lesson files are listed
with their ``file:line:column`` problems.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from kafkalab.lessons.model import Lesson
from kafkalab.tui.lesson_control import LessonLibrary

TITLE_WIDTH = 44


def progress_bar(done: int, total: int) -> str:
    """``●●○`` and ``2/3``: one dot per step."""
    return "●" * done + "○" * (total - done) + f" {done}/{total}"


def lesson_option(number: int, lesson: Lesson, library: LessonLibrary) -> Group:
    """Number, title, progress and prerequisites; under them the summary, indented. Nothing is cut: a title too long
    for the width left beside the progress wraps in its column."""
    done = len(library.done_steps(lesson))
    complete = done == len(lesson.steps)
    row = Table.grid(padding=(0, 1))
    row.add_column(width=3, style="dim")
    row.add_column(max_width=TITLE_WIDTH, style="bold")
    row.add_column(width=15, no_wrap=True)
    status = Text(progress_bar(done, len(lesson.steps)), "bold green" if complete else "")
    # Padded to the column, so progress lines up under progress; a narrow terminal wraps the title instead.
    cells: list[RenderableType] = [f"{number:>2}.", Text(lesson.title.ljust(TITLE_WIDTH)), status]
    if lesson.prerequisites:
        missing = library.missing_prerequisites(lesson)
        after = Text.assemble(("after " + ", ".join(lesson.prerequisites), "yellow" if missing else "dim"),
                              (" ✗" if missing else " ✓", "bold yellow" if missing else "green"))
        row.add_column(min_width=max(len(word) for word in after.plain.split()))
        cells.append(after)
    row.add_row(*cells)
    return Group(row, Padding(Text(lesson.summary, style="dim"), (0, 0, 0, 4)))


def lesson_details(lesson: Lesson | None, library: LessonLibrary) -> Group | Text:
    """The highlighted lesson: its steps (done ones ticked), prerequisites, what you did, its file."""
    if lesson is None:
        return Text("No lessons found.", style="dim")
    progress = library.progress_of(lesson.id)
    parts: list[Text] = [Text(lesson.title, style="bold"), Text(lesson.summary)]
    steps = Text()
    for index, step in enumerate(lesson.steps):
        done = index in progress.completed_steps
        steps.append("✓ " if done else "○ ", "bold green" if done else "dim")
        steps.append(f"{index + 1}. {step.content.title}" + ("  (predict first)" if step.content.predict else ""))
        steps.append("\n")
    steps.rstrip()
    parts += [Text(), steps, Text()]
    missing = library.missing_prerequisites(lesson)
    if lesson.prerequisites:
        parts.append(Text(f"Do first: {', '.join(lesson.prerequisites)}"
                          + (f" (not done yet: {', '.join(missing)})" if missing else " (done)"),
                          style="yellow" if missing else "green"))
    if progress.predictions_made or progress.hints_used:
        parts.append(Text(f"Predictions right: {progress.predictions_right} of {progress.predictions_made} · "
                          f"hints used: {progress.hints_used}", style="dim"))
    spec = lesson.cluster
    parts.append(Text(f"Runs on a fresh {spec.brokers}-broker cluster (seed {spec.seed}); yours is kept. "
                      f"File: {Path(lesson.file).name}", style="dim"))
    return Group(*parts)


class LessonBrowser(ModalScreen[str | None]):
    """Choose a lesson; dismisses with its id, or None."""

    BINDINGS = [
        Binding("enter", "start", "start", id="lessons.start", tooltip="Start the highlighted lesson on a fresh "
                                                                        "cluster of its own."),
        Binding("escape,q", "close", "back", id="lessons.back", tooltip="Back to the cluster, no lesson started."),
    ]

    def __init__(self, library: LessonLibrary, current: str | None) -> None:
        super().__init__()
        self._library = library
        self._current = current

    def compose(self) -> ComposeResult:
        lessons = self._library.catalog.lessons
        done = sum(1 for lesson in lessons if self._library.is_complete(lesson))
        yield Static(Text.assemble(("Guided lessons", "bold"), f"   {done} of {len(lessons)} done   ",
                                   ("enter starts the highlighted one on a fresh cluster of its own", "dim")),
                     id="lessons-head")
        options = [Option(lesson_option(number, lesson, self._library), id=lesson.id)
                   for number, lesson in enumerate(lessons, 1)]
        yield OptionList(*options, id="lesson-list")
        yield Static(id="lesson-details")
        problems = self._library.catalog.problems
        if problems:
            yield Static(Text("\n".join(f"{mark}: {message}" for mark, message in problems), style="red"),
                         id="lesson-problems")
        yield Footer()

    def on_mount(self) -> None:
        chosen = self.query_one("#lesson-list", OptionList)
        ids = [lesson.id for lesson in self._library.catalog.lessons]
        first_open = next((n for n, lesson in enumerate(self._library.catalog.lessons)
                           if not self._library.is_complete(lesson)), 0)
        chosen.highlighted = ids.index(self._current) if self._current in ids else first_open if ids else None
        chosen.focus()
        self._show_details(chosen.highlighted)

    def _show_details(self, index: int | None) -> None:
        lessons = self._library.catalog.lessons
        lesson = lessons[index] if index is not None and index < len(lessons) else None
        details = self.query_one("#lesson-details", Static)
        details.update(lesson_details(lesson, self._library))
        details.border_title = "about this lesson"

    def on_option_list_option_highlighted(self, message: OptionList.OptionHighlighted) -> None:
        self._show_details(message.option_index)

    def on_option_list_option_selected(self, message: OptionList.OptionSelected) -> None:
        self.dismiss(message.option.id)

    def action_start(self) -> None:
        chosen = self.query_one("#lesson-list", OptionList)
        if chosen.highlighted is not None:
            self.dismiss(chosen.get_option_at_index(chosen.highlighted).id)

    def action_close(self) -> None:
        self.dismiss(None)
