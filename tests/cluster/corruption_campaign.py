"""A seeded corruption campaign: damage partition logs and checkpoints on disk, then read everything back.

Each seed writes acknowledged records (acks=all, RF=3, ``min.insync.replicas=2``) whose
values check themselves, then damages the files of a leader or a follower: bit flips,
torn tails, zeroed ranges, checkpoints and indexes of text or random bytes. It damages a
broker that is stopped cleanly (the clean-shutdown marker is there), one that crashed
(no marker), or one that runs. After more writes and a settling period, a consumer with
``check.crcs`` reads every partition from the start, seeking past CORRUPT_MESSAGE as
Kafka's error tells it to. The campaign asserts that

- nothing raises out of the engine (no traceback) and the data dir opens again;
- no record is ever delivered damaged: every value checks itself, at the offset it was
  acknowledged at;
- no acknowledged record goes missing without an event that explains it: a read that
  met the damage (CorruptDataFound, the consumer's CORRUPT_MESSAGE), or a recovery or
  truncation that cut acknowledged records (LogRecovered, LogTruncated with DATA LOSS),
  which is what Kafka loses for the same damage too;
- every partition has a leader again once every broker that can restart has.

Bit flips spare the base offset and partition leader epoch of a batch: Kafka's format
keeps those outside the CRC so that followers may rewrite them, and neither Kafka nor
kafkalab can tell a flip there from a real value.

Replay seeds: ``python tests/cluster/corruption_campaign.py --seeds 0-49 [--journal]``.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import traceback
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from kafkalab.cluster.cluster import Cluster
from kafkalab.errors import Errors, KafkaError
from kafkalab.events.clients import PollFailed
from kafkalab.events.cluster import LogTruncated
from kafkalab.events.failures import ReplicaFetchFailed
from kafkalab.events.journal import Event
from kafkalab.events.storage import CorruptDataFound, LogRecovered
from kafkalab.protocol.types import TopicPartition
from kafkalab.sim.scheduler import DEFAULT_START_MS
from kafkalab.storage.records import iter_batch_headers

TOPIC = "damaged"
PARTITIONS = 2
CONFIG = {"zookeeper.session.timeout.ms": 6000, "replica.lag.time.max.ms": 8000, "request.timeout.ms": 8000}
TOPIC_CONFIG = {"min.insync.replicas": 2, "segment.bytes": 1500}
CHECKPOINTS = ("recovery-point-offset-checkpoint", "replication-offset-checkpoint", "log-start-offset-checkpoint",
               "cleaner-offset-checkpoint")
#: Bytes of a batch outside its CRC that no check can tell from real values: base offset and leader epoch.
UNPROTECTED = set(range(0, 8)) | set(range(12, 16))
FAULTS = ("flip", "flip", "tear", "zero", "checkpoint", "epochs", "index")
MODES = ("clean", "crash", "running")


def value_of(partition: int, sequence: int) -> bytes:
    """A record value that proves itself intact: its text and a CRC32 of that text."""
    text = b"p%d-s%06d" % (partition, sequence)
    return text + b"-%08x" % zlib.crc32(text)


def intact(value: bytes | None) -> bool:
    if value is None or value.count(b"-") != 2:
        return False
    text, _, check = value.rpartition(b"-")
    return check == b"%08x" % zlib.crc32(text)


@dataclass
class Writes:
    """Acknowledged records of one partition by offset."""

    partition: int
    acknowledged: dict[int, bytes] = field(default_factory=dict)
    sequence: int = 0
    failed: int = 0

    def produce(self, cluster: Cluster, rng: random.Random) -> None:
        records = [value_of(self.partition, self.sequence + n) for n in range(rng.randint(1, 4))]
        self.sequence += len(records)
        try:
            result = cluster.wait(cluster.produce(TOPIC, self.partition, [(b"k", v) for v in records]), 30_000)
        except KafkaError:
            self.failed += 1
            return
        for n, value in enumerate(records):
            self.acknowledged[result.base_offset + n] = value


@dataclass
class CampaignReport:
    """What one seed did and found."""

    seed: int
    faults: list[str]
    acknowledged: int
    delivered: int
    reported_corrupt: int
    explained_losses: int
    journal: list[str]


class CampaignFailure(AssertionError):
    """A check failed; the message names the seed to replay."""

    journal: list[str] = []


def _partition_dir(cluster: Cluster, broker_id: int, partition: int) -> Path:
    return cluster.data_dir.broker_dir(broker_id) / f"{TOPIC}-{partition}"


def _damage(cluster: Cluster, rng: random.Random, fault: str, broker_id: int, partition: int) -> str:
    """Damage one file of ``broker_id``'s replica of ``partition``; describe what was done."""
    directory = _partition_dir(cluster, broker_id, partition)
    logs = sorted(directory.glob("*.log"))
    if fault in ("checkpoint", "epochs", "index"):
        if fault == "checkpoint":
            path = cluster.data_dir.broker_dir(broker_id) / rng.choice(CHECKPOINTS)
        elif fault == "epochs":
            path = directory / "leader-epoch-checkpoint"
        else:
            path = rng.choice(sorted(directory.glob("*.index")) + sorted(directory.glob("*.timeindex"))
                              or [directory / "00000000000000000000.index"])
        garbage = rng.choice([b"0\n1\nnot a checkpoint\n", rng.randbytes(rng.randint(1, 300))])
        path.write_bytes(garbage)
        return f"{fault}: {len(garbage)} bytes of garbage in {path.relative_to(cluster.data_dir.path)}"
    segment = logs[-1] if fault == "tear" else rng.choice(logs)
    raw = bytearray(segment.read_bytes())
    where = segment.relative_to(cluster.data_dir.path)
    if not raw:
        return f"{fault}: {where} is empty, nothing to damage"
    if fault == "tear":
        cut = rng.randint(1, len(raw))
        segment.write_bytes(raw[:len(raw) - cut])
        return f"tear: cut {cut} of {len(raw)} bytes off {where}"
    if fault == "zero":
        start = rng.randrange(len(raw))
        end = rng.randint(start + 1, min(len(raw), start + 400))
        _patch(segment, start, bytes(end - start))
        return f"zero: bytes {start}-{end} of {where}"
    batches = list(_batches(bytes(raw)))
    position, size = rng.choice(batches) if batches else (0, len(raw))
    byte = rng.choice([b for b in range(size) if b not in UNPROTECTED] or [size - 1])
    bit = 1 << rng.randrange(8)
    _patch(segment, position + byte, bytes([raw[position + byte] ^ bit]))
    return f"flip: bit {bit:#04x} of byte {position + byte} of {where}"


def _batches(raw: bytes) -> list[tuple[int, int]]:
    """Where the batches before any earlier damage are: past it, a flip could land on a base offset unseen."""
    found: list[tuple[int, int]] = []
    try:
        for position, header in iter_batch_headers(raw):
            found.append((position, header.size_in_bytes))
    except KafkaError:
        pass  # damaged from here on (seed 2825 flipped a base offset behind a zeroed range)
    return found


def _patch(path: Path, position: int, data: bytes) -> None:
    """Overwrite bytes in place, so a broker running on the file sees them as a failing disk would show them."""
    with open(path, "r+b") as file:
        file.seek(position)
        file.write(data)


def _apply_faults(cluster: Cluster, rng: random.Random, path: Path) -> tuple[Cluster, list[str]]:
    """Damage one or two replicas in one of the three modes; returns the (possibly reopened) cluster."""
    mode = rng.choice(MODES)
    victims = []
    for _ in range(rng.randint(1, 2)):
        partition = rng.randrange(PARTITIONS)
        view = cluster.snapshot().partition(TOPIC, partition)
        assert view is not None
        broker_id = view.leader if view.leader is not None and rng.random() < 0.5 else rng.choice(view.replicas)
        fault = rng.choice(("flip", "zero") if mode == "running" else FAULTS)
        victims.append((fault, broker_id, partition))
    if mode == "clean":
        cluster.close()
    elif mode == "crash":
        for broker_id in sorted({b for _, b, _ in victims}):
            cluster.kill_broker(broker_id)
    done = [f"{mode} {_damage(cluster, rng, fault, broker_id, partition)} (broker {broker_id})"
            for fault, broker_id, partition in victims]
    if mode == "clean":
        cluster = Cluster.open(path)
        cluster.wait(cluster.start())
    elif mode == "crash":
        for broker_id in sorted({b for _, b, _ in victims}):
            try:
                cluster.wait(cluster.restart_broker(broker_id))
            except KafkaError as exc:
                done.append(f"broker {broker_id} did not restart: {exc}")
    return cluster, done


def _read_back(cluster: Cluster, partition: int) -> tuple[dict[int, bytes | None], set[int]]:
    """Every record a consumer delivers, by offset, and the offsets where poll() raised CORRUPT_MESSAGE."""
    tp = TopicPartition(TOPIC, partition)
    consumer = cluster.consumer(auto_offset_reset="earliest", enable_auto_commit=False)
    consumer.assign([tp])
    delivered: dict[int, bytes | None] = {}
    corrupt: set[int] = set()
    for _ in range(600):
        view = cluster.snapshot().partition(TOPIC, partition)
        position = consumer.positions().get(tp)
        if view is not None and position is not None and position >= view.high_watermark:
            break
        try:
            records = cluster.wait(consumer.poll(500))
        except KafkaError as exc:
            if exc.error is not Errors.CORRUPT_MESSAGE:
                continue
            position = consumer.positions()[tp]
            corrupt.add(position)
            consumer.seek(tp, position + 1)  # what Kafka's error says to do
            continue
        for record in records:
            if record.offset in delivered:
                raise AssertionError(f"{tp}: offset {record.offset} delivered twice")
            delivered[record.offset] = record.value
    cluster.wait(consumer.close())
    return delivered, corrupt


def _explained(events: list[Event], partition: int) -> bool:
    """True when the journal narrates damage or a loss of acknowledged records in ``partition``."""
    for event in events:
        if getattr(event, "partition", None) != partition and not isinstance(event, PollFailed):
            continue
        if isinstance(event, CorruptDataFound | ReplicaFetchFailed | PollFailed):
            return True
        if isinstance(event, LogRecovered) and (event.truncated_bytes or event.committed_lost):
            return True
        if isinstance(event, LogTruncated) and event.committed_lost:
            return True
    return False


def _check(cluster: Cluster, writes: list[Writes]) -> tuple[int, int, int]:
    delivered_total = corrupt_total = explained_total = 0
    for written in writes:
        tp = f"{TOPIC}-{written.partition}"
        delivered, corrupt = _read_back(cluster, written.partition)
        events = list(cluster.journal)
        delivered_total += len(delivered)
        corrupt_total += len(corrupt)
        for offset, value in delivered.items():
            if not intact(value):
                raise AssertionError(f"{tp}: offset {offset} was delivered damaged: {value!r}")
            if offset in written.acknowledged and written.acknowledged[offset] != value:
                raise AssertionError(f"{tp}: offset {offset} holds {value!r}, acknowledged as "
                                     f"{written.acknowledged[offset]!r}")
        missing = sorted(o for o in written.acknowledged if o not in delivered and o not in corrupt)
        if missing and not _explained(events, written.partition):
            raise AssertionError(f"{tp}: acknowledged offsets {missing[:10]} are gone and no event says why "
                                 f"(reported corrupt: {sorted(corrupt)[:10]})")
        explained_total += len(missing)
        view = cluster.snapshot().partition(TOPIC, written.partition)
        if view is None or view.leader is None:
            raise AssertionError(f"{tp} has no leader after the campaign")
    return delivered_total, corrupt_total, explained_total


def _journal(cluster: Cluster) -> list[str]:
    return [f"{event.time_ms - DEFAULT_START_MS:9.0f} {event.describe()}" for event in cluster.journal]


def _settle(cluster: Cluster) -> None:
    """Restart whatever stopped (a broker whose log dir failed stays down) and let replication catch up."""
    for _ in range(3):
        for broker_id, broker in sorted(cluster.brokers.items()):
            if not broker.running:
                try:
                    cluster.wait(cluster.restart_broker(broker_id))
                except KafkaError:
                    pass
        cluster.run_for(10_000)


def run_campaign(seed: int, path: Path, keep_journal: bool = False) -> CampaignReport:
    """Run the campaign for ``seed`` in the data dir ``path``; raise CampaignFailure if a check fails."""
    rng = random.Random(seed)
    cluster = Cluster.open(path, brokers=3, seed=seed, broker_config=CONFIG)
    faults: list[str] = []
    writes = [Writes(p) for p in range(PARTITIONS)]
    try:
        cluster.wait(cluster.start())
        cluster.wait(cluster.create_topic(TOPIC, PARTITIONS, 3, TOPIC_CONFIG))
        for _ in range(rng.randint(15, 40)):
            rng.choice(writes).produce(cluster, rng)
        cluster.run_for(1000)
        cluster, faults = _apply_faults(cluster, rng, path)
        for _ in range(rng.randint(5, 15)):
            rng.choice(writes).produce(cluster, rng)
        _settle(cluster)
        delivered, corrupt, explained = _check(cluster, writes)
        cluster.close()
        cluster = Cluster.open(path)  # nothing the campaign did may leave a data dir that does not open
        cluster.wait(cluster.start())
    except Exception as failure:
        where = "".join(traceback.format_exception(failure)[-3:])
        error = CampaignFailure(f"seed {seed}: {failure!r}\nfaults: {faults}\nraised at: {where}replay: "
                                f"python tests/cluster/corruption_campaign.py --seeds {seed} --journal")
        error.journal = _journal(cluster)
        raise error from failure
    finally:
        journal = _journal(cluster) if keep_journal else []
        cluster.close()
    return CampaignReport(seed, faults, sum(len(w.acknowledged) for w in writes), delivered, corrupt, explained,
                          journal)


def parse_seeds(text: str) -> list[int]:
    """``17`` or ``0-49``."""
    first, _, last = text.partition("-")
    return list(range(int(first), int(last or first) + 1))


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the corruption campaign for some seeds.")
    parser.add_argument("--seeds", type=parse_seeds, required=True, help="one seed (17) or a range (0-49)")
    parser.add_argument("--journal", action="store_true", help="print each seed's event journal")
    args = parser.parse_args()
    failed = 0
    for seed in args.seeds:
        with tempfile.TemporaryDirectory(prefix="kafkalab-corruption-") as tmp:
            try:
                report = run_campaign(seed, Path(tmp) / "data", keep_journal=args.journal)
            except CampaignFailure as failure:
                if args.journal:
                    print("\n".join(failure.journal))
                print(failure, file=sys.stderr)
                failed += 1
                continue
        if args.journal:
            print("\n".join(report.journal))
        print(f"seed {seed}: {'; '.join(report.faults)} -> {report.acknowledged} acknowledged, "
              f"{report.delivered} delivered intact, {report.reported_corrupt} offset(s) reported corrupt, "
              f"{report.explained_losses} explained loss(es)")
    print(f"{len(args.seeds) - failed} of {len(args.seeds)} seed(s) passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
