"""Principle 1: the engine never imports the UI toolkit, so scenarios and lessons run without it."""

from __future__ import annotations

import subprocess
import sys

ENGINE_MODULES = (
    "kafkalab.cluster.cluster", "kafkalab.cluster.inspect", "kafkalab.session.session", "kafkalab.actions",
    "kafkalab.scenarios.runner", "kafkalab.sim.realtime_clock", "kafkalab.storage.dump", "kafkalab.cli",
)


def test_the_engine_imports_neither_textual_nor_rich() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {ENGINE_MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        "leaked = sorted(m for m in sys.modules\n"
        "                if m.split('.')[0] in ('textual', 'rich') or m.startswith('kafkalab.tui'))\n"
        "print(' '.join(leaked))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
