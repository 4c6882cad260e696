"""Kafka's on-disk names: segment files, their suffixes, and partition directories.

Names follow ``LogFileUtils`` so a learner can look inside a broker's log dir and find
what Kafka would put there: ``00000000000000000042.log`` next to its ``.index`` and
``.timeindex``, inside ``<topic>-<partition>``.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from types import TracebackType

from kafkalab.errors import Errors, KafkaError

LOG_SUFFIX = ".log"
INDEX_SUFFIX = ".index"
TIME_INDEX_SUFFIX = ".timeindex"
#: A segment's aborted-transaction index (``LogFileUtils.TXN_INDEX_FILE_SUFFIX``), written only once a transaction aborts.
TXN_INDEX_SUFFIX = ".txnindex"
#: A segment the cleaner is still writing; deleted on load (Kafka's ``CLEANED_FILE_SUFFIX``).
CLEANED_SUFFIX = ".cleaned"
#: A cleaned segment ready to replace the originals; completed on load (``SWAP_FILE_SUFFIX``).
SWAP_SUFFIX = ".swap"
#: A segment being removed; deleted on load (``DELETED_FILE_SUFFIX``).
DELETED_SUFFIX = ".deleted"
#: A file being replaced atomically; deleted on load.
TEMP_SUFFIX = ".tmp"
#: A partition directory being deleted ends ``.<id>-delete``, as in Kafka's ``LocalLog``.
DELETE_DIR_SUFFIX = "-delete"
#: The longest file name most file systems allow; Kafka caps renamed log dirs to it.
MAX_FILE_NAME_LENGTH = 255
SEGMENT_FILE_SUFFIXES = (LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX)


def segment_file(directory: Path, base_offset: int, extension: str, suffix: str = "") -> Path:
    """The file of a segment: its base offset zero-padded to 20 digits, the extension, any suffix."""
    return directory / f"{base_offset:020d}{extension}{suffix}"


def parse_segment_file_name(name: str) -> tuple[int, str, str] | None:
    """``(base_offset, extension, suffix)`` of a segment file name, or None if it is not one."""
    stem, dot, rest = name.partition(".")
    if not dot or len(stem) != 20 or not stem.isdigit():
        return None
    for extension in SEGMENT_FILE_SUFFIXES:
        ext_name = extension[1:]
        if rest == ext_name:
            return int(stem), extension, ""
        for suffix in (CLEANED_SUFFIX, SWAP_SUFFIX, DELETED_SUFFIX):
            if rest == ext_name + suffix:
                return int(stem), extension, suffix
    return None


class KafkaStorageError(KafkaError):
    """KAFKA_STORAGE_ERROR: the file system refused an operation (Kafka's ``KafkaStorageException``).

    It names the file and the operation in one line, e.g. ``Cannot append to
    /data/broker-1/orders-0/00000000000000000000.log: Read-only file system (EROFS).``
    """

    def __init__(self, path: Path | str, operation: str, cause: OSError) -> None:
        self.path = str(path)
        self.operation = operation
        code = errno.errorcode.get(cause.errno or 0)
        self.reason = f"{cause.strerror or cause}" + (f" ({code})" if code else "")
        super().__init__(Errors.KAFKA_STORAGE_ERROR, f"Cannot {operation} {self.path}: {self.reason}.")


class storage_errors:  # named as the function it replaced: ``with storage_errors(path, "read"):``
    """Turn an OSError raised inside into KafkaStorageError naming the file and ``operation`` ("append to").

    A class rather than a ``@contextmanager`` generator: every segment read and append of every
    replica goes through one, and a generator-based one cost more than the read or write itself.
    """

    __slots__ = ("operation", "path")

    def __init__(self, path: Path | str, operation: str) -> None:
        self.path = path
        self.operation = operation

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if isinstance(exc, OSError):
            raise storage_error(self.path, self.operation, exc) from None


def storage_error(path: Path | str, operation: str, exc: OSError) -> KafkaStorageError:
    """What ``storage_errors`` raises for ``exc``, for a path too hot for a context manager (a segment's append and read)."""
    return KafkaStorageError(exc.filename or path, operation, exc)


def write_durably(path: Path, data: bytes, sync: bool = True) -> None:
    """Replace ``path`` with ``data`` atomically: write a temp file, fsync it, rename it over, fsync the directory.

    A crash leaves the old file or the new one, never half of one; without ``sync`` a
    killed process still does, and only a machine crash could lose the new content.
    """
    temp = path.with_name(path.name + TEMP_SUFFIX)
    with open(temp, "wb") as file:
        file.write(data)
        file.flush()
        if sync:
            os.fsync(file.fileno())
    os.replace(temp, path)
    if sync:
        fsync_directory(path.parent)


def fsync_directory(directory: Path) -> None:
    """fsync a directory so that files created, renamed or deleted in it survive a machine crash."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def partition_dir_name(topic: str, partition: int) -> str:
    """The directory of a partition's log: ``<topic>-<partition>``."""
    return f"{topic}-{partition}"


def delete_dir_name(topic: str, partition: int, unique_id: str) -> str:
    """``<topic>-<partition>.<unique_id>-delete``, the topic cut so the name fits 255 bytes (``LocalLog.logDeleteDirName``)."""
    suffix = f"-{partition}.{unique_id}{DELETE_DIR_SUFFIX}"
    return topic[:max(0, MAX_FILE_NAME_LENGTH - len(suffix))] + suffix


def parse_partition_dir_name(name: str) -> tuple[str, int] | None:
    """``(topic, partition)`` of a partition directory, split at the last '-' as Kafka does."""
    topic, dash, partition = name.rpartition("-")
    if not dash or not topic or not partition.isdigit():
        return None
    return topic, int(partition)
