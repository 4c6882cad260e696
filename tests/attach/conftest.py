"""A lab behind ``kafkalab serve``'s server, in this process, shared by one module's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.attach.lab_server import LabServer


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    # A short ZooKeeper session: a killed broker's leaderships move within seconds of wall-clock time.
    server = LabServer(tmp_path_factory.mktemp("lab") / "data", broker_config={"zookeeper.session.timeout.ms": 4000})
    yield server
    server.close()
