"""KRaft's controller quorum: Raft for the metadata log, as Apache Kafka 4.1 runs it (KIP-595, KIP-996, KIP-630).

``client.RaftNode`` is one replica on the scheduler and network; ``quorum_state`` is its
pure state machine; ``metadata_log`` and ``snapshots`` are ``__cluster_metadata-0`` on disk.
"""
