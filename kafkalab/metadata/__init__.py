"""KRaft's cluster metadata: Kafka 4.1's metadata records and the state they build.

``records`` holds the records with Kafka's names and byte layouts (``metadata/src/main/
resources/common/metadata/*.json``), framed as Kafka frames them in ``__cluster_metadata``;
``image`` is the cluster state those records build, replayed alike by the controllers and
by every broker.
"""
