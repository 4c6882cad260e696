"""What the TUI loads before its first paint: only what drawing the cluster needs (issue 18).

Every module imported before the first screen is drawn delays it (on Python 3.11 a dataclass
costs about a millisecond to create); what the first screens do not use is imported where it
is needed, and these tests keep it from creeping back.
"""

from __future__ import annotations

import subprocess
import sys


def _loaded_after_importing_the_tui() -> set[str]:
    code = (
        "import sys\n"
        "import kafkalab.tui.app, kafkalab.tui.bridge\n"
        "print(' '.join(sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(result.stdout.split())


def test_the_wire_codec_is_loaded_only_for_a_listener() -> None:
    loaded = _loaded_after_importing_the_tui()
    assert not {name for name in loaded if name == "kio" or name.startswith("kio.")}
    assert "kafkalab.wire.server" not in loaded


def test_the_checksum_package_is_loaded_on_the_first_checksum() -> None:
    # crc32c's __init__ imports importlib.metadata (50 ms) to read its own version.
    loaded = _loaded_after_importing_the_tui()
    assert "crc32c" not in loaded
    assert "importlib.metadata" not in loaded
