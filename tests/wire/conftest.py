"""A 3-broker ``kafkalab serve`` shared by the tests of one module (each uses its own topics and groups)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.wire.serve_process import ServeProcess


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    process = ServeProcess(Path(tmp_path_factory.mktemp("serve")) / "data")
    yield process
    assert process.stop() == 0
