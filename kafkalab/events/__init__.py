"""Typed, narrated events: the one ordered record of every state change (ARCHITECTURE.md)."""

from kafkalab.events.journal import Event, EventJournal

__all__ = ["Event", "EventJournal"]
