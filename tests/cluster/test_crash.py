"""A real crash: a child process producing with acks=all is SIGKILLed mid-stream.

Every record the child printed as acknowledged must be in the recovered logs, whose
batches must all pass their CRC32C check.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from cluster_helpers import run_checked, wait_checked
from lab_clusters import Clusters

from kafkalab.cluster.invariants import assert_invariants
from kafkalab.storage.files import LOG_SUFFIX
from kafkalab.storage.records import crc_matches, iter_batch_headers

REPO = Path(__file__).parents[2]
PARTITIONS = 3
ACKS_BEFORE_KILL = 300

PRODUCER = textwrap.dedent("""
    import sys
    from kafkalab.cluster.cluster import Cluster

    cluster = Cluster.open(sys.argv[1], brokers=3, seed=7, broker_config={"log.flush.interval.messages": 10**9})
    cluster.wait(cluster.start())
    cluster.wait(cluster.create_topic("crash", %d, 3, {"min.insync.replicas": 2}))
    print("ready", flush=True)
    sequence = 0
    while True:
        partition = sequence %% %d
        result = cluster.wait(cluster.produce("crash", partition, [(b"k", b"value-%%d" %% sequence)], acks=-1))
        print(partition, result.base_offset, sequence, flush=True)
        sequence += 1
""" % (PARTITIONS, PARTITIONS))


def _kill_mid_stream(data: Path) -> dict[tuple[int, int], bytes]:
    """Run the producer, SIGKILL it after some acknowledgements; return them by (partition, offset)."""
    child = subprocess.Popen([sys.executable, "-c", PRODUCER, str(data)], stdout=subprocess.PIPE,
                             env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=REPO)
    acknowledged: dict[tuple[int, int], bytes] = {}
    try:
        assert child.stdout.readline().strip() == b"ready"
        while len(acknowledged) < ACKS_BEFORE_KILL:
            partition, offset, sequence = child.stdout.readline().split()
            acknowledged[(int(partition), int(offset))] = b"value-" + sequence
    finally:
        child.send_signal(signal.SIGKILL)
        rest = child.stdout.read()
        child.wait(10)
    for line in rest.splitlines(keepends=True):
        if line.endswith(b"\n"):  # a line the child finished printing was acknowledged
            partition, offset, sequence = line.split()
            acknowledged[(int(partition), int(offset))] = b"value-" + sequence
    assert child.returncode == -signal.SIGKILL
    return acknowledged


def _segments_are_crc_clean(data: Path) -> int:
    batches = 0
    for segment in data.glob(f"broker-*/crash-*/*{LOG_SUFFIX}"):
        buf = segment.read_bytes()
        for position, header in iter_batch_headers(buf):
            assert crc_matches(buf, position, header), f"{segment} has a corrupt batch at {position}"
            batches += 1
    return batches


def test_a_sigkilled_producer_loses_no_acknowledged_record(clusters: Clusters) -> None:
    data = clusters.root / "data"
    acknowledged = _kill_mid_stream(data)

    cluster = clusters.open(data, brokers=None, seed=None, start=False)
    wait_checked(cluster, cluster.start())
    run_checked(cluster, 5000, step_ms=100)
    assert _segments_are_crc_clean(data) >= 3 * len(acknowledged)
    for number in range(PARTITIONS):
        view = cluster.snapshot().partition("crash", number)
        assert view.leader is not None and len(view.isr) == 3
        records = wait_checked(cluster, cluster.fetch("crash", number, 0, max_bytes=10_000_000))
        found = {(number, record.offset): record.value for record in records}
        expected = {key: value for key, value in acknowledged.items() if key[0] == number}
        assert expected and all(found.get(key) == value for key, value in expected.items())
    wait_checked(cluster, cluster.produce("crash", 0, [(None, b"after the crash")]))
    assert_invariants(cluster)
