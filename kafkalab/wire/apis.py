"""The APIs and versions the listener serves, as ApiVersions advertises them.

Each range runs from the oldest version current clients use (Kafka 4.0's baseline,
KIP-896, which is also the oldest ``kio`` carries) up to what Apache Kafka 3.9 serves
(``validVersions`` in its ``clients/src/main/resources/common/message/*Request.json``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from kio.index import load_request_schema, load_response_schema
from kio.static.protocol import RequestPayload, ResponsePayload


@dataclass(frozen=True)
class ApiRange:
    """One API: its key, Kafka's name for it and the versions served."""

    key: int
    name: str
    min_version: int
    max_version: int

    def supports(self, version: int) -> bool:
        """True when ``version`` is served."""
        return self.min_version <= version <= self.max_version


PRODUCE, FETCH, LIST_OFFSETS, METADATA = 0, 1, 2, 3
OFFSET_COMMIT, OFFSET_FETCH, FIND_COORDINATOR, JOIN_GROUP = 8, 9, 10, 11
HEARTBEAT, LEAVE_GROUP, SYNC_GROUP, DESCRIBE_GROUPS, LIST_GROUPS = 12, 13, 14, 15, 16
API_VERSIONS, CREATE_TOPICS, DELETE_TOPICS, INIT_PRODUCER_ID = 18, 19, 20, 22
OFFSET_FOR_LEADER_EPOCH, DESCRIBE_CONFIGS, CREATE_PARTITIONS = 23, 32, 37
DELETE_GROUPS, INCREMENTAL_ALTER_CONFIGS, DESCRIBE_CLUSTER = 42, 44, 60
ADD_PARTITIONS_TO_TXN, ADD_OFFSETS_TO_TXN, END_TXN, TXN_OFFSET_COMMIT = 24, 25, 26, 28
DESCRIBE_PRODUCERS, DESCRIBE_TRANSACTIONS, LIST_TRANSACTIONS = 61, 65, 66

SUPPORTED: dict[int, ApiRange] = {api.key: api for api in (
    ApiRange(PRODUCE, "Produce", 3, 11),
    ApiRange(FETCH, "Fetch", 4, 17),
    ApiRange(LIST_OFFSETS, "ListOffsets", 1, 9),
    ApiRange(METADATA, "Metadata", 0, 12),
    ApiRange(OFFSET_COMMIT, "OffsetCommit", 2, 9),
    ApiRange(OFFSET_FETCH, "OffsetFetch", 1, 9),
    ApiRange(FIND_COORDINATOR, "FindCoordinator", 0, 6),
    ApiRange(JOIN_GROUP, "JoinGroup", 0, 9),
    ApiRange(HEARTBEAT, "Heartbeat", 0, 4),
    ApiRange(LEAVE_GROUP, "LeaveGroup", 0, 5),
    ApiRange(SYNC_GROUP, "SyncGroup", 0, 5),
    ApiRange(DESCRIBE_GROUPS, "DescribeGroups", 0, 5),
    ApiRange(LIST_GROUPS, "ListGroups", 0, 5),
    ApiRange(API_VERSIONS, "ApiVersions", 0, 4),
    ApiRange(CREATE_TOPICS, "CreateTopics", 2, 7),
    ApiRange(DELETE_TOPICS, "DeleteTopics", 1, 6),
    ApiRange(INIT_PRODUCER_ID, "InitProducerId", 0, 5),
    ApiRange(OFFSET_FOR_LEADER_EPOCH, "OffsetForLeaderEpoch", 2, 4),
    ApiRange(DESCRIBE_CONFIGS, "DescribeConfigs", 1, 4),
    ApiRange(CREATE_PARTITIONS, "CreatePartitions", 0, 3),
    ApiRange(DELETE_GROUPS, "DeleteGroups", 0, 2),
    ApiRange(INCREMENTAL_ALTER_CONFIGS, "IncrementalAlterConfigs", 0, 1),
    ApiRange(DESCRIBE_CLUSTER, "DescribeCluster", 0, 1),
    # Up to v3: v4+ is the brokers' batched verification (KIP-890), not a client's request.
    ApiRange(ADD_PARTITIONS_TO_TXN, "AddPartitionsToTxn", 0, 3),
    ApiRange(ADD_OFFSETS_TO_TXN, "AddOffsetsToTxn", 0, 4),
    ApiRange(END_TXN, "EndTxn", 0, 4),
    ApiRange(TXN_OFFSET_COMMIT, "TxnOffsetCommit", 0, 4),
    ApiRange(DESCRIBE_PRODUCERS, "DescribeProducers", 0, 0),
    ApiRange(DESCRIBE_TRANSACTIONS, "DescribeTransactions", 0, 0),
    ApiRange(LIST_TRANSACTIONS, "ListTransactions", 0, 1),
)}


def api_name(key: int) -> str:
    """Kafka's name of an API key (``Produce``), or ``api-<key>`` for one not served."""
    api = SUPPORTED.get(key)
    return api.name if api is not None else f"api-{key}"


@cache
def request_schema(key: int, version: int) -> type[RequestPayload]:
    """The kio request class of a served API version."""
    return load_request_schema(key, version)


@cache
def response_schema(key: int, version: int) -> type[ResponsePayload]:
    """The kio response class of a served API version."""
    return load_response_schema(key, version)
