"""Producer partitioning: murmur2 vectors from Kafka's tests, the KIP-794 sticky partitioner, round robin, user functions."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kafka.partitioner.default import murmur2 as kafka_python_murmur2

from kafkalab.clients.partitioners import (
    BuiltInPartitioner,
    RoundRobinPartitioner,
    choose_partition,
    load_custom_partitioner,
    murmur2,
    partition_for_key,
    to_positive,
)
from kafkalab.errors import Errors, KafkaError


@pytest.mark.parametrize(("data", "expected"), [
    # UtilsTest.testMurmur2
    (b"21", -973932308),
    (b"foobar", -790332482),
    (b"a-little-bit-long-string", -985981536),
    (b"a-little-bit-longer-string", -1486304829),
    (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
    (b"abc", 479470107),
    # kafka-python's murmur2 (a line-by-line port of Utils.murmur2): keys with every tail length, and keys
    # longer than 63 bytes, whose words are unpacked by a Struct made for them rather than a prepared one.
    (b"key-1", 193331640),
    (b"key-12", 217931240),
    (b"key-123", 1736530164),
    (b"\xff\xfe\xfd\xfc\xfb", 524068735),
    (b"x" * 64, 1222492685),
    (b"0123456789" * 10 + b"abc", -1652124089),
    # Utils.murmur2 run on a JVM: the empty key and the DefaultPartitionerTest key
    (b"", 275646681),
    (b"key", -1079937367),
])
def test_murmur2_matches_kafka(data, expected):
    assert murmur2(data) == expected


@pytest.mark.parametrize(("key", "partition"), [
    # Partitions over 1000 partitions produced by Kafka's Java partitioner (as kafka-python checks them).
    (b"", 681), (b"a", 524), (b"ab", 434), (b"abc", 107), (b"123456789", 566), (b"\x00 ", 742),
])
def test_partition_for_key_matches_java_producer(key, partition):
    assert partition_for_key(key, 1000) == partition


@given(st.binary(max_size=200))
def test_murmur2_agrees_with_an_independent_port_of_kafkas_code(data):
    # kafka-python's murmur2 follows Utils.murmur2 byte by byte and returns the unsigned 32 bits.
    assert murmur2(data) & 0xFFFFFFFF == kafka_python_murmur2(data)


def test_to_positive_clears_the_sign_bit_rather_than_negating():
    assert to_positive(-1) == 0x7FFFFFFF
    assert to_positive(-(2**31)) == 0
    assert to_positive(-973932308) == 1173551340
    assert to_positive(12) == 12


@given(st.binary(max_size=64), st.integers(1, 10_000))
def test_partition_for_key_is_in_range_and_deterministic(key, num_partitions):
    partition = partition_for_key(key, num_partitions)
    assert 0 <= partition < num_partitions
    assert partition == partition_for_key(bytes(key), num_partitions)
    assert -(2**31) <= murmur2(key) < 2**31


class SequentialRandom(random.Random):
    """Draws 0, 1, 2, ... like the SequentialPartitioner in Kafka's BuiltInPartitionerTest."""

    def __init__(self) -> None:
        super().__init__(0)
        self.next_value = 0

    def getrandbits(self, k: int) -> int:
        self.next_value += 1
        return self.next_value - 1


def keyless(partitioner, topic, num_partitions, available, size=1, batch_full=True):
    """Place one keyless record and report it appended, as the producer does."""
    partition = partitioner.partition(topic, None, b"v", num_partitions, available)
    partitioner.record_appended(topic, partition, None, size, batch_full)
    return partition


def test_sticky_partition_switches_after_batch_size_bytes():
    """BuiltInPartitionerTest.testStickyPartitioning: a 3-byte sticky batch holds three 1-byte records."""
    partitioner = BuiltInPartitioner(batch_size=3, rng=SequentialRandom())
    assert [keyless(partitioner, "topicA", 3, [0, 1, 2]) for _ in range(7)] == [0, 0, 0, 1, 1, 1, 2]
    single = BuiltInPartitioner(batch_size=1, rng=SequentialRandom())
    assert {keyless(single, "topicB", 1, [0]) for _ in range(10)} == {0}


def test_sticky_partition_is_drawn_among_available_partitions():
    """BuiltInPartitionerTest.unavailablePartitionsTest, with metadata listing leaderless partitions."""
    partitioner = BuiltInPartitioner(batch_size=1, rng=random.Random(7))
    chosen_a = {keyless(partitioner, "topicA", 3, [0, 2]) for _ in range(100)}
    assert chosen_a == {0, 2}
    assert {keyless(partitioner, "topicB", 2, [1]) for _ in range(100)} == {1}
    assert {keyless(partitioner, "topicC", 1, []) for _ in range(5)} == {0}


def test_sticky_switch_waits_for_a_full_batch_up_to_twice_the_batch_size():
    partitioner = BuiltInPartitioner(batch_size=10, rng=SequentialRandom())
    assert keyless(partitioner, "t", 4, [0, 1, 2, 3], size=12, batch_full=False) == 0
    assert partitioner.sticky_partition("t") == 0  # batch still open: the switch is deferred
    partitioner.record_appended("t", 0, None, 0, batch_full=True)  # the batch filled or was sent
    assert partitioner.sticky_partition("t") is None
    assert keyless(partitioner, "t", 4, [0, 1, 2, 3], size=20, batch_full=False) == 1
    assert partitioner.sticky_partition("t") is None  # 2 * batch.size forces the switch


def test_keyed_records_hash_and_do_not_move_the_sticky_partition():
    partitioner = BuiltInPartitioner(batch_size=5, rng=SequentialRandom())
    assert keyless(partitioner, "t", 3, [1, 2]) == 1
    keyed = partitioner.partition("t", b"key", None, 3, [2])  # hashed even though only partition 2 has a leader
    assert keyed == to_positive(-1079937367) % 3 == 1
    partitioner.record_appended("t", keyed, b"key", 100)  # keyed bytes do not count toward stickiness
    assert partitioner.sticky_partition("t") == 1


def test_sticky_state_is_per_topic():
    partitioner = BuiltInPartitioner(batch_size=2, rng=SequentialRandom())
    assert keyless(partitioner, "a", 5, list(range(5))) == 0
    assert keyless(partitioner, "b", 5, list(range(5))) == 1
    assert keyless(partitioner, "a", 5, list(range(5))) == 0


def test_batch_size_must_be_positive():
    with pytest.raises(KafkaError) as info:
        BuiltInPartitioner(batch_size=0, rng=random.Random())
    assert info.value.error is Errors.INVALID_CONFIG


def test_round_robin_skips_leaderless_partitions_evenly():
    """RoundRobinPartitionerTest.testRoundRobinWithUnavailablePartitions: metadata order [1 (no leader), 2, 0]."""
    partitioner = RoundRobinPartitioner()
    chosen = [partitioner.partition("test", None, None, 3, [2, 0]) for _ in range(100)]
    assert chosen[:4] == [2, 0, 2, 0]
    assert chosen.count(0) == chosen.count(2) == 50


@pytest.mark.parametrize("key", [b"key", None], ids=["testRoundRobinWithKeyBytes", "testRoundRobinWithNullKeyBytes"])
def test_round_robin_counts_per_topic_and_ignores_keys(key):
    partitioner = RoundRobinPartitioner()
    counts = {0: 0, 1: 0, 2: 0}
    for i in range(30):
        counts[partitioner.partition("topicA", key, None, 3, [0, 1, 2])] += 1
        if i % 5 == 0:
            partitioner.partition("topicB", key, None, 1, [0])
    assert counts == {0: 10, 1: 10, 2: 10}


def test_round_robin_without_available_partitions_uses_all():
    partitioner = RoundRobinPartitioner()
    assert [partitioner.partition("t", None, None, 2, []) for _ in range(3)] == [0, 1, 0]


def test_explicit_partition_is_used_as_given():
    partitioner = RoundRobinPartitioner()
    assert choose_partition(partitioner, "t", 2, b"key", None, 3, [0]) == 2
    assert partitioner.partition("t", None, None, 3, [0, 1, 2]) == 0  # the partitioner was not consulted


@pytest.mark.parametrize(("partition", "error"), [(3, Errors.UNKNOWN_TOPIC_OR_PARTITION), (-1, Errors.INVALID_ARGUMENT)])
def test_explicit_partition_out_of_range(partition, error):
    with pytest.raises(KafkaError) as info:
        choose_partition(RoundRobinPartitioner(), "orders", partition, None, None, 3, [0, 1, 2])
    assert info.value.error is error
    assert str(partition) in info.value.message


def test_keyed_record_through_choose_partition_uses_murmur2():
    partitioner = BuiltInPartitioner(batch_size=100, rng=random.Random(1))
    assert choose_partition(partitioner, "t", None, b"foobar", None, 7, [0]) == partition_for_key(b"foobar", 7)


@pytest.mark.parametrize("path", ["sample_user_partitioners:last_partition", "sample_user_partitioners.last_partition"])
def test_custom_partitioner_loads_from_either_spelling(path):
    partitioner = load_custom_partitioner(path)
    assert choose_partition(partitioner, "t", None, b"k", b"v", 4, [0]) == 3


def test_custom_partitioner_sees_the_value():
    partitioner = load_custom_partitioner("sample_user_partitioners:by_value_length")
    assert choose_partition(partitioner, "t", None, None, b"hello", 3, [0, 1, 2]) == 2


@pytest.mark.parametrize(("path", "words"), [
    ("no_such_module_kafkalab:fn", "Could not import module 'no_such_module_kafkalab'"),
    ("sample_user_partitioners:missing", "has no attribute 'missing'"),
    ("sample_user_partitioners:NOT_CALLABLE", "is a int, not a callable"),
    ("justaname", "must be written as package.module:function"),
])
def test_custom_partitioner_that_cannot_be_loaded_is_invalid_config(path, words):
    with pytest.raises(KafkaError) as info:
        load_custom_partitioner(path)
    assert info.value.error is Errors.INVALID_CONFIG
    assert words in info.value.message


def test_custom_partitioner_must_return_an_int():
    partitioner = load_custom_partitioner("sample_user_partitioners:returns_text")
    with pytest.raises(KafkaError) as info:
        choose_partition(partitioner, "t", None, None, None, 3, [0])
    assert info.value.error is Errors.INVALID_ARGUMENT


@pytest.mark.parametrize(("result", "error"), [(-2, Errors.INVALID_ARGUMENT), (9, Errors.UNKNOWN_TOPIC_OR_PARTITION)])
def test_custom_partitioner_result_out_of_range(result, error):
    class Fixed(RoundRobinPartitioner):
        def partition(self, topic, key, value, num_partitions, available_partitions):
            return result

    with pytest.raises(KafkaError) as info:
        choose_partition(Fixed(), "t", None, None, None, 3, [0, 1, 2])
    assert info.value.error is error
