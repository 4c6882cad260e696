"""kafkalab: a real, breakable, visible Kafka-like cluster for learning Kafka."""

__version__ = "0.1.0"
#: The Apache Kafka release and mode kafkalab's cluster behaves like (ARCHITECTURE.md, "Which Kafka").
MODELLED_KAFKA = "Apache Kafka 3.9 (ZooKeeper mode)"
#: The Apache Kafka release KRaft mode behaves like.
MODELLED_KAFKA_KRAFT = "Apache Kafka 4.1 (KRaft mode)"
