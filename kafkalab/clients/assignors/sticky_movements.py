"""Bookkeeping of partition moves during a general sticky assignment (``PartitionMovements``)."""

from __future__ import annotations

from kafkalab.clients.assignors.javacompat import JavaHashOrder, topic_partition_hash
from kafkalab.clients.assignors.types import TopicPartition

#: (from member, to member)
Move = tuple[str, str]


class PartitionMovements:
    """Where each moved partition came from, so moves between two members can cancel out.

    ``AbstractStickyAssignor.PartitionMovements``: when a partition of a topic must go
    from A to B and an earlier move took one of that topic's partitions from B to A,
    that earlier partition goes back instead, keeping more partitions where they were.
    """

    def __init__(self) -> None:
        self._moves: dict[TopicPartition, Move] = {}
        self._by_topic: dict[str, dict[Move, JavaHashOrder[TopicPartition]]] = {}

    def _remove(self, tp: TopicPartition) -> Move:
        move = self._moves.pop(tp)
        moves_of_topic = self._by_topic[tp.topic]
        moves_of_topic[move].discard(tp)
        if not moves_of_topic[move]:
            del moves_of_topic[move]
        if not moves_of_topic:
            del self._by_topic[tp.topic]
        return move

    def _add(self, tp: TopicPartition, move: Move) -> None:
        self._moves[tp] = move
        moves_of_topic = self._by_topic.setdefault(tp.topic, {})
        moves_of_topic.setdefault(move, JavaHashOrder(topic_partition_hash)).add(tp)

    def record_move(self, tp: TopicPartition, old_owner: str, new_owner: str) -> None:
        """Note that ``tp`` moved, folding it into any earlier move of the same partition."""
        if tp in self._moves:
            source, _ = self._remove(tp)
            if source != new_owner:
                self._add(tp, (source, new_owner))
        else:
            self._add(tp, (old_owner, new_owner))

    def partition_to_move(self, tp: TopicPartition, old_owner: str, new_owner: str) -> TopicPartition:
        """The partition to move from ``old_owner`` to ``new_owner`` in place of ``tp``."""
        moves_of_topic = self._by_topic.get(tp.topic)
        if moves_of_topic is None:
            return tp
        if tp in self._moves:
            old_owner = self._moves[tp][0]
        moved_back = moves_of_topic.get((new_owner, old_owner))
        if moved_back is None:
            return tp
        return moved_back.first()  # Java takes the HashSet's first element
