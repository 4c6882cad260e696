"""KIP-98 transactions end to end: markers, the LSO, read_committed, fencing, timeouts and coordinator failover."""

from __future__ import annotations

import pytest
from clients_helpers import events, open_cluster

from kafkalab.cluster.cluster import Cluster
from kafkalab.cluster.inspect import ABORTED, MARKER, OPEN, PLAIN, Inspector
from kafkalab.errors import Errors, KafkaError
from kafkalab.events.storage import LogRecovered
from kafkalab.events.transactions import (
    ProducerFenced,
    TransactionCoordinatorLoaded,
    TransactionMarkersWritten,
    TransactionStateChanged,
    TransactionTimedOut,
)
from kafkalab.protocol.groups import InitProducerIdRequest
from kafkalab.protocol.produce import ProduceRequest
from kafkalab.protocol.types import TopicPartition
from kafkalab.storage.control_records import decode_end_txn_marker
from kafkalab.storage.records import decode_batch, encode_batch, iter_batch_headers
from kafkalab.transactions.state import MAX_EPOCH


def _read(cluster: Cluster, isolation: str, topic: str = "orders", polls: int = 10) -> list[bytes]:
    # Assigned, not subscribed: readers need no group coordinator (nor __consumer_offsets) while brokers are down.
    consumer = cluster.consumer(auto_offset_reset="earliest", isolation_level=isolation, enable_auto_commit=False)
    consumer.assign([TopicPartition(topic, p.partition) for p in cluster.snapshot().topic(topic).partitions])
    values: list[bytes] = []
    for _ in range(polls):
        values += [record.value for record in cluster.wait(consumer.poll(300)) if record.value is not None]
    cluster.wait(consumer.close())
    return values


def _transaction(cluster: Cluster, producer, values: list[str], end: str) -> None:
    producer.begin_transaction()
    for index, value in enumerate(values):
        producer.send("orders", value, partition=index % 2)
    cluster.wait(producer.flush())
    if end == "commit":
        cluster.wait(producer.commit_transaction())
    elif end == "abort":
        cluster.wait(producer.abort_transaction())


def _transactional(cluster: Cluster, transactional_id: str = "payments", **settings):
    producer = cluster.producer(transactional_id=transactional_id, client_id=f"{transactional_id}-{cluster.journal.last_seq}",
                                **settings)
    cluster.wait(producer.init_transactions())
    return producer


@pytest.mark.parametrize("mode", ["zookeeper", "kraft"])
def test_read_committed_sees_committed_transactions_whole_and_never_aborted_ones(clusters, mode):
    cluster = open_cluster(clusters, partitions=2, mode=mode)
    producer = _transactional(cluster)
    _transaction(cluster, producer, ["c1", "c2", "c3"], "commit")
    _transaction(cluster, producer, ["a1", "a2"], "abort")
    _transaction(cluster, producer, ["c4"], "commit")
    assert sorted(_read(cluster, "read_committed")) == [b"c1", b"c2", b"c3", b"c4"]
    assert sorted(_read(cluster, "read_uncommitted")) == [b"a1", b"a2", b"c1", b"c2", b"c3", b"c4"]


def test_an_open_transaction_holds_the_last_stable_offset_and_read_committed_readers_back(clusters):
    cluster = open_cluster(clusters, partitions=2)
    producer = _transactional(cluster)
    _transaction(cluster, producer, ["c1", "c2"], "commit")  # offsets 0 and marker 1 in each partition
    _transaction(cluster, producer, ["open1", "open2"], "open")
    partitions = {p.partition: p for p in cluster.snapshot().topic("orders").partitions}
    assert [(p.high_watermark, p.last_stable_offset) for p in partitions.values()] == [(3, 2), (3, 2)]
    assert sorted(_read(cluster, "read_committed")) == [b"c1", b"c2"]
    cluster.wait(producer.commit_transaction())
    cluster.run_for(500)
    partitions = {p.partition: p for p in cluster.snapshot().topic("orders").partitions}
    assert [(p.high_watermark, p.last_stable_offset) for p in partitions.values()] == [(4, 4), (4, 4)]
    assert sorted(_read(cluster, "read_committed")) == [b"c1", b"c2", b"open1", b"open2"]


def test_markers_are_control_batches_and_aborts_are_indexed_in_the_txnindex(clusters):
    cluster = open_cluster(clusters, partitions=2)
    producer = _transactional(cluster)
    _transaction(cluster, producer, ["c1"], "commit")
    _transaction(cluster, producer, ["a1", "a2"], "abort")
    leader = cluster.snapshot().partition("orders", 0).leader
    log = cluster.brokers[leader].replica_log(TopicPartition("orders", 0))
    data = log.read(0, 1 << 20)
    kinds = []
    for position, header in iter_batch_headers(data):
        if header.is_control:
            kinds.append(("marker", decode_end_txn_marker(decode_batch(data, position)[1][0])[0]))
        else:
            kinds.append(("data", header.is_transactional))
    assert kinds == [("data", True), ("marker", True), ("data", True), ("marker", False)]
    assert [(t.first_offset, t.last_offset) for t in log.collect_aborted_txns(0, 10)] == [(2, 3)]
    txnindex = log.directory / "00000000000000000000.txnindex"
    assert txnindex.stat().st_size == 34


def test_a_new_instance_fences_the_old_one_and_aborts_its_open_transaction(clusters):
    cluster = open_cluster(clusters, partitions=2)
    zombie = _transactional(cluster)
    _transaction(cluster, zombie, ["z1", "z2"], "open")
    successor = _transactional(cluster)  # same transactional.id: bumps the epoch, aborting the zombie's transaction
    assert successor.transaction_manager.producer_epoch >= zombie.transaction_manager.producer_epoch + 2
    mark = cluster.journal.last_seq
    with pytest.raises(KafkaError) as raised:
        cluster.wait(zombie.commit_transaction())
    assert raised.value.error == Errors.PRODUCER_FENCED
    assert [e.transactional_id for e in events(cluster, mark, ProducerFenced)] == ["payments"]
    _transaction(cluster, successor, ["s1"], "commit")
    assert sorted(_read(cluster, "read_committed")) == [b"s1"]


def test_a_transaction_left_open_past_its_timeout_is_aborted_by_the_coordinator(clusters):
    cluster = open_cluster(clusters, partitions=2)
    producer = _transactional(cluster, transaction_timeout_ms=5000)
    mark = cluster.journal.last_seq
    _transaction(cluster, producer, ["late1", "late2"], "open")
    cluster.run_for(20_000)  # the abort task runs every transaction.abort.timed.out.transaction.cleanup.interval.ms
    assert [e.timeout_ms for e in events(cluster, mark, TransactionTimedOut)] == [5000]
    assert [e.result for e in events(cluster, mark, TransactionMarkersWritten)] == ["ABORT"]
    assert cluster.snapshot().transaction("payments").state == "CompleteAbort"
    assert _read(cluster, "read_committed") == []
    with pytest.raises(KafkaError) as raised:
        cluster.wait(producer.commit_transaction())
    assert raised.value.error == Errors.PRODUCER_FENCED


def test_a_coordinator_killed_after_prepare_commit_is_finished_by_its_successor(clusters):
    cluster = open_cluster(clusters, partitions=2)
    producer = _transactional(cluster)
    coordinator = cluster.snapshot().transaction("payments").coordinator
    mark = cluster.journal.last_seq

    def kill_on_prepare(event) -> None:
        if isinstance(event, TransactionStateChanged) and event.new_state == "PrepareCommit":
            cluster.scheduler.call_soon(cluster.kill_broker, coordinator)

    cluster.journal.subscribe(kill_on_prepare)
    _transaction(cluster, producer, ["c1", "c2", "c3", "c4"], "open")
    commit = producer.commit_transaction()
    cluster.run_for(60_000)
    loaded = [e for e in events(cluster, mark, TransactionCoordinatorLoaded) if "payments" in e.resumed]
    assert loaded and loaded[0].broker_id != coordinator
    assert commit.done
    successor = cluster.snapshot().transaction("payments")
    assert successor.state == "CompleteCommit" and successor.coordinator == loaded[0].broker_id
    assert sorted(_read(cluster, "read_committed")) == [b"c1", b"c2", b"c3", b"c4"]


def test_a_broker_crashed_mid_transaction_and_after_an_abort_rebuilds_what_read_committed_readers_need(clusters):
    # One replica per partition: what the restarted brokers recover is all there is.
    cluster = open_cluster(clusters, partitions=2, replication=1)
    producer = _transactional(cluster)
    _transaction(cluster, producer, ["c1", "c2"], "commit")
    _transaction(cluster, producer, ["a1", "a2"], "abort")
    _transaction(cluster, producer, ["open1", "open2"], "open")
    producer.crash()  # the application dies mid-transaction too
    leaders = sorted({p.leader for p in cluster.snapshot().topic("orders").partitions})
    logs = [cluster.brokers[b].replica_log(TopicPartition("orders", p)) for p in (0, 1) for b in leaders
            if cluster.brokers[b].replica_log(TopicPartition("orders", p)) is not None]
    mark = cluster.journal.last_seq
    for broker in leaders:
        cluster.kill_broker(broker)
    for log in logs:  # the crash lost the index writes, which were never flushed; the markers survived
        for index in log.directory.glob("*.txnindex"):
            index.unlink()
    for broker in leaders:
        cluster.wait(cluster.restart_broker(broker), timeout_ms=60_000)
    cluster.run_for(5_000)
    notes = [note for e in events(cluster, mark, LogRecovered) for note in e.notes if ".txnindex" in note]
    assert len(notes) == 2 and all("1 aborted transaction(s)" in note for note in notes)
    # The crashed application's transaction is still open: the LSO holds read_committed readers before it.
    assert [p.last_stable_offset for p in cluster.snapshot().topic("orders").partitions] == [4, 4]
    assert sorted(_read(cluster, "read_committed")) == [b"c1", b"c2"]
    successor = _transactional(cluster)  # fences the crashed instance and aborts its transaction
    _transaction(cluster, successor, ["c3", "c4"], "commit")
    cluster.run_for(1_000)
    assert sorted(_read(cluster, "read_committed")) == [b"c1", b"c2", b"c3", b"c4"]
    assert sorted(_read(cluster, "read_uncommitted")) == [b"a1", b"a2", b"c1", b"c2", b"c3", b"c4", b"open1",
                                                          b"open2"]


def test_a_batch_failing_while_the_commit_waits_fails_the_commit_and_the_abort_bumps_the_epoch(clusters):
    # The campaign's seed 2 once committed a transaction whose batch had just failed: the commit resumed when
    # the batch completed, before the transaction knew it could only abort. After the abort the sequence of
    # that partition had a gap, and every later transaction writing there failed OUT_OF_ORDER_SEQUENCE_NUMBER.
    cluster = open_cluster(clusters, partitions=2, topic_config={"max.message.bytes": 300})
    producer = _transactional(cluster)
    _transaction(cluster, producer, ["first"], "commit")  # partition 0, sequence 0
    producer.begin_transaction()
    producer.send("orders", "x" * 1000, partition=0)  # sequence 1, refused: MESSAGE_TOO_LARGE, not retriable
    with pytest.raises(KafkaError) as raised:
        cluster.wait(producer.commit_transaction())
    assert raised.value.error in (Errors.MESSAGE_TOO_LARGE, Errors.RECORD_LIST_TOO_LARGE)
    epoch = producer.transaction_manager.producer_epoch
    cluster.wait(producer.abort_transaction())
    assert producer.transaction_manager.producer_epoch == epoch + 1  # KIP-360: sequences start again at 0
    _transaction(cluster, producer, ["after"], "commit")
    assert _read(cluster, "read_committed") == [b"first", b"after"]


def test_an_epoch_bump_from_a_fenced_instance_is_refused(clusters):
    cluster = open_cluster(clusters, partitions=2)
    zombie = _transactional(cluster)
    _transactional(cluster)  # a new instance: epoch + 1, and the zombie's epoch is no longer the last one
    request = InitProducerIdRequest("payments", 60_000, zombie.transaction_manager.producer_id,
                                    zombie.transaction_manager.producer_epoch)
    coordinator = cluster.snapshot().transaction("payments").coordinator
    response = cluster.wait(cluster.brokers[coordinator].request(f"broker-{coordinator}", request))
    assert response.error == Errors.PRODUCER_FENCED


@pytest.mark.parametrize("verification", [True, False])
def test_a_late_batch_of_an_aborted_transaction_is_refused_unless_verification_is_off(clusters, verification):
    # KIP-890 part 1: a retry stuck in the network until after the abort would open a transaction the
    # coordinator knows nothing of, holding the LSO back for good; the leader asks the coordinator first.
    cluster = open_cluster(clusters, partitions=2,
                           config={"transaction.partition.verification.enable": verification})
    producer = _transactional(cluster)
    _transaction(cluster, producer, ["a"], "commit")  # partition 0, sequence 0
    _transaction(cluster, producer, ["b"], "abort")  # sequence 1
    cluster.run_for(1_000)  # the ABORT markers are written: the coordinator has the transaction CompleteAbort
    txn = producer.transaction_manager
    late = encode_batch([(None, b"late", (), 0)], producer_id=txn.producer_id, producer_epoch=txn.producer_epoch,
                        base_sequence=2, is_transactional=True)
    tp = TopicPartition("orders", 0)
    leader = cluster.snapshot().partition("orders", 0).leader
    request = ProduceRequest(-1, 30_000, {tp: late}, client_id="late", transactional_id="payments")
    response = cluster.wait(cluster.brokers[leader].request(f"broker-{leader}", request))
    cluster.run_for(1_000)
    view = cluster.snapshot().partition("orders", 0)
    if verification:
        assert response.partitions[tp].error == Errors.INVALID_TXN_STATE
        assert view.last_stable_offset == view.high_watermark
    else:
        assert response.partitions[tp].error == Errors.NONE
        assert view.last_stable_offset == view.high_watermark - 1  # a hanging transaction from the late batch
    assert sorted(_read(cluster, "read_committed")) == [b"a"]


@pytest.mark.parametrize(("abortable_errors", "expected"), [(False, Errors.INVALID_TXN_STATE),
                                                            (True, Errors.TRANSACTION_ABORTABLE)])
def test_a_produce_v11_client_is_told_the_transaction_is_abortable(clusters, abortable_errors, expected):
    # Kafka 3.9's AddPartitionsToTxnManager passes TRANSACTION_ABORTABLE on to Produce v11+ clients and answers
    # older ones INVALID_TXN_STATE (KafkaApis: apiVersion > 10 is genericError).
    cluster = open_cluster(clusters, partitions=2)
    producer = _transactional(cluster)
    _transaction(cluster, producer, ["b"], "abort")
    cluster.run_for(1_000)
    txn = producer.transaction_manager
    late = encode_batch([(None, b"late", (), 0)], producer_id=txn.producer_id, producer_epoch=txn.producer_epoch,
                        base_sequence=1, is_transactional=True)
    tp = TopicPartition("orders", 0)
    leader = cluster.snapshot().partition("orders", 0).leader
    request = ProduceRequest(-1, 30_000, {tp: late}, client_id="late", transactional_id="payments",
                             abortable_errors=abortable_errors)
    response = cluster.wait(cluster.brokers[leader].request(f"broker-{leader}", request))
    assert response.partitions[tp].error == expected


def test_an_exhausted_epoch_gives_the_transactional_id_a_new_producer_id(clusters):
    # Kafka 3.9 prepareInitProducerIdTransit: at epoch Short.MaxValue - 1 the next init rotates the producer id.
    cluster = open_cluster(clusters, partitions=2)
    old = _transactional(cluster)
    _transaction(cluster, old, ["before"], "commit")
    cluster.run_for(1_000)
    described = cluster.snapshot().transaction("payments")
    assert described.state == "CompleteCommit"
    # 32,766 inits would take a while: the coordinator's copy of the id jumps there instead.
    cluster.brokers[described.coordinator].transactions.store.transactions["payments"].producer_epoch = MAX_EPOCH
    new = _transactional(cluster)
    rotated = cluster.snapshot().transaction("payments")
    assert rotated.producer_id != described.producer_id and rotated.producer_epoch == 0
    assert (new.transaction_manager.producer_id, new.transaction_manager.producer_epoch) == (rotated.producer_id, 0)
    _transaction(cluster, new, ["after"], "commit")
    old.begin_transaction()
    old.send("orders", "zombie", partition=1)
    with pytest.raises(KafkaError) as raised:
        cluster.wait(old.commit_transaction())  # its records were queued: they fail instead of waiting forever
    assert raised.value.error == Errors.INVALID_PRODUCER_ID_MAPPING  # the old producer id is no longer the id's
    assert sorted(_read(cluster, "read_committed")) == [b"after", b"before"]


def test_an_id_unused_for_transactional_id_expiration_ms_is_removed_for_good(clusters):
    cluster = open_cluster(clusters, partitions=2, config={
        "transactional.id.expiration.ms": 60_000, "transaction.remove.expired.transaction.cleanup.interval.ms": 10_000})
    producer = _transactional(cluster)
    _transaction(cluster, producer, ["kept"], "commit")
    first_id = producer.transaction_manager.producer_id
    coordinator = cluster.snapshot().transaction("payments").coordinator
    mark = cluster.journal.last_seq
    cluster.run_for(50_000)
    assert cluster.snapshot().transaction("payments") is not None  # not yet expired
    cluster.run_for(30_000)
    assert cluster.snapshot().transaction("payments") is None
    assert [(e.old_state, e.new_state) for e in events(cluster, mark, TransactionStateChanged)][-1:] == [
        ("CompleteCommit", "Dead")]
    cluster.kill_broker(coordinator)  # its successor reloads __transaction_state: the tombstone keeps the id gone
    cluster.run_for(15_000)
    assert cluster.snapshot().transaction("payments") is None
    cluster.wait(cluster.restart_broker(coordinator))
    successor = _transactional(cluster)  # starts afresh: a new producer id at epoch 0
    assert successor.transaction_manager.producer_id != first_id
    assert successor.transaction_manager.producer_epoch == 0
    assert _read(cluster, "read_committed") == [b"kept"]


def test_offsets_sent_to_a_transaction_count_only_when_it_commits(clusters):
    cluster = open_cluster(clusters, partitions=2)
    producer = _transactional(cluster)
    source = TopicPartition("orders", 0)
    producer.begin_transaction()
    producer.send("orders", "out-1", partition=1)
    cluster.wait(producer.send_offsets_to_transaction({source: 7}, "processor"))
    cluster.wait(producer.abort_transaction())
    cluster.run_for(500)
    assert _fetch_offset(cluster, "processor", source) == -1
    producer.begin_transaction()
    producer.send("orders", "out-2", partition=1)
    cluster.wait(producer.send_offsets_to_transaction({source: 9}, "processor"))
    assert _fetch_offset(cluster, "processor", source) == -1  # pending until the marker
    cluster.wait(producer.commit_transaction())
    cluster.run_for(500)
    assert _fetch_offset(cluster, "processor", source) == 9
    assert sorted(_read(cluster, "read_committed")) == [b"out-2"]


def _fetch_offset(cluster: Cluster, group_id: str, tp: TopicPartition) -> int:
    consumer = cluster.consumer(group_id=group_id, enable_auto_commit=False)
    consumer.assign([tp])
    committed = cluster.wait(consumer.committed([tp]))
    cluster.wait(consumer.close())
    value = committed.get(tp)
    return -1 if value is None else value.offset


def test_the_inspector_tells_markers_aborted_and_open_records_apart(clusters):
    cluster = open_cluster(clusters, partitions=2)
    producer = _transactional(cluster)
    _transaction(cluster, producer, ["c1"], "commit")  # partition 0: record 0, marker 1
    _transaction(cluster, producer, ["a1"], "abort")  # record 2, marker 3
    _transaction(cluster, producer, ["o1"], "open")  # record 4
    partition = cluster.snapshot().partition("orders", 0)
    window = Inspector(cluster).window(partition.leader, TopicPartition("orders", 0), 0, partition.log_end_offset)
    assert window.kinds == (PLAIN, MARKER, ABORTED, MARKER, OPEN)


def test_a_read_committed_consumer_waits_for_offsets_a_transaction_is_committing(clusters):
    cluster = open_cluster(clusters, partitions=2)
    producer = _transactional(cluster)
    source = TopicPartition("orders", 0)
    producer.begin_transaction()
    producer.send("orders", "out", partition=1)
    cluster.wait(producer.send_offsets_to_transaction({source: 5}, "processor"))
    consumer = cluster.consumer(group_id="processor", enable_auto_commit=False, isolation_level="read_committed")
    consumer.assign([source])
    committed = consumer.committed([source])
    cluster.run_for(2000)
    assert not committed.done  # KIP-447: UNSTABLE_OFFSET_COMMIT, asked again until the transaction ends
    cluster.wait(producer.commit_transaction())
    assert cluster.wait(committed)[source].offset == 5
    cluster.wait(consumer.close())


def _joined(cluster: Cluster, consumer, *others) -> None:
    """Poll ``consumer`` (and ``others``, so a rebalance can end) until it owns partitions in a stable generation."""
    for _ in range(40):
        for polling in (consumer, *others):
            cluster.wait(polling.poll(100))
        if consumer.assignment() and all(other.assignment() for other in others):
            return
    raise AssertionError("the consumers did not join")


def test_a_zombie_members_offsets_fail_the_transaction_with_commit_failed(clusters):
    cluster = open_cluster(clusters, partitions=2)
    first = cluster.consumer(group_id="processor", client_id="first", enable_auto_commit=False)
    first.subscribe(["orders"])
    _joined(cluster, first)
    stale = first.group_metadata()
    assert (stale.group_id, stale.member_id, stale.generation_id) == ("processor", first.member_id, first.generation_id)
    second = cluster.consumer(group_id="processor", client_id="second", enable_auto_commit=False)
    second.subscribe(["orders"])
    _joined(cluster, second, first)  # a rebalance: the group is in a newer generation now
    assert first.generation_id > stale.generation_id
    producer = _transactional(cluster)
    source = TopicPartition("orders", 0)
    producer.begin_transaction()
    producer.send("orders", "zombie", partition=1)
    # KIP-447: the coordinator refuses the old generation's offsets (ILLEGAL_GENERATION), the producer says
    # CommitFailed (TransactionManager.TxnOffsetCommitHandler) and the transaction can only abort.
    with pytest.raises(KafkaError) as failed:
        cluster.wait(producer.send_offsets_to_transaction({source: 7}, stale))
    assert failed.value.error is Errors.COMMIT_FAILED
    with pytest.raises(KafkaError):
        cluster.wait(producer.commit_transaction())
    cluster.wait(producer.abort_transaction())
    # The current member's metadata commits; the producer goes on after the abort (no epoch bump needed).
    producer.begin_transaction()
    producer.send("orders", "current", partition=1)
    cluster.wait(producer.send_offsets_to_transaction({source: 9}, first.group_metadata()))
    cluster.wait(producer.commit_transaction())
    cluster.run_for(500)
    assert _fetch_offset(cluster, "processor", source) == 9
    assert sorted(_read(cluster, "read_committed")) == [b"current"]
    # The deprecated group-id form names no member: the coordinator takes it from a transaction.
    producer.begin_transaction()
    cluster.wait(producer.send_offsets_to_transaction({source: 11}, "processor"))
    cluster.wait(producer.commit_transaction())
