"""The command palette's entries: every UI command and every action, with ready-made targets.

Titles are namespaced (``broker: kill 2``, ``topic: delete orders``, ``lesson: start
Leader election``) so typing a noun finds everything one can do to it. An entry with all
its values runs at once; one that needs input opens the action's form. Commands that do
not apply now (a lesson's hint without a lesson) are left out.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from kafkalab.tui.commands import UI_COMMANDS, action_specs

if TYPE_CHECKING:
    from kafkalab.tui.app import KafkaLabApp


class LabCommands(Provider):
    """Screens, clock, help and every vocabulary action, expanded over the live cluster."""

    def _entries(self) -> list[tuple[str, str, Callable[[], object]]]:
        """``(title, help, callback)`` for every command that applies now."""
        lab = cast("KafkaLabApp", self.app)
        entries: list[tuple[str, str, Callable[[], object]]] = [
            (command.title, command.help, partial(lab.run_action, command.action.removeprefix("app.")))
            for command in UI_COMMANDS if lab.check_action(command.action_name, ())]
        entries += [(f"lesson: start {lesson.title}", lesson.summary, partial(lab.lessons.start, lesson.id))
                    for lesson in lab.lessons.library.catalog.lessons]
        view = lab.frame.view if lab.frame is not None else None
        for spec in action_specs():
            entries.append((spec.title + " ...", spec.help, partial(lab.action_start_action, spec.step)))
            if spec.targets is not None and view is not None:
                for suffix, values in spec.targets(view):
                    entries.append((f"{spec.title} {suffix}", spec.help, partial(lab.perform, spec, values)))
        return entries

    async def discover(self) -> Hits:
        for title, help_text, callback in self._entries():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._entries():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, text=title, help=help_text)
