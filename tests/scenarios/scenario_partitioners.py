"""Users' partitioners for the --partitioner tests: everything to the last partition, or a failure."""


def last_partition(topic: str, key: bytes | None, value: bytes | None, num_partitions: int) -> int:
    return num_partitions - 1


def broken(topic: str, key: bytes | None, value: bytes | None, num_partitions: int) -> int:
    """A partitioner with a bug in it."""
    return num_partitions // 0
