"""The finalized features a Kafka 4.1 cluster starts with (``kafka-storage format`` bootstrap metadata).

The first active controller of a new cluster writes them as FeatureLevelRecords before
anything else, as Kafka's controller writes the bootstrap records on its first activation.
"""

from __future__ import annotations

#: ``MetadataVersion.IBP_4_1_IV1``, the newest production metadata.version of Kafka 4.1.
METADATA_VERSION = 27
METADATA_VERSION_NAME = "4.1-IV1"

#: Feature levels a new 4.1 cluster finalizes; ELR (KIP-966) is on by default from 4.1.
BOOTSTRAP_FEATURES: tuple[tuple[str, int], ...] = (
    ("metadata.version", METADATA_VERSION),
    ("eligible.leader.replicas.version", 1),
    ("group.version", 1),
    ("transaction.version", 2),
)
