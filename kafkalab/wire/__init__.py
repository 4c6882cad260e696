"""The Kafka wire protocol on every broker: real clients (kafka-python, confluent-kafka, kcat) connect.

A thin adapter onto the engine (ARCHITECTURE.md, "Threads"): the engine thread serves the sockets,
reads frames and decodes them with ``kio`` (generated from Kafka's own JSON message schemas),
turns each into the same request object the in-process network carries and sends it from a
client node of its own, so cut links, latency, pauses and views apply to network clients as to
any other.
"""
