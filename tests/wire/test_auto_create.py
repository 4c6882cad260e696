"""A real producer sending to a topic nobody created, on a cluster with auto.create.topics.enable=true."""

from __future__ import annotations

from pathlib import Path

import pytest

kafka = pytest.importorskip("kafka")
confluent_kafka = pytest.importorskip("confluent_kafka")

from kafka import KafkaProducer  # noqa: E402

from tests.wire.serve_process import ServeProcess  # noqa: E402


def test_kafka_python_creates_its_topic_by_producing_to_it(tmp_path: Path) -> None:
    serve = ServeProcess(tmp_path / "data", brokers=2,
                         extra=("--config", "auto.create.topics.enable=true", "--config", "num.partitions=2"))
    try:
        producer = KafkaProducer(bootstrap_servers=serve.bootstrap, client_id="auto-producer")
        sent = producer.send("kp-auto", b"first").get(timeout=30)
        assert sent.topic == "kp-auto" and sent.offset == 0
        producer.close()
        described = serve.act("describe_topic: kp-auto")["result"]
        assert len(described["partitions"]) == 2
        serve.wait_for(lambda: any("auto-created topic kp-auto" in line and "auto-producer" in line
                                   for line in serve.narration), what="the auto-creation narrated")

        # librdkafka's consumer asks for its subscription with allow_auto_topic_creation=false: nothing is made.
        consumer = confluent_kafka.Consumer({"bootstrap.servers": serve.bootstrap, "group.id": "kp-auto-group"})
        consumer.subscribe(["kp-not-made"])
        for _ in range(5):
            consumer.poll(0.3)
        consumer.close()
        assert serve.act("describe_topic: kp-not-made")["error"] == "UNKNOWN_TOPIC_OR_PARTITION"
    finally:
        assert serve.stop() == 0
