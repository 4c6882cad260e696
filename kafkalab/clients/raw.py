"""Produce and fetch raw record batches at the broker level, with leader discovery and retries.

This is the thinnest real client: it finds a partition's leader in metadata, sends one
Produce or Fetch request, and follows the leader when it moves. The producer and consumer
build batching, partitioning and groups on top of the same requests.
"""

from __future__ import annotations

from kafkalab.clients.network_client import ClientNode
from kafkalab.errors import Errors, KafkaError
from kafkalab.protocol.fetch import CONSUMER_REPLICA_ID, FetchPartition, FetchPartitionData, FetchRequest
from kafkalab.protocol.produce import PartitionProduceResponse, ProduceRequest
from kafkalab.protocol.transactions import DescribeProducersRequest, PartitionProducers
from kafkalab.protocol.types import TopicPartition
from kafkalab.sim.process import Process, Sleep

#: Errors after which refreshing metadata and retrying can succeed (Kafka's RetriableException family).
RETRIABLE = frozenset({Errors.NOT_LEADER_OR_FOLLOWER, Errors.LEADER_NOT_AVAILABLE, Errors.NETWORK_EXCEPTION,
                       Errors.REQUEST_TIMED_OUT, Errors.UNKNOWN_TOPIC_OR_PARTITION, Errors.FENCED_LEADER_EPOCH,
                       Errors.UNKNOWN_LEADER_EPOCH, Errors.NOT_ENOUGH_REPLICAS, Errors.BROKER_NOT_AVAILABLE})
RETRY_BACKOFF_MS = 100


class RawClient:
    """One-request-at-a-time produce and fetch against partition leaders."""

    def __init__(self, client: ClientNode, retries: int = 20) -> None:
        self.client = client
        self.retries = retries

    def _leader(self, tp: TopicPartition) -> Process[int]:
        leader = self.client.leader_of(tp)
        if leader < 0:
            yield from self.client.refresh_metadata((tp.topic,))
            leader = self.client.leader_of(tp)
        return leader

    def produce(self, tp: TopicPartition, batch: bytes, acks: int = -1,
                timeout_ms: int = 30_000) -> Process[PartitionProduceResponse]:
        """Send one encoded batch to the leader of ``tp``; raise KafkaError if it is not written."""
        error, message = Errors.LEADER_NOT_AVAILABLE, None
        for _ in range(self.retries + 1):
            leader = yield from self._leader(tp)
            if leader >= 0:
                sent = self.client.send(leader, ProduceRequest(acks, timeout_ms, {tp: batch}),
                                        timeout_ms=timeout_ms + 1000)
                if acks == 0:
                    # The broker never answers acks=0 (Kafka's producer expects no response): sent is done.
                    return PartitionProduceResponse(Errors.NONE)
                response = yield sent
                if isinstance(response, Errors):
                    error, message = response, None
                else:
                    result = response.partitions[tp]
                    if result.error == Errors.NONE:
                        return result
                    if result.error not in RETRIABLE:
                        raise KafkaError(result.error, result.message or None)
                    error, message = result.error, result.message or None
            self.client.metadata = None
            yield Sleep(RETRY_BACKOFF_MS)
        raise KafkaError(error, message)

    def fetch(self, tp: TopicPartition, offset: int, max_bytes: int = 1_048_576,
              max_wait_ms: int = 0) -> Process[FetchPartitionData]:
        """Fetch committed batches of ``tp`` from ``offset`` (up to the high watermark)."""
        error = Errors.LEADER_NOT_AVAILABLE
        for _ in range(self.retries + 1):
            leader = yield from self._leader(tp)
            if leader >= 0:
                request = FetchRequest(CONSUMER_REPLICA_ID, max_wait_ms, 1, max_bytes,
                                       {tp: FetchPartition(offset, -1, max_bytes)})
                response = yield self.client.send(leader, request)
                if isinstance(response, Errors):
                    error = response
                else:
                    data = response.partitions[tp]
                    if data.error == Errors.NONE:
                        return data
                    if data.error not in RETRIABLE:
                        raise KafkaError(data.error)
                    error = data.error
            self.client.metadata = None
            yield Sleep(RETRY_BACKOFF_MS)
        raise KafkaError(error)

    def describe_producers(self, tp: TopicPartition) -> Process[PartitionProducers]:
        """The producers the leader of ``tp`` knows (DescribeProducers, as Kafka's Admin sends it to the leader)."""
        error = Errors.LEADER_NOT_AVAILABLE
        for _ in range(self.retries + 1):
            leader = yield from self._leader(tp)
            if leader >= 0:
                response = yield self.client.send(leader, DescribeProducersRequest((tp,)))
                if isinstance(response, Errors):
                    error = response
                else:
                    answer = response.partitions[tp]
                    if answer.error == Errors.NONE:
                        return answer
                    if answer.error not in RETRIABLE:
                        raise KafkaError(answer.error)
                    error = answer.error
            self.client.metadata = None
            yield Sleep(RETRY_BACKOFF_MS)
        raise KafkaError(error)
