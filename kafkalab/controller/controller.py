"""The controller (Kafka's ``KafkaController`` in ZooKeeper mode).

Every broker runs one; the one that creates the ephemeral ``/controller`` znode is
active. It watches ``/brokers/ids`` to learn of broker deaths and arrivals, elects
partition leaders by Kafka's rules, and tells brokers their roles. All of its work runs
one event at a time on a serial queue, as Kafka's controller event thread does.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from typing import Any

from kafkalab.config import BrokerConfig
from kafkalab.controller import elections
from kafkalab.controller.channel import ControllerChannel
from kafkalab.controller.context import ControllerContext, TopicInfo
from kafkalab.controller.state_writer import ControllerFenced, PartitionStateWriter
from kafkalab.controller.topic_deletion import TopicDeletionManager
from kafkalab.coordination import paths
from kafkalab.coordination.client import CoordinationClient, expired_session
from kafkalab.coordination.protocol import WatchEvent, ZkCode, ZkException
from kafkalab.events.cluster import (
    BrokerFailed,
    BrokerJoined,
    ControllerElected,
    ControllerResigned,
    IsrShrunk,
    LeaderElected,
    NewPartitionsOnline,
    PartitionOffline,
)
from kafkalab.events.journal import EventJournal
from kafkalab.protocol.controller_api import PartitionState
from kafkalab.protocol.types import TopicPartition
from kafkalab.sim.network import Network
from kafkalab.sim.process import Process, SerialQueue, Task
from kafkalab.sim.scheduler import TimerGroup


def unclean_reason(last_isr: tuple[int, ...]) -> str:
    """Why an out-of-sync replica was allowed to lead, naming who holds the records it lacks."""
    return (f"no replica of the last ISR [{', '.join(map(str, last_isr))}] is alive and "
            f"unclean.leader.election.enable=true")


#: Topics with more new partitions than this get one summary event instead of one per partition.
NARRATED_NEW_PARTITIONS = 12


class Controller:
    """One broker's controller component: idle unless it holds ``/controller``."""

    def __init__(self, broker_id: int, group: TimerGroup, zk: CoordinationClient, network: Network,
                 journal: EventJournal, config: BrokerConfig, rng: random.Random) -> None:
        self.broker_id = broker_id
        self.group = group
        self.zk = zk
        self.journal = journal
        self.config = config
        self.rng = rng
        self.active = False
        self.active_controller_id = -1
        self.context = ControllerContext()
        self.queue = SerialQueue(group)
        self.channel = ControllerChannel(f"broker-{broker_id}", group, network, config["request.timeout.ms"])
        self.writer = PartitionStateWriter(broker_id, self.context, zk, self.channel)
        self.deletion = TopicDeletionManager(self)
        self._rebalance_timer_started = False

    # -- queue ---------------------------------------------------------------------

    def submit(self, factory: Callable[[], Process[Any]], event: str, needs_active: bool = True) -> Task[Any]:
        """Run a controller event (named as Kafka's ``ControllerEvent``s are) on the serial queue; a fenced
        controller resigns, and an event that fails leaves the queue running for the next one."""

        def guarded() -> Process[Any]:
            if needs_active and not self.active:
                return None
            try:
                return (yield from factory())
            except ControllerFenced:
                self._resign("another broker became controller (our writes were fenced)")
                return None
            except ZkException as exc:
                if not expired_session(exc):
                    raise
                return None  # the new session's Reelect takes over, as Kafka's Expire event does

        return self.queue.submit(guarded, name=f"controller event {event}")

    # -- election of the controller ----------------------------------------------------

    def on_new_session(self) -> None:
        """Our ZooKeeper session is new (startup or after expiry): resign, then try to win."""
        if self.active:
            self._resign("our ZooKeeper session expired, so /controller was deleted")
        self.submit(self._elect, "Reelect", needs_active=False)

    def _on_controller_watch(self, event: WatchEvent) -> None:
        self.submit(self._elect, "ControllerChange", needs_active=False)

    def _elect(self) -> Process[None]:
        exists = yield self.zk.exists(paths.CONTROLLER, self._on_controller_watch)
        if exists.code == ZkCode.OK:
            owner = paths.controller_id_of(exists.data)
            self.active_controller_id = owner
            if self.active and owner != self.broker_id:
                self._resign(f"broker {owner} is now the controller")
            return
        try:
            yield self.zk.create(paths.CONTROLLER, paths.controller_data(self.broker_id, self.group.scheduler.now_int_ms()),
                                 ephemeral=True)
        except ZkException as exc:
            if exc.code != ZkCode.NODE_EXISTS:
                raise
            yield from self._elect()
            return
        epoch, version = yield from self._increment_controller_epoch()
        self.context = ControllerContext(controller_epoch=epoch, epoch_zk_version=version)
        self.writer.context = self.context
        self.active = True
        self.active_controller_id = self.broker_id
        self.journal.emit(ControllerElected, broker_id=self.broker_id, controller_epoch=epoch)
        yield from self._on_failover()

    def _increment_controller_epoch(self) -> Process[tuple[int, int]]:
        try:
            current = yield self.zk.get_data(paths.CONTROLLER_EPOCH)
        except ZkException as exc:
            if exc.code != ZkCode.NO_NODE:
                raise
            created = yield self.zk.create(paths.CONTROLLER_EPOCH, "1")
            return 1, created.stat.version
        epoch = int(current.data) + 1
        written = yield self.zk.set_data(paths.CONTROLLER_EPOCH, str(epoch), current.stat.version)
        return epoch, written.stat.version

    def _resign(self, reason: str) -> None:
        if not self.active:
            return
        self.active = False
        self.channel.shutdown()
        self.deletion.abandon_waiters()
        self.journal.emit(ControllerResigned, broker_id=self.broker_id, reason=reason)

    # -- failover ------------------------------------------------------------------

    def _on_failover(self) -> Process[None]:
        live = yield from self._read_live_brokers()
        self.context.live_brokers = live
        # Both lists are read at once, as Kafka's ZooKeeperClient pipelines the controller's reads.
        topics_read = self.zk.get_children(paths.BROKER_TOPICS, self._on_topics_watch)
        marked_read = self.deletion.read_marked()
        topics = yield topics_read
        for topic in topics.children:
            yield from self.load_topic(topic)
        yield from self.deletion.load_marked((yield marked_read).children)
        self.writer.send_update_metadata()
        changed: list[PartitionState] = []
        for tp in self.context.partitions():
            if tp.topic in self.context.topics_to_delete:
                continue  # Kafka's partition state machine leaves topics queued for deletion alone
            state = self.context.states.get(tp)
            if state is None:
                changed += yield from self.elect_new_partitions([tp])
            elif state.leader not in self.context.live_brokers:
                # Kafka's triggerOnlinePartitionStateChange: offline partitions too, whose in-sync
                # replica may have come back while there was no controller to notice.
                gone = f"leader broker {state.leader} gone" if state.leader >= 0 else "the partition offline"
                changed += yield from self.elect_offline([tp], reason=f"the new controller found {gone}")
        # Kafka's replica state machine starts by taking replicas on dead brokers out of every ISR.
        dead_in_isr = sorted({b for s in self.context.states.values() for b in s.isr} - set(live))
        if dead_in_isr:
            changed += yield from self.remove_from_isr(dead_in_isr, skip={s.tp for s in changed})
        self.writer.send_leader_and_isr(
            [s for tp, s in self.context.states.items() if s not in changed])
        if changed:
            self.writer.send_update_metadata(changed)
        yield from self.deletion.resume()
        self._start_auto_rebalance()

    def _read_live_brokers(self) -> Process[dict[int, int]]:
        children = yield self.zk.get_children(paths.BROKER_IDS, self._on_brokers_watch)
        live: dict[int, int] = {}
        for child in children.children:
            try:
                registration = yield self.zk.get_data(paths.broker_path(int(child)))
            except ZkException as exc:
                if exc.code == ZkCode.NO_NODE:
                    continue
                raise
            live[int(child)] = registration.stat.czxid
            self.context.endpoints[int(child)] = paths.registered_endpoint(registration.data)
        return live

    def load_topic(self, topic: str) -> Process[None]:
        """Read a topic's assignment, config and partition states from ZooKeeper into the context."""
        try:
            assignment_data = yield self.zk.get_data(paths.topic_path(topic))
        except ZkException as exc:
            if exc.code == ZkCode.NO_NODE:
                return
            raise
        assignment, topic_id = paths.parse_topic_assignment(assignment_data.data)
        try:
            config = paths.parse_topic_config((yield self.zk.get_data(paths.topic_config_path(topic))).data)
        except ZkException as exc:
            if exc.code != ZkCode.NO_NODE:
                raise
            config = {}
        self.context.topics[topic] = TopicInfo(assignment, topic_id, config)
        for partition, replicas in assignment.items():
            try:
                state = yield self.zk.get_data(paths.partition_state_path(topic, partition))
            except ZkException as exc:
                if exc.code == ZkCode.NO_NODE:
                    continue
                raise
            self.context.states[TopicPartition(topic, partition)] = paths.parse_partition_state(
                topic, partition, state.data, state.stat.version, replicas)

    # -- elections -----------------------------------------------------------------

    def elect_new_partitions(self, tps: Iterable[TopicPartition]) -> Process[list[PartitionState]]:
        """Bring new partitions online: first live replica leads, live replicas form the ISR."""
        committed: list[PartitionState] = []
        tps = list(tps)
        narrate_each = len(tps) <= NARRATED_NEW_PARTITIONS
        for tp in tps:
            replicas = self.context.replicas(tp)
            election = elections.new_partition_election(replicas, self.context.live())
            if election is None:
                self.journal.emit(PartitionOffline, topic=tp.topic, partition=tp.partition, isr=())
                continue
            state = PartitionState(tp.topic, tp.partition, self.context.controller_epoch, election.leader, 0,
                                   election.isr, 0, replicas)
            state = yield from self.writer.write(state, create=True)
            committed.append(state)
            if narrate_each:
                self.journal.emit(LeaderElected, topic=tp.topic, partition=tp.partition, leader=election.leader,
                                  previous_leader=-1, leader_epoch=0, isr=election.isr,
                                  reason="new partition, first live replica in the assignment")
        if committed and not narrate_each:
            self.journal.emit(NewPartitionsOnline, topic=committed[0].topic,
                              leaders=tuple((s.partition, s.leader) for s in committed))
        self.writer.send_leader_and_isr(committed, new=True)
        return committed

    def elect_offline(self, tps: Iterable[TopicPartition], reason: str) -> Process[list[PartitionState]]:
        """Elect leaders for partitions without a live leader (Kafka's OfflinePartitionLeaderElection)."""
        committed: list[PartitionState] = []
        live = self.context.live()
        for tp in tps:
            state = self.context.states[tp]
            unclean_enabled = self.context.unclean_enabled(tp.topic, self.config["unclean.leader.election.enable"])
            election = elections.offline_partition_election(state.replicas, state.isr, live, unclean_enabled)
            if election is None:
                if state.leader != -1:
                    isr = state.isr
                    for replica in state.isr:
                        if replica not in live:
                            _, isr = elections.isr_without(isr, -1, replica)
                    offline = PartitionState(tp.topic, tp.partition, self.context.controller_epoch, -1,
                                             state.leader_epoch + 1, isr, state.partition_epoch, state.replicas)
                    committed.append((yield from self.writer.write(offline)))
                    self.journal.emit(PartitionOffline, topic=tp.topic, partition=tp.partition, isr=isr)
                continue
            new_state = PartitionState(tp.topic, tp.partition, self.context.controller_epoch, election.leader,
                                       state.leader_epoch + 1, election.isr, state.partition_epoch, state.replicas)
            new_state = yield from self.writer.write(new_state)
            committed.append(new_state)
            self.journal.emit(LeaderElected, topic=tp.topic, partition=tp.partition, leader=election.leader,
                              previous_leader=state.leader, leader_epoch=new_state.leader_epoch, isr=election.isr,
                              reason=unclean_reason(state.isr) if election.unclean else reason,
                              unclean=election.unclean)
        # Kafka 3.9 (ZK mode) tells the remaining live replicas too, with leader -1.
        self.writer.send_leader_and_isr(committed)
        return committed

    def change_leaders(self, changes: list[tuple[PartitionState, elections.Election]],
                       reason: str) -> Process[list[PartitionState]]:
        """Commit leader moves chosen by a preferred or controlled-shutdown election."""
        committed: list[PartitionState] = []
        for state, election in changes:
            new_state = PartitionState(state.topic, state.partition, self.context.controller_epoch, election.leader,
                                       state.leader_epoch + 1, election.isr, state.partition_epoch, state.replicas)
            new_state = yield from self.writer.write(new_state)
            committed.append(new_state)
            self.journal.emit(LeaderElected, topic=state.topic, partition=state.partition, leader=election.leader,
                              previous_leader=state.leader, leader_epoch=new_state.leader_epoch,
                              isr=election.isr, reason=unclean_reason(state.isr) if election.unclean else reason,
                              unclean=election.unclean)
        self.writer.send_leader_and_isr(committed)
        self.writer.send_update_metadata(committed)
        return committed

    # -- broker changes ------------------------------------------------------------

    def _on_brokers_watch(self, event: WatchEvent) -> None:
        self.submit(self._on_broker_change, "BrokerChange")

    def _on_broker_change(self) -> Process[None]:
        current = yield from self._read_live_brokers()
        previous = self.context.live_brokers
        dead = sorted(b for b in previous if b not in current or current[b] != previous[b])
        new = sorted(b for b in current if b not in previous or current[b] != previous[b])
        if dead:
            yield from self._on_brokers_failed(dead)
        if new:
            yield from self._on_brokers_joined(new, current)

    def _on_brokers_failed(self, dead: list[int]) -> Process[None]:
        for broker_id in dead:
            self.context.live_brokers.pop(broker_id, None)
            self.context.shutting_down.discard(broker_id)
            self.channel.remove_broker(broker_id)
            self.journal.emit(BrokerFailed, controller_id=self.broker_id, broker_id=broker_id)
        self.deletion.on_brokers_failed(dead)
        leaderless = [tp for tp, s in self.context.states.items() if s.leader in dead]
        changed = yield from self.elect_offline(leaderless, reason=f"leader broker {', '.join(map(str, dead))} failed")
        changed += yield from self.remove_from_isr(dead, skip={s.tp for s in changed})
        self.writer.send_update_metadata()

    def remove_from_isr(self, brokers: list[int], skip: set[TopicPartition]) -> Process[list[PartitionState]]:
        """Drop dead or departing brokers from every ISR they are in (leader epoch +1, as in ZK mode)."""
        committed: list[PartitionState] = []
        for tp, state in list(self.context.states.items()):
            if tp in skip or not any(b in state.isr for b in brokers):
                continue
            leader, isr = state.leader, state.isr
            for broker_id in brokers:
                if broker_id in isr:
                    leader, isr = elections.isr_without(isr, leader, broker_id)
            if isr == state.isr and leader == state.leader:
                continue
            new_state = PartitionState(tp.topic, tp.partition, self.context.controller_epoch, leader,
                                       state.leader_epoch + 1, isr, state.partition_epoch, state.replicas)
            new_state = yield from self.writer.write(new_state)
            committed.append(new_state)
            removed = tuple(b for b in state.isr if b not in isr)
            if removed:
                self.journal.emit(IsrShrunk, topic=tp.topic, partition=tp.partition, leader=leader, removed=removed,
                                  isr=isr, reason="the controller removed a broker that left the cluster")
        # ReplicaStateMachine's OfflineReplica: every remaining replica hears the new state, leader -1 included.
        self.writer.send_leader_and_isr(committed)
        return committed

    def _on_brokers_joined(self, new: list[int], current: dict[int, int]) -> Process[None]:
        for broker_id in new:
            self.context.live_brokers[broker_id] = current[broker_id]
            self.journal.emit(BrokerJoined, controller_id=self.broker_id, broker_id=broker_id)
        self.writer.send_update_metadata()
        self.writer.send_leader_and_isr(self.context.states.values(), only_to=new)
        offline = [tp for tp, s in self.context.states.items() if s.leader == -1]
        if offline:
            changed = yield from self.elect_offline(offline, reason="an in-sync replica came back")
            if changed:
                self.writer.send_update_metadata(changed)
        yield from self.deletion.resume()

    # -- topics --------------------------------------------------------------------

    def _on_topics_watch(self, event: WatchEvent) -> None:
        self.submit(self._on_topic_change, "TopicChange")

    def _on_topic_change(self) -> Process[None]:
        topics = yield self.zk.get_children(paths.BROKER_TOPICS, self._on_topics_watch)
        for topic in topics.children:
            if topic not in self.context.topics:
                yield from self.load_topic(topic)
                new = [tp for tp in self.context.partitions_of(topic) if tp not in self.context.states]
                changed = yield from self.elect_new_partitions(new)
                self.writer.send_update_metadata(changed)

    # -- automatic preferred leader election ---------------------------------------------

    def _start_auto_rebalance(self) -> None:
        if self._rebalance_timer_started or not self.config["auto.leader.rebalance.enable"]:
            return
        self._rebalance_timer_started = True
        self.group.every(self.config["leader.imbalance.check.interval.seconds"] * 1000.0,
                         lambda: self.submit(self.check_leader_imbalance, "AutoPreferredReplicaLeaderElection"))

    def check_leader_imbalance(self) -> Process[None]:
        """Kafka's auto leader rebalance: a broker leading too few of its preferred partitions gets them back."""
        threshold = self.config["leader.imbalance.per.broker.percentage"] / 100.0
        by_preferred: dict[int, list[PartitionState]] = {}
        for state in self.context.states.values():
            if state.replicas:
                by_preferred.setdefault(state.replicas[0], []).append(state)
        changes: list[tuple[PartitionState, elections.Election]] = []
        live = self.context.live() - self.context.shutting_down
        for broker_id, states in sorted(by_preferred.items()):
            not_led = [s for s in states if s.leader != broker_id]
            if not states or len(not_led) / len(states) <= threshold or broker_id not in live:
                continue
            for state in not_led:
                election = elections.preferred_replica_election(state.replicas, state.isr, live)
                if election is not None:
                    changes.append((state, election))
        if changes:
            yield from self.change_leaders(changes, reason="auto leader rebalance moved leadership back to the "
                                                           "preferred replica")

    # -- config changes ------------------------------------------------------------

    def on_topic_config_change(self, topic: str, overrides: dict[str, str]) -> Process[None]:
        """Track a topic's new overrides; enabling unclean election elects its offline partitions now."""
        info = self.context.topics.get(topic)
        if info is None or topic in self.context.topics_to_delete:
            return
        info.config = dict(overrides)
        if self.context.unclean_enabled(topic, self.config["unclean.leader.election.enable"]):
            offline = [tp for tp in self.context.partitions_of(topic) if self.context.states[tp].leader == -1]
            if offline:
                changed = yield from self.elect_offline(offline, reason="unclean.leader.election.enable was turned on")
                self.writer.send_update_metadata(changed)
