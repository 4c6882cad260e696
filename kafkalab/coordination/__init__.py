"""The ZooKeeper-like coordination service: znodes, sessions, ephemeral nodes and watches."""
