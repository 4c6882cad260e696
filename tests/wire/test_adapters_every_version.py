"""Every adapter reads every version it is served at: no field a version lacks is read as if it were there.

Fetch v4 (aiokafka's) once failed with ``'FetchPartition' object has no attribute
'current_leader_epoch'``: empty request bodies never reached the per-partition code, so
here every list in a request holds one entry, at every served version of every API.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

import pytest

import kafkalab.wire.gateway  # noqa: F401  (importing the gateway registers every adapter)
from kafkalab.errors import KafkaError
from kafkalab.wire.adapters.base import ADAPTERS, Plan, RequestContext
from kafkalab.wire.apis import API_VERSIONS, SUPPORTED, request_schema
from kafkalab.wire.build import materialize


def populated(cls: type) -> Any:
    """An instance of the kio class ``cls`` whose every list of entities holds one populated entity."""
    hints = typing.get_type_hints(cls)
    tree: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        hint = hints[field.name]
        if typing.get_origin(hint) is tuple:
            (item,) = typing.get_args(hint)[:1]
            if isinstance(item, type) and dataclasses.is_dataclass(item):
                tree[field.name] = (populated(item),)
        elif isinstance(hint, type) and issubclass(hint, str) and not issubclass(hint, bool):
            tree[field.name] = "orders"
    return materialize(cls, tree)


@pytest.mark.parametrize("api_key,version", [(api.key, v) for api in SUPPORTED.values() if api.key != API_VERSIONS
                                             for v in range(api.min_version, api.max_version + 1)])
def test_every_adapter_reads_every_served_version(api_key: int, version: int) -> None:
    body = populated(request_schema(api_key, version))
    ctx = RequestContext(version, "me", "/127.0.0.1", 1, {"orders": "AAAAAAAAAAAAAAAAAAAAAA"})
    try:
        plan = ADAPTERS[api_key](body, ctx)
    except KafkaError:
        return  # refused by name, as a client would be told
    assert isinstance(plan, Plan)
