"""Writing partition state to ZooKeeper: a create resent after a lost answer finds its own znode."""

from __future__ import annotations

import dataclasses

import pytest
from lab_clusters import Clusters

from kafkalab.coordination.protocol import ZkCode, ZkException
from kafkalab.protocol.types import TopicPartition
from kafkalab.sim.process import spawn


def test_a_create_that_finds_its_own_state_succeeds_and_one_that_finds_another_fails(clusters: Clusters) -> None:
    cluster = clusters.open(brokers=1)
    cluster.wait(cluster.create_topic("t", 1, 1))
    controller = cluster.brokers[cluster.controller_id].controller
    assert controller is not None
    state = controller.context.states[TopicPartition("t", 0)]

    # As when the first create's answer was lost with the connection and the client sent it again.
    resent = cluster.wait(spawn(controller.group, controller.writer.write(state, create=True), name="resent create"))
    assert (resent.leader, resent.leader_epoch, resent.isr) == (state.leader, state.leader_epoch, state.isr)

    other = dataclasses.replace(state, leader_epoch=state.leader_epoch + 1)
    with pytest.raises(ZkException) as refused:
        cluster.wait(spawn(controller.group, controller.writer.write(other, create=True), name="conflicting create"))
    assert refused.value.code == ZkCode.NODE_EXISTS
