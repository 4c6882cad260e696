"""Request and response shapes of the in-process network, close to Kafka's own APIs.

Keeping these shaped like Kafka's (Produce, Fetch, Metadata, LeaderAndIsr, ...) lets a
Kafka wire-protocol listener later be a thin adapter on the same broker handlers.
"""
