"""The data directory: one folder per broker, the coordination store, metadata and a lock.

Layout (what a learner finds on disk)::

    kafkalab.json        cluster id, mode, broker (and controller) count, seed, broker config, virtual clock
    zookeeper/           ZooKeeper mode: the coordination store's snapshot and transaction log
    controller-101/ ...  KRaft mode: each controller's __cluster_metadata-0 log, snapshots and quorum-state
    broker-1/            broker 1's log dir: <topic>-<partition>/ folders and checkpoints (and in KRaft
    broker-2/ ...        mode its replica of __cluster_metadata-0)

An exclusive lock stops a second kafkalab process from opening the same directory.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir

from kafkalab.errors import Errors, KafkaError
from kafkalab.storage.files import storage_errors, write_durably

META_FILE = "kafkalab.json"
LOCK_FILE = ".lock"
FORMAT_VERSION = 1
ZOOKEEPER_MODE = "zookeeper"
KRAFT_MODE = "kraft"
MODES = (ZOOKEEPER_MODE, KRAFT_MODE)


def default_data_dir() -> Path:
    """The per-user data directory (e.g. ``~/.local/share/kafkalab/cluster``)."""
    return Path(user_data_dir("kafkalab", appauthor=False)) / "cluster"


def default_lesson_clusters_dir() -> Path:
    """The per-user folder holding one cluster per lesson (``.../kafkalab/lesson-clusters/<lesson id>``)."""
    return Path(user_data_dir("kafkalab", appauthor=False)) / "lesson-clusters"


@dataclass
class ClusterMeta:
    """What ``kafkalab.json`` records about the cluster stored in a data dir."""

    cluster_id: str
    brokers: int
    seed: int
    broker_config: dict[str, Any] = field(default_factory=dict)
    clock_ms: float = 0.0
    #: ``zookeeper`` (Kafka 3.9) or ``kraft`` (Kafka 4.1): a data dir keeps the mode it was made in.
    mode: str = ZOOKEEPER_MODE
    #: KRaft mode: how many controllers form the quorum.
    controllers: int = 0

    def to_json(self) -> str:
        fields: dict[str, Any] = {"format": FORMAT_VERSION, "cluster_id": self.cluster_id, "brokers": self.brokers,
                                  "seed": self.seed, "broker_config": self.broker_config, "clock_ms": self.clock_ms,
                                  "mode": self.mode}
        if self.mode == KRAFT_MODE:
            fields["controllers"] = self.controllers
        return json.dumps(fields, indent=2, sort_keys=True)


class DataDir:
    """An opened, locked data directory."""

    def __init__(self, path: Path, lock_fd: int, meta: ClusterMeta | None) -> None:
        self.path = path
        self._lock_fd = lock_fd
        self.meta = meta

    @classmethod
    def open(cls, path: Path) -> DataDir:
        """Lock ``path`` (creating it if needed) and read its metadata if it holds a cluster.

        KAFKA_STORAGE_ERROR naming the file when the file system refuses (a read-only mount, say).
        """
        path = Path(path).expanduser()
        if path.exists() and not path.is_dir():
            raise KafkaError(Errors.DATA_DIR_INVALID, f"{path} is a file, not a kafkalab data directory.")
        with storage_errors(path, "create the data directory"):
            path.mkdir(parents=True, exist_ok=True)
        meta_path = path / META_FILE
        if not meta_path.exists() and any(p.name != LOCK_FILE for p in path.iterdir()):
            raise KafkaError(Errors.DATA_DIR_INVALID,
                             f"{path} is not empty and has no {META_FILE}: it is not a kafkalab data directory, "
                             f"so kafkalab will not write into it.")
        with storage_errors(path / LOCK_FILE, "open the lock file"):
            lock_fd = os.open(path / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.read(lock_fd, 64).decode(errors="replace").strip() or "another process"
            os.close(lock_fd)
            raise KafkaError(Errors.DATA_DIR_LOCKED,
                             f"{path} is in use by kafkalab process {holder}; close it or choose another --data-dir."
                             ) from None
        try:
            with storage_errors(path / LOCK_FILE, "write the lock file"):
                os.ftruncate(lock_fd, 0)
                os.pwrite(lock_fd, str(os.getpid()).encode(), 0)
            meta = cls._read_meta(meta_path) if meta_path.exists() else None
        except KafkaError:
            os.close(lock_fd)
            raise
        return cls(path, lock_fd, meta)

    @staticmethod
    def _read_meta(meta_path: Path) -> ClusterMeta:
        try:
            raw = json.loads(meta_path.read_bytes())
            if not isinstance(raw, dict) or raw.get("format") != FORMAT_VERSION:
                raise ValueError(f"unsupported format {raw.get('format') if isinstance(raw, dict) else raw!r}")
            meta = ClusterMeta(str(raw["cluster_id"]), int(raw["brokers"]), int(raw["seed"]),
                               dict(raw.get("broker_config", {})), float(raw.get("clock_ms", 0.0)),
                               str(raw.get("mode", ZOOKEEPER_MODE)), int(raw.get("controllers", 0)))
            if meta.brokers < 1 or not math.isfinite(meta.clock_ms) or meta.clock_ms < 0:
                raise ValueError(f"brokers {meta.brokers} and clock_ms {meta.clock_ms} make no cluster")
            if meta.mode not in MODES or (meta.mode == KRAFT_MODE and meta.controllers < 1):
                raise ValueError(f"mode {meta.mode!r} with {meta.controllers} controllers makes no cluster")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise KafkaError(Errors.DATA_DIR_INVALID, f"{meta_path} is unreadable ({exc}).") from None
        return meta

    def write_meta(self, meta: ClusterMeta) -> None:
        """Atomically record the cluster's metadata; KafkaStorageError if the file system refuses."""
        self.meta = meta
        with storage_errors(self.path / META_FILE, "write"):
            write_durably(self.path / META_FILE, meta.to_json().encode(), sync=False)

    def broker_dir(self, broker_id: int) -> Path:
        return self.path / f"broker-{broker_id}"

    def controller_dir(self, node_id: int) -> Path:
        """A KRaft controller's metadata log dir."""
        return self.path / f"controller-{node_id}"

    @property
    def zookeeper_dir(self) -> Path:
        return self.path / "zookeeper"

    def wipe(self) -> None:
        """Delete the stored cluster (``--fresh``), keeping the lock."""
        with storage_errors(self.path, "delete"):
            for child in self.path.iterdir():
                if child.name == LOCK_FILE:
                    continue
                if child.is_dir():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        self.meta = None

    def close(self) -> None:
        """Release the lock."""
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1
