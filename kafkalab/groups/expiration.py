"""Which committed offsets a group has kept too long (Kafka 3.9 ``GroupMetadata.removeExpiredOffsets``).

Since KIP-211, an offset expires ``offsets.retention.minutes`` after its group became Empty,
not after its commit: a consumer group that is merely idle keeps its place. A Stable
consumer group loses only offsets of topics it no longer subscribes to, and a group that
never joined (a standalone consumer committing through Kafka) expires each offset that
long after its commit. Offsets with a commit in flight never expire.
"""

from __future__ import annotations

from collections.abc import Mapping

from kafkalab.errors import KafkaError
from kafkalab.groups.group import CommittedOffset, GroupMetadata
from kafkalab.groups.state import GroupState
from kafkalab.protocol.consumer_protocol import CONSUMER_PROTOCOL_TYPE, decode_subscription
from kafkalab.protocol.types import TopicPartition


def subscribed_topics(group: GroupMetadata) -> frozenset[str] | None:
    """Topics a consumer group's members subscribe to (``computeSubscribedTopics``); None if unknown."""
    if group.protocol_type != CONSUMER_PROTOCOL_TYPE or group.protocol_name is None:
        return None
    topics: set[str] = set()
    for member in group.members.values():
        try:
            subscription, _ = decode_subscription(member.metadata(group.protocol_name))
        except KafkaError:
            return None  # Kafka gives up on the subscribed topics when one member's metadata cannot be read
        topics.update(subscription.topics)
    return frozenset(topics)


def expired_offsets(group: GroupMetadata, now_ms: float, retention_ms: float,
                    pending: Mapping[TopicPartition, int]) -> dict[TopicPartition, CommittedOffset]:
    """The offsets of ``group`` whose retention has passed at ``now_ms`` (they are not removed here)."""
    if group.protocol_type is not None and group.state == GroupState.EMPTY:
        return _older_than(group, now_ms, retention_ms, pending, since_empty=group.state_timestamp_ms)
    if group.protocol_type is None:
        return _older_than(group, now_ms, retention_ms, pending)
    topics = subscribed_topics(group) if group.state == GroupState.STABLE else None
    if topics is None:
        return {}
    return _older_than(group, now_ms, retention_ms, pending, keep_topics=topics)


def _older_than(group: GroupMetadata, now_ms: float, retention_ms: float, pending: Mapping[TopicPartition, int],
                since_empty: float | None = None,
                keep_topics: frozenset[str] = frozenset()) -> dict[TopicPartition, CommittedOffset]:
    return {tp: offset for tp, offset in group.offsets.items()
            if tp.topic not in keep_topics and not pending.get(tp)
            and now_ms - (offset.commit_timestamp_ms if since_empty is None else since_empty) >= retention_ms}
