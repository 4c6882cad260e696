"""The controller quorum's configuration: Kafka 4.1's keys and defaults (``QuorumConfig``, ``KRaftConfigs``).

Parsed like every other kafkalab config (``kafkalab.config``): a bad key or value raises
``KafkaError(INVALID_CONFIG)`` naming the key and the rule. The snapshot thresholds are
read by the quorum's listener (the controller), which decides when to snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kafkalab.config import ConfigKey, parse_configs
from kafkalab.errors import Errors, KafkaError

_KEYS = (
    ConfigKey("controller.quorum.election.timeout.ms", "int", 1000,
              "Longest a voter waits without a leader before starting an election; each wait is drawn "
              "at random between this and twice this.", minimum=0),
    ConfigKey("controller.quorum.fetch.timeout.ms", "int", 2000,
              "Longest a voter waits without a successful fetch from the leader before starting an election.",
              minimum=0),
    ConfigKey("controller.quorum.election.backoff.max.ms", "int", 1000,
              "Longest wait before an election after the leader resigned (EndQuorumEpoch).", minimum=0),
    ConfigKey("controller.quorum.request.timeout.ms", "int", 2000,
              "How long a quorum request waits for its response.", minimum=1),
    ConfigKey("controller.quorum.retry.backoff.ms", "int", 20,
              "How long to wait before retrying a failed quorum request to the same node.", minimum=0),
    ConfigKey("controller.quorum.append.linger.ms", "int", 25,
              "How long the leader gathers appended records into one batch before writing it.", minimum=0),
    ConfigKey("metadata.log.segment.bytes", "int", 1_073_741_824,
              "Size at which the metadata log rolls to a new segment.", minimum=12),
    ConfigKey("metadata.log.segment.min.bytes", "int", 8 * 1024 * 1024,
              "Smallest metadata.log.segment.bytes Kafka accepts (an internal setting, lowered only in tests).",
              minimum=12),
    ConfigKey("metadata.log.segment.ms", "long", 604_800_000,
              "Age at which the metadata log rolls to a new segment.", minimum=1),
    ConfigKey("metadata.max.retention.bytes", "long", 104_857_600,
              "Once the metadata log and its snapshots exceed this, the oldest snapshot and the log before the "
              "next one are deleted; -1 keeps everything."),
    ConfigKey("metadata.max.retention.ms", "long", 604_800_000,
              "Snapshots older than this are deleted (with the log before the next one); -1 keeps them."),
    ConfigKey("metadata.log.max.record.bytes.between.snapshots", "long", 20_971_520,
              "The controller takes a snapshot once this many bytes of records were committed since the last one.",
              minimum=1),
    ConfigKey("metadata.log.max.snapshot.interval.ms", "long", 3_600_000,
              "The controller takes a snapshot at least this often while records arrive; 0 disables it.",
              minimum=0),
)
QUORUM_CONFIG_KEYS: dict[str, ConfigKey] = {key.name: key for key in _KEYS}


@dataclass(frozen=True)
class QuorumConfig:
    """Effective quorum settings, attributes named after Kafka's keys."""

    election_timeout_ms: int
    fetch_timeout_ms: int
    election_backoff_max_ms: int
    request_timeout_ms: int
    retry_backoff_ms: int
    append_linger_ms: int
    log_segment_bytes: int
    log_segment_min_bytes: int
    log_segment_ms: int
    max_retention_bytes: int
    max_retention_ms: int
    max_record_bytes_between_snapshots: int
    max_snapshot_interval_ms: int

    @classmethod
    def build(cls, overrides: Mapping[str, Any] | None = None) -> QuorumConfig:
        """Kafka's defaults with ``overrides`` (keyed by Kafka's names) applied and validated."""
        parsed = parse_configs(overrides or {}, QUORUM_CONFIG_KEYS, "quorum")
        values = {key.name: parsed.get(key.name, key.default) for key in _KEYS}
        if values["metadata.log.segment.bytes"] < values["metadata.log.segment.min.bytes"]:
            # KafkaMetadataLog.apply refuses this so a segment always fits the largest batch.
            raise KafkaError(Errors.INVALID_CONFIG,
                             f"Cannot set metadata.log.segment.bytes below metadata.log.segment.min.bytes "
                             f"({values['metadata.log.segment.min.bytes']}): {values['metadata.log.segment.bytes']}.")
        return cls(*(values[key.name] for key in _KEYS))

    @property
    def check_quorum_timeout_ms(self) -> int:
        """A leader that heard from no majority of voters for this long resigns (``LeaderState``: 1.5 x fetch timeout)."""
        return int(self.fetch_timeout_ms * 1.5)

    @property
    def begin_quorum_epoch_interval_ms(self) -> int:
        """How often a leader re-sends BeginQuorumEpoch to voters (half the fetch timeout)."""
        return self.fetch_timeout_ms // 2


DEFAULT_QUORUM_CONFIG = QuorumConfig.build()
