"""Kafka's on-disk names: segment files, their suffixes, and partition directories.

Names follow ``LogFileUtils`` so a learner can look inside a broker's log dir and find
what Kafka would put there: ``00000000000000000042.log`` next to its ``.index`` and
``.timeindex``, inside ``<topic>-<partition>``.
"""

from __future__ import annotations

import os
from pathlib import Path

LOG_SUFFIX = ".log"
INDEX_SUFFIX = ".index"
TIME_INDEX_SUFFIX = ".timeindex"
#: A segment the cleaner is still writing; deleted on load (Kafka's ``CLEANED_FILE_SUFFIX``).
CLEANED_SUFFIX = ".cleaned"
#: A cleaned segment ready to replace the originals; completed on load (``SWAP_FILE_SUFFIX``).
SWAP_SUFFIX = ".swap"
#: A segment being removed; deleted on load (``DELETED_FILE_SUFFIX``).
DELETED_SUFFIX = ".deleted"
#: A partition directory being deleted ends ``.<id>-delete``, as in Kafka's ``LocalLog``.
DELETE_DIR_SUFFIX = "-delete"
#: The longest file name most file systems allow; Kafka caps renamed log dirs to it.
MAX_FILE_NAME_LENGTH = 255
SEGMENT_FILE_SUFFIXES = (LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX)


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
