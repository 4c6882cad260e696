"""Fixtures every test directory shares."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from lab_clusters import Clusters


@pytest.fixture
def clusters(tmp_path: Path) -> Iterator[Clusters]:
    """Open clusters with ``clusters.open(...)``; all are closed after the test and must have no failure unread."""
    with Clusters(tmp_path) as opened:
        yield opened
