"""How long a 50-member consumer group takes to rebalance 500 partitions, in virtual and wall-clock time.

Fifty consumers subscribe to a 500-partition topic at once (``group.initial.rebalance.delay.ms=0``,
so the group forms without Kafka's 3 s wait for more members); the figure is the time from
the group entering PreparingRebalance until it is Stable with every partition assigned.
Then one more member joins and, later, one leaves: the others learn of each rebalance from
their next heartbeat (``heartbeat.interval.ms``, Kafka's 3000 by default), rejoin, and the
leader reassigns (cooperative-sticky needs a second round after a join).
Virtual time comes from the events; wall time is measured around the scheduler running
flat out until the group is Stable again.

Run: ``python benchmarks/rebalance_time.py [--members 50] [--partitions 500] [--strategy range]
[--heartbeat-ms 3000]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from kafkalab.clients.consumer_loop import PollLoop
from kafkalab.cluster.cluster import Cluster
from kafkalab.events.groups import GroupStabilized, RebalanceStarted


def until_stable(cluster: Cluster, since: int, members: int, partitions: int) -> tuple[float, float]:
    """Run until a GroupStabilized after ``since`` assigns every partition; (virtual ms, wall s) it took."""
    def done() -> bool:
        stable = [e for e in cluster.journal.since(since) if isinstance(e, GroupStabilized)]
        return bool(stable) and len(stable[-1].assignment) == members and \
            sum(len(p) for _, p in stable[-1].assignment) == partitions

    started = time.perf_counter()
    if not cluster.scheduler.run_while(lambda: not done(), 120_000):
        raise SystemExit("the group did not stabilise within 120 s of virtual time")
    wall = time.perf_counter() - started
    events = cluster.journal.since(since)
    began = next(e.time_ms for e in events if isinstance(e, RebalanceStarted))
    ended = [e.time_ms for e in events if isinstance(e, GroupStabilized)][-1]
    return ended - began, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--partitions", type=int, default=500)
    parser.add_argument("--strategy", default="range")
    parser.add_argument("--heartbeat-ms", type=int, default=3000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        cluster = Cluster.open(Path(directory) / "data", brokers=3, seed=1,
                               broker_config={"group.initial.rebalance.delay.ms": 0})
        cluster.wait(cluster.start())
        cluster.wait(cluster.create_topic("events", args.partitions, 1))
        mark = cluster.journal.last_seq
        loops = []
        for _ in range(args.members):
            consumer = cluster.consumer(group_id="g", partition_assignment_strategy=args.strategy,
                                        heartbeat_interval_ms=args.heartbeat_ms)
            consumer.subscribe(["events"])
            loops.append(PollLoop(consumer, poll_timeout_ms=100).start())
        formed_virtual, formed_wall = until_stable(cluster, mark, args.members, args.partitions)
        cluster.run_for(5000)
        loops.append(PollLoop(cluster.consumer(group_id="g", partition_assignment_strategy=args.strategy,
                                               heartbeat_interval_ms=args.heartbeat_ms)))
        loops[-1].consumer.subscribe(["events"])
        loops[-1].start()
        joined_virtual, joined_wall = until_stable(cluster, cluster.journal.last_seq, args.members + 1, args.partitions)
        cluster.run_for(5000)
        mark = cluster.journal.last_seq
        cluster.wait(loops[0].consumer.close())
        left_virtual, left_wall = until_stable(cluster, mark, args.members, args.partitions)
        cluster.close()
    print(f"{args.members} members, {args.partitions} partitions, {args.strategy}, "
          f"heartbeat.interval.ms={args.heartbeat_ms}")
    print(f"group formation:      {formed_virtual / 1000:6.3f} s virtual, {formed_wall:6.3f} s wall")
    print(f"a 51st member joined: {joined_virtual / 1000:6.3f} s virtual, {joined_wall:6.3f} s wall")
    print(f"a member left:        {left_virtual / 1000:6.3f} s virtual, {left_wall:6.3f} s wall")


if __name__ == "__main__":
    main()
