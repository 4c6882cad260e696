"""A broker process: wires the replica manager, the controller and the group coordinator (Kafka's ``kafka.server``)."""
