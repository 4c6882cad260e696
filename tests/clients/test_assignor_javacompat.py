"""Java string/hash behaviour the sticky assignor depends on, checked against values printed by a JVM (OpenJDK 17)."""

from __future__ import annotations

from kafkalab.clients.assignors import TopicPartition
from kafkalab.clients.assignors.javacompat import JavaHashOrder, java_member_order, topic_partition_hash
from kafkalab.clients.java_strings import java_string_hash, java_string_key


def to_int32(n: int) -> int:
    return n - (1 << 32) if n & 0x80000000 else n


def test_string_hash_matches_java():
    assert to_int32(java_string_hash("hello")) == 99162322
    assert java_string_hash("Aa") == java_string_hash("BB") == 2112
    assert java_string_hash("\U0001F600") == 1772899  # hashed as two UTF-16 code units
    assert java_string_hash("") == 0


def test_topic_partition_hash_matches_kafka():
    assert to_int32(topic_partition_hash(TopicPartition("topic", 3))) == 110547277


def test_hash_map_iteration_order_matches_java():
    """``new HashMap<>()`` filled with consumer1..consumer20 (it resizes to 32 buckets on the way)."""
    expected = ["consumer12", "consumer11", "consumer10", "consumer20", "consumer9", "consumer8", "consumer7", "consumer6",
                "consumer19", "consumer18", "consumer17", "consumer16", "consumer15", "consumer14", "consumer13", "consumer5",
                "consumer4", "consumer3", "consumer2", "consumer1"]
    assert java_member_order(f"consumer{i}" for i in range(1, 21)) == expected


def test_colliding_keys_keep_insertion_order_within_a_bucket():
    assert java_member_order(["BBBB", "AaAa", "AaBB", "BBAa", "x"]) == ["x", "BBBB", "AaAa", "AaBB", "BBAa"]


def test_hash_set_first_element_matches_java():
    partitions = JavaHashOrder(topic_partition_hash, (TopicPartition("topic", p) for p in (9, 3, 17, 0)))
    assert [p.partition for p in partitions] == [9, 0, 17, 3]
    assert partitions.first() == TopicPartition("topic", 9)
    partitions.discard(TopicPartition("topic", 9))
    assert partitions.first() == TopicPartition("topic", 0)


def test_string_order_is_utf16_code_unit_order():
    assert sorted(["\uFF5E", "\U0001F600", "a"], key=java_string_key) == ["a", "\U0001F600", "\uFF5E"]


def test_a_ninth_key_in_one_bucket_doubles_a_small_table():
    """``HashMap.treeifyBin`` resizes a table under 64 buckets instead of building a tree; this moves "i" to the end."""
    colliding = ["AaAaAaAa", "AaAaAaBB", "AaAaBBAa", "AaAaBBBB", "AaBBAaAa", "AaBBAaBB", "AaBBBBAa", "AaBBBBBB", "BBAaAaAa"]
    assert java_member_order(["i", *colliding]) == [*colliding, "i"]
