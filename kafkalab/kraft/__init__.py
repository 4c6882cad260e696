"""KRaft mode: controllers as their own nodes over the Raft quorum, and brokers that follow the metadata log.

Modelled on Apache Kafka 4.1: ``QuorumController`` with ``ReplicationControlManager``,
``ClusterControlManager`` and ``PartitionChangeBuilder`` on the controller side, and on
the broker side ``BrokerLifecycleManager`` (register, heartbeat) with the metadata
publishers that apply the log to the metadata cache and the replicas.
"""
