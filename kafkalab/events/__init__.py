"""Typed, narrated events: the one ordered record of every state change (DESIGN.md principle 6)."""

from kafkalab.events.journal import Event, EventJournal

__all__ = ["Event", "EventJournal"]
