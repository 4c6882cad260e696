"""Producer ids for idempotent producers (Kafka's ZooKeeper-mode ``ZkProducerIdManager``).

Brokers reserve ids in blocks of 1000 by a conditional write of
``/latest_producer_id_block`` (``{"version":1,"broker":B,"block_start":"S","block_end":"E"}``):
if another broker wrote first, the version check fails and the broker reads and tries
again, so no id is ever handed out twice. InitProducerId takes the next id of the block.
"""

from __future__ import annotations

import json
from typing import Protocol

from kafkalab.broker.context import BrokerContext
from kafkalab.coordination import paths
from kafkalab.coordination.client import CoordinationClient
from kafkalab.coordination.protocol import ZkCode, ZkException
from kafkalab.errors import Errors
from kafkalab.events.clients import ProducerIdBlockClaimed
from kafkalab.protocol.groups import InitProducerIdRequest, InitProducerIdResponse
from kafkalab.sim.network import Responder
from kafkalab.sim.process import Future, Process, spawn

#: ``ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE``.
BLOCK_SIZE = 1000


class ProducerIdSource(Protocol):
    """Where a broker's producer ids come from: ZooKeeper blocks here, the controller's in KRaft mode (KIP-730)."""

    def generate(self) -> Future[int]:
        """The next producer id."""
        ...

    def handle_init_producer_id(self, request: InitProducerIdRequest, respond: Responder) -> None:
        """Answer a non-transactional producer's InitProducerId with a fresh id at epoch 0."""
        ...


class ProducerIdManager:
    """Hands out producer ids from this broker's current block, claiming a new block when it runs out."""

    def __init__(self, ctx: BrokerContext, zk: CoordinationClient) -> None:
        self.ctx = ctx
        self.zk = zk
        self._next = 0
        self._end = -1  # no block yet

    def handle_init_producer_id(self, request: InitProducerIdRequest, respond: Responder) -> None:
        """Answer InitProducerId for a non-transactional producer: a fresh id at epoch 0 (the transaction
        coordinator answers transactional ones)."""
        if request.transactional_id is not None:
            respond(InitProducerIdResponse(Errors.INVALID_REQUEST))
            return

        def done(future: Future[int]) -> None:
            if future.error is not None:
                respond(InitProducerIdResponse(Errors.COORDINATOR_NOT_AVAILABLE))
            else:
                respond(InitProducerIdResponse(Errors.NONE, future.result(), 0))

        self.generate().add_done_callback(done)

    def generate(self) -> Future[int]:
        """The next producer id, claiming a new block first if this one is used up."""
        return spawn(self.ctx.group, self._generate(), name="InitProducerId").claim()

    def _generate(self) -> Process[int]:
        while self._next > self._end:
            yield from self._claim_block()
        producer_id = self._next
        self._next += 1
        return producer_id

    def _claim_block(self) -> Process[None]:
        while True:
            current = yield self.zk.get_data(paths.PRODUCER_ID_BLOCK)
            start = int(json.loads(current.data)["block_end"]) + 1 if current.data else 0
            data = paths.dumps({"version": 1, "broker": self.ctx.broker_id, "block_start": str(start),
                                "block_end": str(start + BLOCK_SIZE - 1)})
            try:
                yield self.zk.set_data(paths.PRODUCER_ID_BLOCK, data, current.stat.version)
            except ZkException as exc:
                if exc.code == ZkCode.BAD_VERSION:
                    continue  # another broker claimed this block first
                raise
            self._next, self._end = start, start + BLOCK_SIZE - 1
            self.ctx.journal.emit(ProducerIdBlockClaimed, broker_id=self.ctx.broker_id, block_start=start,
                                  block_end=self._end)
            return
