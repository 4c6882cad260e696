"""Transactional producers on a real cluster: ``produce`` with a ``transactional_id``, through confluent-kafka.

As in the lab's step (``Produce`` in ``kafkalab/actions/client_actions.py``), a session keeps one
producer per configuration: the first step with a transactional id initializes it
(InitProducerId, which fences an older producer of the id and has its open transaction
aborted, KIP-98), a step joins the transaction an earlier step left open or begins one, and
its ``end`` commits the transaction, aborts it (its records stay in the log, skipped by
read_committed consumers) or leaves it open for a later step. confluent-kafka does not say
whether a transaction is open, so each producer's is kept here. When the session ends an open
transaction is aborted, as Java's producer aborts one on ``close()`` (``Sender.run``: "Aborting
incomplete transaction due to shutdown"), rather than left to hold read_committed consumers
back until ``transaction.timeout.ms``.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

from kafkalab.actions.client_actions import TransactionEnd


@dataclass(eq=False)
class RealTransactionalProducer:
    """A librdkafka producer with a ``transactional.id``, and whether it is in a transaction."""

    producer: Any
    open: bool = False


class TransactionalProducers:
    """The transactional producers of one attached session, one per configuration."""

    def __init__(self, ck: ModuleType, timeout_s: float) -> None:
        self._ck = ck
        self._timeout = timeout_s
        self._producers: dict[tuple[tuple[str, Any], ...], RealTransactionalProducer] = {}

    def begin(self, config: dict[str, Any]) -> RealTransactionalProducer:
        """The producer of ``config`` (initialized on first use) in a transaction: the open one, or a new one."""
        key = tuple(sorted(config.items()))
        held = self._producers.get(key)
        if held is None:
            producer = self._ck.Producer(config)
            producer.init_transactions(self._timeout)
            held = self._producers[key] = RealTransactionalProducer(producer)
        if not held.open:
            held.producer.begin_transaction()
            held.open = True
        return held

    def end(self, held: RealTransactionalProducer, end: TransactionEnd) -> None:
        """Commit or abort the transaction (``open`` leaves it to a later step). A commit or abort that fails leaves
        the producer in the state librdkafka left it, as the lab's producer keeps its error state."""
        if end == "open":
            return
        if end == "commit":
            held.producer.commit_transaction(self._timeout)
        else:
            held.producer.abort_transaction(self._timeout)
        held.open = False

    def close(self) -> None:
        """Abort every open transaction (the session is ending); a producer that cannot abort is dropped as it is."""
        for held in self._producers.values():
            if held.open:
                try:
                    held.producer.abort_transaction(self._timeout)
                except self._ck.KafkaException:
                    pass  # fenced or failed: the coordinator aborts it at transaction.timeout.ms
                held.open = False
        self._producers.clear()
