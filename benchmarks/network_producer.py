"""A confluent-kafka producer in its own process, sending at a steady rate until stopped: a learner's client.

Run by the TUI benchmarks' ``--network`` mode as ``python benchmarks/network_producer.py BOOTSTRAP TOPIC RATE``:
it sends ``RATE`` keyed 100-byte records per second (librdkafka's defaults: acks=all,
linger.ms 5) in 1 ms ticks, prints ``ready`` once its first record is acknowledged, and on
end of input (or SIGTERM) flushes and prints ``sent N acknowledged M``.
"""

from __future__ import annotations

import signal
import sys
import threading
import time

from confluent_kafka import Producer


def main() -> None:
    bootstrap, topic, rate = sys.argv[1], sys.argv[2], int(sys.argv[3])
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    producer = Producer({"bootstrap.servers": bootstrap, "client.id": "bench-producer"})
    acknowledged = [0]

    def delivered(error: object, message: object) -> None:
        if error is None:
            acknowledged[0] += 1

    producer.produce(topic, key=b"warm-up", value=b"x" * 100, on_delivery=delivered)
    producer.flush(60)
    print("ready", flush=True)
    value = b"x" * 100
    began = time.perf_counter()
    sent = 0
    while not stop.is_set():
        due = int((time.perf_counter() - began) * rate)
        while sent < due:
            try:
                producer.produce(topic, key=b"key-%d" % (sent % 1000), value=value, on_delivery=delivered)
            except BufferError:
                break  # librdkafka's queue is full: the cluster is behind, and the achieved rate says so
            sent += 1
        producer.poll(0)
        time.sleep(0.001)
    producer.flush(60)
    print(f"sent {sent} acknowledged {acknowledged[0] - 1}", flush=True)


if __name__ == "__main__":
    main()
