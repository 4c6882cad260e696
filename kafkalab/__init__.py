"""kafkalab: a real, breakable, visible Kafka-like cluster for learning Kafka."""

__version__ = "0.1.0"
