"""``kafkalab dump-log`` on KRaft's metadata log and snapshots, like ``kafka-dump-log.sh --cluster-metadata-decoder``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lab_clusters import Clusters

from kafkalab.cli import main
from kafkalab.metadata.records import FeatureLevelRecord, TopicRecord, encode_record
from kafkalab.protocol.raft import OffsetAndEpoch
from kafkalab.raft.snapshots import encode_snapshot, snapshot_file_name


def test_a_controllers_metadata_log_prints_its_records_decoded(clusters: Clusters,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    cluster = clusters.open(mode="kraft")
    cluster.wait(cluster.create_topic("orders", 2, 3, {"retention.ms": 1000}))
    cluster.run_for(1000)
    path = cluster.data_dir.path
    cluster.close()
    assert main(["dump-log", str(path / "controller-101" / "__cluster_metadata-0" / "00000000000000000000.log")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any("isControl: true" in line for line in lines)
    assert any("LeaderChange: {\"leaderId\":" in line for line in lines)
    payloads = [json.loads(line.split(" payload: ", 1)[1]) for line in lines if " payload: " in line]
    types = [p["type"] for p in payloads]
    assert types[0] == "FEATURE_LEVEL_RECORD" and payloads[0]["data"] == {"name": "metadata.version",
                                                                          "featureLevel": 27}
    assert {"REGISTER_BROKER_RECORD", "BROKER_REGISTRATION_CHANGE_RECORD", "TOPIC_RECORD", "PARTITION_RECORD",
            "CONFIG_RECORD"} <= set(types)
    topic = next(p for p in payloads if p["type"] == "TOPIC_RECORD")
    assert topic["data"]["name"] == "orders"


def test_a_snapshot_prints_between_its_header_and_footer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snapshot_id = OffsetAndEpoch(12, 3)
    file = tmp_path / "__cluster_metadata-0" / snapshot_file_name(snapshot_id)
    file.parent.mkdir()
    records = [encode_record(FeatureLevelRecord("metadata.version", 27)), encode_record(TopicRecord("orders", ""))]
    file.write_bytes(encode_snapshot(snapshot_id, records, 1000, 2000))
    assert main(["dump-log", str(file)]) == 0
    out = capsys.readouterr().out
    assert "SnapshotHeader: {" in out and "SnapshotFooter: {}" in out
    assert '"type":"TOPIC_RECORD","version":0,"data":{"name":"orders","topicId":"AAAAAAAAAAAAAAAAAAAAAA"}' in out


def test_a_partition_segment_still_prints_its_payloads_as_text(clusters: Clusters,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    cluster = clusters.open(mode="kraft")
    cluster.wait(cluster.create_topic("orders", 1, 1))
    cluster.wait(cluster.produce("orders", 0, [(b"k", b"hello")]))
    leader = cluster.snapshot().partition("orders", 0).leader  # type: ignore[union-attr]
    path = cluster.data_dir.path
    cluster.close()
    assert main(["dump-log", str(path / f"broker-{leader}" / "orders-0" / "00000000000000000000.log")]) == 0
    assert "key: k payload: hello" in capsys.readouterr().out
