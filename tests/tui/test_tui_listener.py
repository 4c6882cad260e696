"""The TUI's Kafka listener: the clock bar's bootstrap address, the clients screen, a real client's records."""

from __future__ import annotations

import asyncio
import struct
from pathlib import Path

import pytest

from kafkalab.lessons.model import load_lesson
from kafkalab.sim.network import DEFAULT_LATENCY_MS, ONE_HOST_LATENCY_MS
from kafkalab.tui.app import KafkaLabApp
from kafkalab.tui.bridge import EngineBridge
from kafkalab.tui.screens.clients import ConnectionsTable
from kafkalab.tui.screenshots import SEED, SIZE
from kafkalab.tui.widgets.clock_bar import ClockBar
from tests.tui.tui_helpers import TEST_LESSONS
from tests.wire.raw_client import api_versions, connect, read_frame


def _app(path: Path, paused: bool) -> KafkaLabApp:
    bridge = EngineBridge.open(path, brokers=3, fresh=True, seed=SEED, paused=paused, listen=("127.0.0.1", 0))
    app = KafkaLabApp(bridge)
    app.animation_level = "none"
    return app


async def test_the_clients_screen_lists_a_connection_with_its_software(tmp_path: Path) -> None:
    app = _app(tmp_path / "data", paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await app.settle()
        assert app.bridge.listener is not None
        port = app.bridge.listener.server.addresses[2][1]
        sock = connect(port)
        try:
            sock.sendall(api_versions(3, correlation_id=3))
            reply = await asyncio.to_thread(read_frame, sock)
            assert reply is not None and struct.unpack(">i", reply[:4])[0] == 3
            await pilot.press("8")
            for _ in range(100):
                frame = await app.settle()
                if frame.listener is not None and frame.listener.connections:
                    break
                await asyncio.sleep(0.05)
            await pilot.pause()
            table = app.screen.query_one(ConnectionsTable)
            row = [str(cell) for cell in table.get_row_at(0)]
            assert row[1].startswith("127.0.0.1:") and row[2] == "2" and row[3] == "raw" and row[4] == "raw 1"
            bar = str(app.screen.query_one(ClockBar).render())
            assert f"bootstrap {app.bridge.listener.bootstrap} (1 connection)" in bar
            assert "clients may time out" in bar
        finally:
            sock.close()


async def test_a_real_client_s_records_reach_the_views(tmp_path: Path) -> None:
    kafka = pytest.importorskip("kafka")
    app = _app(tmp_path / "data", paused=False)
    async with app.run_test(size=SIZE):
        await app.settle()
        assert app.bridge.listener is not None
        bootstrap = app.bridge.listener.bootstrap

        def produce() -> None:
            admin = kafka.KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=20_000)
            admin.create_topics([kafka.admin.NewTopic("orders", 2, 3)])
            admin.close()
            producer = kafka.KafkaProducer(bootstrap_servers=bootstrap, acks="all", client_id="from-outside")
            for i in range(20):
                producer.send("orders", key=b"k%d" % i, value=b"v")
            producer.flush(30)
            producer.close()

        await asyncio.to_thread(produce)
        frame = await app.settle()
        topic = frame.view.topic("orders")
        assert topic is not None and sum(p.high_watermark for p in topic.partitions) == 20


def test_a_lesson_keeps_its_own_links_and_home_keeps_the_ones_the_tui_opened_with(tmp_path: Path) -> None:
    """`kafkalab` links its brokers as on one host; a lesson's cluster has the links it was verified on."""
    lesson = load_lesson(TEST_LESSONS / "failover.yaml")
    bridge = EngineBridge.open(tmp_path / "home", fresh=True, seed=SEED, paused=True,
                               link_latency_ms=ONE_HOST_LATENCY_MS)
    bridge.start()
    try:
        def links() -> float:
            return bridge.run_on_engine(lambda cluster: cluster.network.default_latency_ms).result(30)

        assert links() == ONE_HOST_LATENCY_MS
        bridge.start_lesson(lesson, tmp_path / "lesson").result(30)
        assert links() == DEFAULT_LATENCY_MS
        bridge.open_cluster(tmp_path / "home").result(30)
        assert links() == ONE_HOST_LATENCY_MS
    finally:
        bridge.close()
