"""Partition logs on disk in Apache Kafka's own format: segments, indexes, checkpoints, recovery, compaction.

``log_manager.LogManager`` owns a broker's log dir and its ``log.PartitionLog`` replicas;
``records`` is the v2 batch codec clients use too; ``dump`` backs ``kafkalab dump-log``.
The layer returns frozen results (``results``) and never emits events itself.
"""
