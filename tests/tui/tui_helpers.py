"""Shared by the TUI tests: the test lessons and scenario, and reading what a widget shows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.content import Content
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Input

from kafkalab.tui.app import KafkaLabApp
from kafkalab.tui.forms import ActionForm
from kafkalab.tui.frames import Frame

HERE = Path(__file__).parent
#: Lessons and a scenario written for these tests, so the built-in ones can change freely.
TEST_LESSONS = HERE / "lessons"
TEST_SCENARIO = HERE / "scenarios" / "failover.yaml"


def shown(app: KafkaLabApp, selector: str) -> str:
    """The words a widget of the visible screen shows, as one line (wrapping and its left border undone)."""
    widget = app.screen.query_one(selector, Widget)
    strips = widget.render_lines(Region(0, 0, *widget.outer_size))
    lines = ("".join(segment.text for segment in strip) for strip in strips)
    return " ".join(" ".join(lines).replace("█", " ").split())


def lines(app: KafkaLabApp, selector: str | Widget) -> list[str]:
    """What a widget (or the one ``selector`` finds on the visible screen) shows, line by line, borders included."""
    widget = app.screen.query_one(selector, Widget) if isinstance(selector, str) else selector
    strips = widget.render_lines(Region(0, 0, *widget.outer_size))
    return ["".join(segment.text for segment in strip) for strip in strips]


def screen_text(app: KafkaLabApp) -> str:
    """Every line the terminal shows now, dialogs and what they let through included."""
    return "\n".join("".join(segment.text for segment in strip) for strip in app.screen._compositor.render_strips())


def fully_visible(app: KafkaLabApp, widget: Widget) -> bool:
    """True when all of ``widget`` is on screen: not scrolled away, not clipped by its container or the terminal."""
    placed = app.screen.find_widget(widget)
    return bool(placed.region) and placed.region.intersection(placed.clip) == placed.region


def toasts(app: KafkaLabApp) -> list[tuple[str, str]]:
    """Each notification: ``(what its toast shows, the message as given)``, to tell markup that ate text.

    Tests run without toasts on screen, so this reads the message as Textual's ``Toast.render`` does.
    """
    return [((Content.from_markup(note.message) if note.markup else Content(note.message)).plain, note.message)
            for note in app._notifications]


async def submit_form(app: KafkaLabApp, pilot: Pilot[Any], key: str, typed: dict[str, str],
                      step_ms: float) -> Frame:
    """Open the form behind ``key``, type ``typed`` into its fields, submit it, and run the clock ``step_ms``."""
    await pilot.press(key)
    assert isinstance(app.screen, ActionForm)
    for name, text in typed.items():
        app.screen.query_one(f"#field-{name}", Input).value = text
    await pilot.press("ctrl+s")
    await pilot.pause()  # the form hands its action over in a callback
    frame = await app.settle(step_ms=step_ms)
    await pilot.pause()
    return frame


def record_notes(app: KafkaLabApp) -> list[tuple[str, str]]:
    """Collect ``(title, message)`` of every notification the app shows."""
    notes: list[tuple[str, str]] = []
    show = app.notify

    def notify(message: str, **options: Any) -> None:
        notes.append((options.get("title", ""), message))
        show(message, **options)

    app.notify = notify  # type: ignore[method-assign]
    return notes


def exploding_partitioner(topic: str, key: bytes | None, value: bytes | None, num_partitions: int) -> int:
    """A user's partitioner with a bug, for ``--partitioner tui_helpers:exploding_partitioner``."""
    return num_partitions // 0
