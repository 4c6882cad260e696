"""Run kafkalab as ``python -m kafkalab``."""

from kafkalab.cli import entry_point

raise SystemExit(entry_point())
