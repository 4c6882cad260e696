"""The answers to a lesson's prediction, picked with 1..9 or the cursor and enter."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import OptionList

from kafkalab.tui.prose import prose

MAX_CHOICES = 9


class PredictionChoices(OptionList):
    """A numbered list of choices; while it has focus the number keys pick (not switch screens)."""

    DEFAULT_CSS = """
    PredictionChoices { height: auto; max-height: 11; border: tall $accent; background: $surface; }
    PredictionChoices:focus { border: tall $accent; background-tint: $accent 10%; }
    """
    BINDINGS = [Binding(str(n), f"choose({n - 1})", f"choice {n}", show=False, id=f"predict.choice_{n}",
                        tooltip=f"Predict answer {n}.") for n in range(1, MAX_CHOICES + 1)]

    class Chosen(Message):
        """The learner picked choice ``index`` (0-based)."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self._labels: tuple[str, ...] = ()

    def show(self, labels: tuple[str, ...]) -> None:
        """List ``labels`` as choices 1..n (only when they changed, so the cursor stays put)."""
        if labels == self._labels:
            return
        self._labels = labels
        self.clear_options()
        self.add_options([Text.assemble((f"{n} ", "bold"), prose(label)) for n, label in enumerate(labels, 1)])
        self.highlighted = 0 if labels else None

    def action_choose(self, index: int) -> None:
        if index < len(self._labels):
            self.post_message(self.Chosen(index))

    def on_option_list_option_selected(self, message: OptionList.OptionSelected) -> None:
        message.stop()
        self.post_message(self.Chosen(message.option_index))
