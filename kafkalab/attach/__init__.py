"""Attaching to a real Kafka cluster: the lab's views and timeline built from a Kafka client's describe rounds.

Nothing here touches the engine: ``observe`` asks the cluster through confluent-kafka (an
optional dependency, imported only when someone attaches), ``build`` turns each round into the
lab's frozen ``ClusterView``, ``narrate`` says what changed between two rounds as observed
events, and ``source`` runs the rounds on a thread of their own.
"""
