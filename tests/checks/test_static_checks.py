"""The rules a tool enforces (ARCHITECTURE.md, "Layers"): types, style and the layer order.

Each check runs the tool as the README's test command installs it; a failure prints what
the tool reported, so the fix starts from its own words.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).parents[2]

CHECKS = {
    "mypy": [sys.executable, "-m", "mypy"],
    "ruff": [sys.executable, "-m", "ruff", "check", "kafkalab", "tests", "benchmarks"],
    "import-linter": [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command as c; "
                      "sys.exit(c.main(args=[], standalone_mode=False))"],
}


@pytest.mark.parametrize("tool", sorted(CHECKS))
def test_the_code_passes(tool: str) -> None:
    result = subprocess.run(CHECKS[tool], cwd=REPO, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, f"{tool} reported:\n{result.stdout}\n{result.stderr}"
