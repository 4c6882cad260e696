"""Produce and fetch messages are values: frozen dataclasses, built as dataclasses build them."""

from __future__ import annotations

import dataclasses

import pytest

from kafkalab.errors import Errors
from kafkalab.protocol.fetch import FetchPartition, FetchRequest, FetchResponse
from kafkalab.protocol.produce import PartitionProduceResponse, ProduceRequest, ProduceResponse
from kafkalab.protocol.types import TopicPartition

TP = TopicPartition("orders", 0)


def test_messages_take_positional_keyword_and_default_fields_as_the_dataclass_would() -> None:
    request = FetchRequest(1, 500, 1, 1024, {TP: FetchPartition(7)}, session_id=3)
    assert (request.replica_id, request.max_bytes, request.session_id) == (1, 1024, 3)
    assert (request.client_id, request.session_epoch, request.forgotten) == ("", -1, ())
    assert request == FetchRequest(replica_id=1, max_wait_ms=500, min_bytes=1, max_bytes=1024,
                                   partitions={TP: FetchPartition(7)}, session_id=3)
    assert dataclasses.replace(request, session_id=4).session_id == 4
    assert PartitionProduceResponse(Errors.NONE, 5).base_offset == 5
    assert FetchResponse({}).error is Errors.NONE


@pytest.mark.parametrize("message", [
    FetchRequest(1, 500, 1, 1024, {}), FetchResponse({}), ProduceRequest(-1, 30_000, {TP: b""}),
    PartitionProduceResponse(Errors.NONE), ProduceResponse({}),
])
def test_messages_stay_frozen(message: object) -> None:
    field = dataclasses.fields(message)[0].name  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(message, field, None)

