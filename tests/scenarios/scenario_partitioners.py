"""Users' partitioners for the --partitioner tests: everything to the last partition, or a failure."""


def last_partition(topic: str, key: bytes | None, value: bytes | None, num_partitions: int) -> int:
    return num_partitions - 1


def failing(topic: str, key: bytes | None, value: bytes | None, num_partitions: int) -> int:
    raise ZeroDivisionError("the user's code failed")
