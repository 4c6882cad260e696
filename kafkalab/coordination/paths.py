"""Kafka's znode layout in ZooKeeper and the JSON each znode holds (Kafka's ``ZkData``).

A learner who opens the coordination tree sees the same paths and payloads a real
ZooKeeper-based Kafka cluster writes: ``/brokers/ids/1``, ``/controller``,
``/brokers/topics/orders/partitions/0/state`` and so on.
"""

from __future__ import annotations

import json
from typing import Any

from kafkalab.protocol.controller_api import PartitionState

BROKER_IDS = "/brokers/ids"
BROKER_TOPICS = "/brokers/topics"
CONTROLLER = "/controller"
CONTROLLER_EPOCH = "/controller_epoch"
CONFIG_TOPICS = "/config/topics"
CONFIG_CHANGES = "/config/changes"
CONFIG_CHANGE_PREFIX = "/config/changes/config_change_"
DELETE_TOPICS = "/admin/delete_topics"
CLUSTER_ID = "/cluster/id"
PRODUCER_ID_BLOCK = "/latest_producer_id_block"

#: Persistent znodes created when the cluster is first set up (Kafka's ``ZkData.PersistentZkPaths``).
PERSISTENT_PATHS = ("/brokers", BROKER_IDS, BROKER_TOPICS, "/brokers/seqid", "/config", CONFIG_TOPICS,
                    CONFIG_CHANGES, "/config/brokers", "/admin", DELETE_TOPICS, "/cluster",
                    "/isr_change_notification", PRODUCER_ID_BLOCK)


def dumps(value: Any) -> str:
    """JSON as Kafka writes it: compact, no spaces."""
    return json.dumps(value, separators=(",", ":"))


def broker_path(broker_id: int) -> str:
    return f"{BROKER_IDS}/{broker_id}"


def topic_path(topic: str) -> str:
    return f"{BROKER_TOPICS}/{topic}"


def partitions_path(topic: str) -> str:
    return f"{BROKER_TOPICS}/{topic}/partitions"


def partition_path(topic: str, partition: int) -> str:
    return f"{BROKER_TOPICS}/{topic}/partitions/{partition}"


def partition_state_path(topic: str, partition: int) -> str:
    return f"{BROKER_TOPICS}/{topic}/partitions/{partition}/state"


def topic_config_path(topic: str) -> str:
    return f"{CONFIG_TOPICS}/{topic}"


def delete_topic_path(topic: str) -> str:
    return f"{DELETE_TOPICS}/{topic}"


def broker_port(broker_id: int) -> int:
    """The port a broker listens on by default: 9092, 9093, ... for brokers 1, 2, ..."""
    return 9091 + broker_id


def broker_registration(broker_id: int, timestamp_ms: int, host: str = "localhost", port: int | None = None) -> str:
    """``/brokers/ids/N``: the broker's advertised endpoint, as Kafka registers it (version 5)."""
    port = broker_port(broker_id) if port is None else port
    return dumps({"features": {}, "listener_security_protocol_map": {"PLAINTEXT": "PLAINTEXT"},
                  "endpoints": [f"PLAINTEXT://{host}:{port}"], "jmx_port": -1, "port": port,
                  "host": host, "version": 5, "timestamp": str(timestamp_ms)})


def registered_endpoint(data: str) -> tuple[str, int]:
    """The host and port a ``/brokers/ids/N`` registration advertises."""
    value = json.loads(data)
    return str(value["host"]), int(value["port"])


def controller_data(broker_id: int, timestamp_ms: int) -> str:
    """``/controller``: which broker is the controller."""
    return dumps({"version": 1, "brokerid": broker_id, "timestamp": str(timestamp_ms)})


def controller_id_of(data: str) -> int:
    return int(json.loads(data)["brokerid"])


def topic_assignment(assignment: dict[int, tuple[int, ...]], topic_id: str) -> str:
    """``/brokers/topics/T``: the replica list of every partition (version 3)."""
    return dumps({"partitions": {str(p): list(replicas) for p, replicas in sorted(assignment.items())},
                  "topic_id": topic_id, "adding_replicas": {}, "removing_replicas": {}, "version": 3})


def parse_topic_assignment(data: str) -> tuple[dict[int, tuple[int, ...]], str]:
    """The partition-to-replicas map and topic id from ``/brokers/topics/T``."""
    value = json.loads(data)
    return {int(p): tuple(replicas) for p, replicas in value["partitions"].items()}, value.get("topic_id", "")


def partition_state_data(state: PartitionState) -> str:
    """``.../partitions/P/state``: leader, leader epoch, ISR and the controller epoch that wrote it."""
    return dumps({"controller_epoch": state.controller_epoch, "leader": state.leader, "version": 1,
                  "leader_epoch": state.leader_epoch, "isr": list(state.isr)})


def parse_partition_state(topic: str, partition: int, data: str, zk_version: int,
                          replicas: tuple[int, ...]) -> PartitionState:
    """A PartitionState from the state znode; the znode's version is the partition epoch."""
    value = json.loads(data)
    return PartitionState(topic, partition, value["controller_epoch"], value["leader"], value["leader_epoch"],
                          tuple(value["isr"]), zk_version, replicas)


def topic_config_data(config: dict[str, str]) -> str:
    """``/config/topics/T``: the topic's config overrides as strings."""
    return dumps({"version": 1, "config": dict(sorted(config.items()))})


def parse_topic_config(data: str) -> dict[str, str]:
    return dict(json.loads(data)["config"])


def config_change_data(topic: str) -> str:
    """A ``/config/changes`` notification telling brokers a topic's config changed."""
    return dumps({"version": 2, "entity_path": f"topics/{topic}"})


def cluster_id_data(cluster_id: str) -> str:
    return dumps({"version": "1", "id": cluster_id})


def json_value(data: str, key: str) -> Any:
    """One field of a znode's JSON payload."""
    return json.loads(data)[key]
