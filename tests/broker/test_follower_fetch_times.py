"""A follower's fetch times kept per session give what Kafka's per-fetch updates give.

Kafka 3.9 updates every partition of a fetch session on every fetch (``Replica.updateFetchState``).
The leader here updates a partition only when the follower's fetch offset or the leader's log end
changed since its last update, and lets the session's clock (``SessionClock``) stand in for the
others. These drive two leaders through the same fetches, one updated Kafka's way on every fetch and
one the session's way, and compare what the ISR check and the high watermark read.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from kafkalab.broker.partition import Partition, SessionClock
from kafkalab.protocol.controller_api import PartitionState
from kafkalab.protocol.types import TopicPartition
from kafkalab.storage.file_handles import FileHandles
from kafkalab.storage.log import PartitionLog
from tests.storage.storage_helpers import T0, batch, topic_config

LAG_MAX_MS = 10_000.0
FOLLOWER = 2

#: One step: the leader appends records, or the follower fetches (which offset, how much later), or the
#: partition leaves the session and comes back in a later fetch.
Step = tuple[str, int, int]
steps = st.lists(st.one_of(
    st.tuples(st.just("append"), st.integers(1, 3), st.just(0)),
    st.tuples(st.just("fetch"), st.integers(0, 4), st.integers(0, 8_000)),
    st.tuples(st.just("leave"), st.just(0), st.just(0)),
), max_size=40)


def leader(path: Path) -> Partition:
    config = topic_config()
    log = PartitionLog.open(path, config, 0, 0, False, T0, FileHandles())[0]
    partition = Partition(1, TopicPartition("t", 0), log, config, high_watermark=0)
    partition.make_leader(PartitionState("t", 0, 1, 1, 1, (1, 2), 1, (1, 2)), now_ms=T0)
    return partition


@settings(max_examples=150, deadline=None)
@given(steps)
# Behind and unchanged through a fetch the session's clock stood in for, then at the leader's end as of
# that fetch after an append: caught up as of that fetch (Kafka's second rule reads its fetch time).
@example([("append", 1, 0), ("fetch", 0, 1000), ("fetch", 0, 1000), ("append", 1, 0), ("fetch", 3, 1000)])
def test_the_session_clock_gives_kafkas_fetch_times_and_isr_lag(tmp_path_factory, script):
    directory = tmp_path_factory.mktemp("logs")
    every_fetch, changed_only = leader(directory / "a" / "t-0"), leader(directory / "b" / "t-0")
    clock = SessionClock()
    now = T0
    #: (fetch offset, leader end) at the changed-only leader's last update, or None outside the session.
    last_update: tuple[int, int] | None = None
    fetch_offset = previous_end = 0
    for action, amount, later in script:
        if action == "append":
            for partition in (every_fetch, changed_only):
                partition.log.append_as_leader(batch(*[b"v"] * amount), 1, T0)
            continue
        if action == "leave":
            follower = changed_only.followers[FOLLOWER]
            if follower.clock is clock:
                follower.detach()
            last_update = None
            continue
        now += later
        end = every_fetch.log_end_offset
        # From where the follower got to: its old offset, the leader's end, between them, the leader's end
        # at its previous fetch (the edge of Kafka's second rule), or one back (a follower that truncated).
        fetch_offset = (fetch_offset, end, (fetch_offset + end) // 2, max(fetch_offset, previous_end),
                        max(0, fetch_offset - 1))[amount]
        previous_end = end
        every_fetch.update_follower(FOLLOWER, fetch_offset, now)
        if last_update != (fetch_offset, end):
            changed_only.update_follower(FOLLOWER, fetch_offset, now, clock)
            last_update = (fetch_offset, end)
        clock.fetch_ms = now
        for check_at in (now, now + LAG_MAX_MS / 2, now + LAG_MAX_MS + 1):
            assert changed_only.out_of_sync_followers(check_at, LAG_MAX_MS) == \
                every_fetch.out_of_sync_followers(check_at, LAG_MAX_MS)
            kafka, session = every_fetch.followers[FOLLOWER], changed_only.followers[FOLLOWER]
            assert session.is_caught_up(end, check_at, LAG_MAX_MS) == kafka.is_caught_up(end, check_at, LAG_MAX_MS)
        assert (session.caught_up_ms(), session.fetched_ms()) == (kafka.last_caught_up_ms, kafka.last_fetch_ms)
