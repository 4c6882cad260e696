"""CRC-32C (Castagnoli), the checksum of record batches (KIP-98) and producer snapshots, from the ``crc32c`` package.

The package is loaded on the first checksum rather than at import: its ``__init__`` looks up
its own version in the installed distributions' metadata (``importlib.metadata``, which
walks every ``sys.path`` entry) and imports its command line (``argparse``), 50-70 ms of the
TUI's start-up before the first paint, while starting a cluster from a cleanly closed data
dir computes no checksum at all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing_extensions import Buffer  # collections.abc has it from Python 3.12

_native: Callable[[Buffer, int], int] | None = None


def crc32c(data: Buffer, value: int = 0) -> int:
    """The CRC-32C of ``data``, continuing from ``value`` (the CRC of the bytes before it)."""
    native = _native or _load()
    return native(data, value)


def _load() -> Callable[[Buffer, int], int]:
    global _native
    from crc32c import crc32c as native  # not at import: see the module's docstring

    _native = native
    return native
