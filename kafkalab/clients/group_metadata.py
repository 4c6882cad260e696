"""A consumer's group membership as a transactional producer sends it (Kafka's ``ConsumerGroupMetadata``, KIP-447).

``Producer.send_offsets_to_transaction`` commits a group's offsets inside a transaction. Given
the consuming member's generation, member id and group instance id, the group coordinator
refuses the commit of a member the group no longer has (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID,
FENCED_INSTANCE_ID): a zombie processor cannot commit offsets for partitions another member
owns now. The group-id-only form (``of_group``) carries no generation and is never refused so.
"""

from __future__ import annotations

from dataclasses import dataclass

from kafkalab.protocol.groups import UNKNOWN_MEMBER_ID

#: ``JoinGroupRequest.UNKNOWN_GENERATION_ID``.
UNKNOWN_GENERATION_ID = -1


@dataclass(frozen=True)
class ConsumerGroupMetadata:
    """What ``Consumer.group_metadata()`` returns: the group and the member's current generation."""

    group_id: str
    generation_id: int = UNKNOWN_GENERATION_ID
    member_id: str = UNKNOWN_MEMBER_ID
    group_instance_id: str | None = None
