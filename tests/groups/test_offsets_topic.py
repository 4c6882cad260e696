"""__consumer_offsets: where a group lives, how the topic appears, and Kafka's record schemas in it."""

from __future__ import annotations

from group_helpers import consumers, events, open_cluster, produce, run_checked

from kafkalab.events.groups import OffsetsTopicCreationRequested
from kafkalab.groups import schema
from kafkalab.groups.group import CommittedOffset
from kafkalab.groups.store import OFFSETS_TOPIC, partition_for_group
from kafkalab.protocol.consumer_protocol import decode_assignment
from kafkalab.protocol.types import TopicPartition


def java_hash_code(text: str) -> int:
    """``String.hashCode`` by its definition: s[0]*31^(n-1) + ... + s[n-1], as a signed 32-bit int."""
    units = [int.from_bytes(text.encode("utf-16-be")[i:i + 2], "big") for i in range(0, len(text) * 2, 2)]
    value = sum(unit * 31 ** (len(units) - 1 - i) for i, unit in enumerate(units)) % 2**32
    return value - 2**32 if value >= 2**31 else value


def test_group_partition_is_abs_hash_code_modulo_partition_count():
    # Fixed vectors: "hello".hashCode() is 99162322; "polygenelubricants".hashCode() is Integer.MIN_VALUE,
    # which Kafka's Utils.abs maps to 0 (Math.abs would stay negative).
    assert java_hash_code("hello") == 99_162_322
    assert partition_for_group("hello", 50) == 22
    assert java_hash_code("polygenelubricants") == -2**31
    assert partition_for_group("polygenelubricants", 50) == 0
    assert partition_for_group("Kafka", 50) == 72_255_238 % 50
    for group_id in ("", "g", "orders-service", "a-rather-long-consumer-group-name-0123456789", "ümlaut-gruppe"):
        assert partition_for_group(group_id, 50) == abs(java_hash_code(group_id)) % 50


def test_offset_commit_key_and_value_bytes_are_kafkas():
    key = schema.offset_commit_key("g", TopicPartition("t", 3))
    assert key == b"\x00\x01" + b"\x00\x01g" + b"\x00\x01t" + b"\x00\x00\x00\x03"
    value = schema.offset_commit_value(CommittedOffset(42, 5, "", 1000))
    assert value == b"\x00\x03" + (42).to_bytes(8, "big") + (5).to_bytes(4, "big") + b"\x00\x00" + (1000).to_bytes(8, "big")
    assert schema.decode_key(key) == schema.OffsetKey("g", TopicPartition("t", 3))
    assert schema.decode_offset_value(value) == CommittedOffset(42, 5, "", 1000)
    assert schema.group_metadata_key("g") == b"\x00\x02\x00\x01g"


def test_first_group_creates_the_internal_offsets_topic(clusters):
    cluster = open_cluster(clusters)
    cluster.wait(cluster.create_topic("orders", 2, 3))
    assert cluster.snapshot().topic(OFFSETS_TOPIC) is None
    mark = cluster.journal.last_seq
    loops = consumers(cluster, 1)
    run_checked(cluster, 2000, loops)
    topic = cluster.snapshot().topic(OFFSETS_TOPIC)
    assert topic is not None and topic.internal
    assert len(topic.partitions) == 50
    assert {len(p.replicas) for p in topic.partitions} == {3}
    assert dict(topic.config_overrides)["cleanup.policy"] == "compact"
    assert len(events(cluster, mark, OffsetsTopicCreationRequested)) == 1


def test_commits_and_group_metadata_are_records_in_the_groups_partition(clusters):
    cluster = open_cluster(clusters)
    cluster.wait(cluster.create_topic("orders", 2, 3))
    produce(cluster, "orders", 10)
    loops = consumers(cluster, 1, group="billing")
    run_checked(cluster, 2000, loops)
    cluster.wait(loops[0].consumer.commit_sync())
    partition = partition_for_group("billing", 50)
    offsets, groups = {}, []
    for record in cluster.wait(cluster.fetch(OFFSETS_TOPIC, partition, 0)):
        key = schema.decode_key(record.key)
        if isinstance(key, schema.OffsetKey):
            offsets[key.tp] = schema.decode_offset_value(record.value).offset
        else:
            groups.append(schema.decode_group_value(record.value))
    assert sum(offsets.values()) == 10 and set(offsets) == {TopicPartition("orders", 0), TopicPartition("orders", 1)}
    latest = groups[-1]
    assert latest.protocol_type == "consumer" and latest.protocol == "range" and latest.generation == 1
    assert [m.client_id for m in latest.members] == [loops[0].consumer.client_id]
    assert set(decode_assignment(latest.members[0].assignment).partitions) == set(offsets)
