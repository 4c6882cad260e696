"""A seeded fault campaign: brokers die mid-transaction, yet read_committed sees each transaction whole or not at all.

Each seed runs transactions of a few records over two partitions and kills, at a random
moment (before the sends, after them, or as the commit or abort is asked for), either the
transactional id's coordinator or a partition leader, restarting it a little later. A
commit or abort that returned fixes the outcome; one that failed leaves it unknown, and
then the transaction must still be all or nothing.
"""

from __future__ import annotations

import random

import pytest

from kafkalab.cluster.cluster import Cluster
from kafkalab.errors import KafkaError
from kafkalab.protocol.types import TopicPartition

TOPIC = "orders"
TRANSACTIONAL_ID = "campaign"


def _read_committed(cluster: Cluster) -> list[str]:
    consumer = cluster.consumer(auto_offset_reset="earliest", isolation_level="read_committed",
                                enable_auto_commit=False)
    consumer.assign([TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)])
    values: list[str] = []
    for _ in range(30):
        values += [r.value.decode() for r in cluster.wait(consumer.poll(500)) if r.value is not None]
    cluster.wait(consumer.close())
    return values


def _victim(cluster: Cluster, rng: random.Random) -> int | None:
    view = cluster.snapshot()
    if rng.random() < 0.5:
        transaction = view.transaction(TRANSACTIONAL_ID)
        return transaction.coordinator if transaction is not None else None
    partition = view.partition(TOPIC, rng.randrange(2))
    return partition.leader if partition is not None else None


def _settle(cluster: Cluster, future) -> bool:
    """True if the future completed without error within the time a failover takes."""
    try:
        cluster.wait(future, timeout_ms=150_000)
    except KafkaError:
        return False
    return True


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_killed_coordinators_and_leaders_never_expose_aborted_or_duplicate_records(clusters, seed: int) -> None:
    rng = random.Random(seed)
    cluster = clusters.open(brokers=3, seed=seed, broker_config={"group.initial.rebalance.delay.ms": 0})
    cluster.wait(cluster.create_topic(TOPIC, 2, 3))
    producer = cluster.producer(transactional_id=TRANSACTIONAL_ID, client_id="campaign-0")
    cluster.wait(producer.init_transactions())
    committed: list[list[str]] = []
    aborted: list[list[str]] = []
    unknown: list[list[str]] = []
    for number in range(6):
        values = [f"t{number}-{i}" for i in range(rng.randint(1, 5))]
        commit = rng.random() < 0.6
        kill_at = rng.choice(["before sends", "after sends", "at the end"])
        victim = _victim(cluster, rng)
        producer.begin_transaction()
        if kill_at == "before sends" and victim is not None:
            cluster.kill_broker(victim)
        for i, value in enumerate(values):
            producer.send(TOPIC, value, partition=i % 2)
        if kill_at == "after sends" and victim is not None:
            cluster.run_for(rng.uniform(0, 50))
            cluster.kill_broker(victim)
        ending = producer.commit_transaction() if commit else producer.abort_transaction()
        if kill_at == "at the end" and victim is not None:
            cluster.kill_broker(victim)
        ended = _settle(cluster, ending)
        if ended:
            (committed if commit else aborted).append(values)
        else:
            unknown.append(values)
            # Whatever failed, a new instance fences this one and aborts what it left open.
            producer.crash()
            producer = cluster.producer(transactional_id=TRANSACTIONAL_ID, client_id=f"campaign-{number + 1}")
            assert _settle(cluster, producer.init_transactions())
        if victim is not None:
            cluster.run_for(rng.uniform(1000, 5000))
            cluster.wait(cluster.restart_broker(victim), timeout_ms=150_000)
    cluster.run_for(30_000)
    seen = _read_committed(cluster)
    assert len(seen) == len(set(seen)), "a record was read twice"
    for values in aborted:
        assert not set(values) & set(seen), f"aborted {values} was read"
    for values in committed:
        assert set(values) <= set(seen), f"committed {values} was not read whole"
    for values in unknown:
        assert set(values) <= set(seen) or not set(values) & set(seen), f"{values} was read in part"
    assert committed, "the campaign should commit something"
