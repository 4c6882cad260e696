"""The group coordinator: consumer group membership, rebalances and committed offsets.

Each broker runs one; it coordinates the groups whose ``__consumer_offsets`` partition
it leads (Kafka's classic ``GroupCoordinator`` with its ``GroupMetadataManager``).
"""
