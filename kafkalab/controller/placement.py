"""Where a new topic's replicas go: Kafka's rack-unaware replica assignment.

Same algorithm as Apache Kafka's ``AdminUtils.assignReplicasToBrokersRackUnaware``:
partition p's first replica is broker ``(p + start) % n``; followers are shifted by a
per-round offset so that leaders and followers spread evenly. The random start index
and shift come from the cluster's seeded generator, so a seed reproduces a layout.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from kafkalab.errors import Errors, KafkaError


def _replica_index(first_replica_index: int, second_replica_shift: int, replica_index: int, n_brokers: int) -> int:
    shift = 1 + (second_replica_shift + replica_index) % (n_brokers - 1)
    return (first_replica_index + shift) % n_brokers


def assign_replicas(n_partitions: int, replication_factor: int, brokers: Sequence[int], rng: random.Random,
                    fixed_start_index: int = -1, start_partition_id: int = -1) -> dict[int, tuple[int, ...]]:
    """Replica lists for ``n_partitions`` partitions over the sorted live ``brokers``."""
    if n_partitions <= 0:
        raise KafkaError(Errors.INVALID_PARTITIONS, "Number of partitions must be larger than 0.")
    if not isinstance(replication_factor, int) or isinstance(replication_factor, bool) or replication_factor <= 0:
        raise KafkaError(Errors.INVALID_REPLICATION_FACTOR, "Replication factor must be larger than 0.")
    broker_array = sorted(brokers)
    if replication_factor > len(broker_array):
        raise KafkaError(Errors.INVALID_REPLICATION_FACTOR,
                         f"Replication factor: {replication_factor} larger than available brokers: {len(broker_array)}.")
    n = len(broker_array)
    start_index = fixed_start_index if fixed_start_index >= 0 else rng.randrange(n)
    next_replica_shift = fixed_start_index if fixed_start_index >= 0 else rng.randrange(n)
    current = max(0, start_partition_id)
    assignment: dict[int, tuple[int, ...]] = {}
    for _ in range(n_partitions):
        if current > 0 and current % n == 0:
            next_replica_shift += 1
        first = (current + start_index) % n
        replicas = [broker_array[first]]
        replicas += [broker_array[_replica_index(first, next_replica_shift, j, n)] for j in range(replication_factor - 1)]
        assignment[current] = tuple(replicas)
        current += 1
    return assignment
