"""Metadata records in Kafka's byte layout (ApiMessageAndVersion frames), and the image they build."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kafkalab.errors import Errors, KafkaError
from kafkalab.metadata.image import MetadataImage
from kafkalab.metadata.records import (
    FENCE,
    UNFENCE,
    BrokerEndpoint,
    BrokerRegistrationChangeRecord,
    ConfigRecord,
    FeatureLevelRecord,
    PartitionChangeRecord,
    PartitionRecord,
    RegisterBrokerRecord,
    RemoveTopicRecord,
    TopicRecord,
    decode_record,
    encode_record,
)

TOPIC_ID = "AAAAAAAAAAAAAAAAAAAAAQ"  # Uuid(0, 1)
ids = st.lists(st.integers(0, 2**31 - 1), max_size=5).map(tuple)


def test_feature_level_record_has_kafkas_bytes() -> None:
    # frame version 1, api key 12, version 0; compact string (length + 1); int16; no tagged fields.
    assert encode_record(FeatureLevelRecord("metadata.version", 27)) == (
        b"\x01\x0c\x00" + b"\x11metadata.version" + b"\x00\x1b" + b"\x00")


def test_partition_change_record_writes_only_the_changed_fields_as_tagged_fields() -> None:
    encoded = encode_record(PartitionChangeRecord(0, TOPIC_ID, isr=(1, 2)))
    # api key 5 version 2, partition 0, the topic id, then one tagged field (tag 0, 9 bytes: the ISR).
    assert encoded == (b"\x01\x05\x02" + b"\x00\x00\x00\x00" + bytes(15) + b"\x01" + b"\x01" + b"\x00\x09"
                       + b"\x03" + b"\x00\x00\x00\x01" + b"\x00\x00\x00\x02")
    assert decode_record(encoded) == PartitionChangeRecord(0, TOPIC_ID, isr=(1, 2))


@given(partition=st.integers(0, 10_000), isr=st.none() | ids, leader=st.integers(-2, 100), elr=st.none() | ids)
def test_partition_change_records_round_trip(partition: int, isr: tuple[int, ...] | None, leader: int,
                                             elr: tuple[int, ...] | None) -> None:
    record = PartitionChangeRecord(partition, TOPIC_ID, isr=isr, leader=leader, eligible_leader_replicas=elr)
    assert decode_record(encode_record(record)) == record


@given(broker_id=st.integers(0, 1000), epoch=st.integers(0, 2**62), host=st.text(max_size=20),
       port=st.integers(0, 65535), rack=st.none() | st.text(max_size=5), fenced=st.booleans())
def test_register_broker_records_round_trip(broker_id: int, epoch: int, host: str, port: int, rack: str | None,
                                            fenced: bool) -> None:
    record = RegisterBrokerRecord(broker_id, TOPIC_ID, epoch, (BrokerEndpoint("PLAINTEXT", host, port),), rack=rack,
                                  fenced=fenced)
    assert decode_record(encode_record(record)) == record


@pytest.mark.parametrize("data", [b"", b"\x02\x0c\x00", b"\x01\x63\x00", b"\x01\x0c\x00\x05ab",
                                  encode_record(TopicRecord("t", TOPIC_ID)) + b"\x00"])
def test_damaged_frames_are_corrupt_messages(data: bytes) -> None:
    with pytest.raises(KafkaError) as failure:
        decode_record(data)
    assert failure.value.error == Errors.CORRUPT_MESSAGE


def _image_with_topic() -> MetadataImage:
    image = MetadataImage()
    image.replay_all([
        RegisterBrokerRecord(1, TOPIC_ID, 10, ()), RegisterBrokerRecord(2, TOPIC_ID, 11, ()),
        TopicRecord("orders", TOPIC_ID), PartitionRecord(0, TOPIC_ID, (1, 2), (1, 2), 1),
        ConfigRecord(2, "orders", "retention.ms", "1000")])
    return image


def test_a_partition_change_bumps_the_leader_epoch_only_when_the_leader_changes() -> None:
    image = _image_with_topic()
    image.replay(PartitionChangeRecord(0, TOPIC_ID, isr=(1,)))
    partition = image.partition("orders", 0)
    assert partition is not None
    assert (partition.leader, partition.leader_epoch, partition.partition_epoch, partition.isr) == (1, 0, 1, (1,))
    image.replay(PartitionChangeRecord(0, TOPIC_ID, leader=2, isr=(2,)))
    partition = image.partition("orders", 0)
    assert partition is not None
    assert (partition.leader, partition.leader_epoch, partition.partition_epoch) == (2, 1, 2)


def test_fencing_changes_apply_only_to_the_registration_of_their_epoch() -> None:
    image = _image_with_topic()
    image.replay(BrokerRegistrationChangeRecord(1, 10, fenced=UNFENCE))
    image.replay(BrokerRegistrationChangeRecord(2, 99, fenced=UNFENCE))  # an older registration's
    assert image.is_active(1)
    assert not image.is_active(2)
    image.replay(BrokerRegistrationChangeRecord(1, 10, fenced=FENCE))
    assert not image.is_active(1)


def test_an_image_written_as_records_replays_into_the_same_image() -> None:
    image = _image_with_topic()
    image.replay(FeatureLevelRecord("metadata.version", 27))
    image.replay(PartitionChangeRecord(0, TOPIC_ID, leader=2, eligible_leader_replicas=(1,)))
    copy = MetadataImage()
    copy.replay_all(decode_record(encode_record(record)) for record in image.write())
    assert (copy.features, copy.brokers, copy.topics, copy.configs) == (
        image.features, image.brokers, image.topics, image.configs)


def test_removing_a_topic_removes_its_partitions_and_configs() -> None:
    image = _image_with_topic()
    image.replay(RemoveTopicRecord(TOPIC_ID))
    assert image.topics == {}
    assert image.topic_config("orders") == {}
    with pytest.raises(KafkaError):
        image.replay(PartitionChangeRecord(0, TOPIC_ID, isr=(1,)))
