"""The command palette's entries: every UI command and every action, with ready-made targets.

Titles are namespaced (``broker: kill 2``, ``topic: delete orders``, ``lesson: start
Leader election``) so typing a noun finds everything one can do to it, and a command with
a key shows it (the user's key, where their keymap gives one). An entry with all its
values runs at once; one that needs input opens the action's form. Commands that do not
apply now (a lesson's hint without a lesson) are left out.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from kafkalab.tui.commands import UI_COMMANDS, action_specs

if TYPE_CHECKING:
    from kafkalab.tui.app import KafkaLabApp


class LabCommands(Provider):
    """Screens, clock, help and every vocabulary action, expanded over the live cluster."""

    def _entries(self) -> list[tuple[str, str, str, Callable[[], object]]]:
        """``(title, key, help, callback)`` for every command that applies now; ``key`` runs it without the palette
        (the user's, where their keymap gives one), or is empty."""
        lab = cast("KafkaLabApp", self.app)
        keys = lab.current_keys()
        entries: list[tuple[str, str, str, Callable[[], object]]] = [
            (command.title, keys.get(command.id, ""), command.help,
             partial(lab.run_action, command.action.removeprefix("app.")))
            for command in UI_COMMANDS if lab.check_action(command.action_name, ())]
        entries += [(f"lesson: start {lesson.title}", "", lesson.summary, partial(lab.lessons.start, lesson.id))
                    for lesson in lab.lessons.library.catalog.lessons]
        frame = lab.frame
        for spec in action_specs():
            entries.append((spec.title + " ...", keys.get(spec.id, ""), spec.help,
                            partial(lab.action_start_action, spec.step)))
            if spec.targets is not None and frame is not None:
                for suffix, values in spec.targets(frame):
                    entries.append((f"{spec.title} {suffix}", "", spec.help, partial(lab.perform, spec, values)))
        return entries

    async def discover(self) -> Hits:
        for title, key, help_text, callback in self._entries():
            yield DiscoveryHit(with_key(Content(title), key), callback, text=title, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, key, help_text, callback in self._entries():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, with_key(matcher.highlight(title), key), callback, text=title, help=help_text)


def with_key(title: Content, key: str) -> Content:
    """A palette title followed by the key that runs the command without the palette."""
    return title + Content.styled(f"   {key}", "$text-muted") if key else title
