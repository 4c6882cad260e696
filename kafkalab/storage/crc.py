"""CRC-32C (Castagnoli), the checksum of Kafka's v2 record batches (``DefaultRecordBatch``) and producer snapshots.

The ``crc32c`` package computes it in C. Its ``__init__`` also reads the package's own version from the
installed metadata (``importlib.metadata``, which brings ``email``, ``zipfile``, ``csv`` ...) and imports
its command line (``argparse``): 85-98 ms of CPU at load 10, more than any other module the TUI loads
before it can draw the cluster (issue 18), and none of it needed for a checksum. So the package's C
extension is loaded by itself; were a release of the package to move it, the package's own ``crc32c``
is used instead.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
from collections.abc import Callable
from typing import cast

#: ``crc32c(data, value=0) -> int``: the CRC-32C of ``data``, continuing from ``value``.
Crc32c = Callable[..., int]


def _extension_crc32c() -> Crc32c:
    package = importlib.util.find_spec("crc32c")
    locations = package.submodule_search_locations if package is not None else None
    spec = importlib.machinery.PathFinder.find_spec("crc32c._crc32c", list(locations)) if locations else None
    if spec is None or spec.loader is None:
        from crc32c import crc32c as packaged

        return packaged
    extension = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(extension)
    return cast(Crc32c, extension.crc32c)


crc32c = _extension_crc32c()
