"""Regenerate ``screenshots/*.svg``: drive the app through a scripted story and shoot the telling moments.

``python -m kafkalab.tui.screenshots [OUT_DIR]`` builds a fresh cluster with a fixed
seed in a temporary directory, keeps virtual time paused and steps it explicitly, so
the same code always draws the same pictures. The snapshot tests use the same scenes.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from kafkalab.actions.client_actions import Produce, StartConsumer
from kafkalab.actions.cluster_actions import CreateTopic, CutLink, HealLink, KillBroker, RestartBroker
from kafkalab.clients.partitioners import partition_for_key
from kafkalab.cluster.cluster import Cluster
from kafkalab.lessons.catalog import Catalog, builtin_dir
from kafkalab.lessons.progress import Progress
from kafkalab.scenarios.model import Scenario, load_scenario
from kafkalab.tui.app import THEMES, KafkaLabApp
from kafkalab.tui.bridge import EngineBridge
from kafkalab.tui.lesson_control import LessonLibrary

SIZE = (160, 48)
SEED = 7
KEYS = tuple(f"customer-{n}" for n in range(12))
#: Long enough for ZooKeeper to expire a dead broker's session (zookeeper.session.timeout.ms is 18 s).
FAILOVER_MS = 20_000
#: Long enough for the active controller to fence a silent broker (broker.session.timeout.ms is 9 s).
FENCING_MS = 10_000

Shoot = Callable[[str], Awaitable[None]]


def lesson_library(workdir: Path, catalog: Catalog | None = None) -> LessonLibrary:
    """Lessons (the built-in ones unless given) with progress and lesson clusters kept under ``workdir``."""
    return LessonLibrary(Progress(workdir / "progress.json"), workdir / "lesson-clusters", catalog)


def open_app(data_dir: Path, brokers: int = 3, theme: str = THEMES[0], lessons: LessonLibrary | None = None,
             scenario: Scenario | None = None, custom_partitioner: str | None = None,
             config_file: Path | None = None, mode: str | None = None,
             broker_config: dict[str, Any] | None = None) -> KafkaLabApp:
    """An app on a fresh cluster with a fixed seed and virtual time paused: nothing moves unless stepped.

    A scenario to play gets its own cluster spec; lessons default to the built-in ones with
    progress and lesson clusters beside ``data_dir``, never in the user's data dir.
    ``custom_partitioner`` is what ``kafkalab --partitioner`` would give; the keys are the
    default ones unless a ``config_file`` gives others (never the user's own file); ``mode`` is
    ``kafkalab --mode`` (ZooKeeper mode unless given); ``broker_config`` the brokers' settings, as a
    scenario's ``cluster: config`` gives them.
    """
    if scenario is not None:
        spec = scenario.cluster
        bridge = EngineBridge.open(data_dir, brokers=spec.brokers, fresh=True, seed=spec.seed,
                                   broker_config=spec.config, paused=True, custom_partitioner=custom_partitioner)
    else:
        bridge = EngineBridge.open(data_dir, brokers=brokers, fresh=True, seed=SEED, paused=True,
                                   custom_partitioner=custom_partitioner, mode=mode, broker_config=broker_config)
    app = KafkaLabApp(bridge, theme=theme, lessons=lessons or lesson_library(data_dir.parent), scenario=scenario,
                      config_file=config_file)
    app.animation_level = "none"
    return app


def produce_keyed(cluster: Cluster, topic: str, count: int, acks: int = -1, first: int = 0,
                  partition: int | None = None) -> None:
    """Send ``count`` keyed records, each to the partition Kafka's partitioner picks for its key (engine thread)."""
    view = cluster.snapshot().topic(topic)
    assert view is not None, topic
    for n in range(first, first + count):
        key = KEYS[n % len(KEYS)].encode()
        target = partition if partition is not None else partition_for_key(key, len(view.partitions))
        cluster.produce(topic, target, [(key, f"event {n}".encode())], acks)


def steady_load(cluster: Cluster, topic: str, per_second: int, duration_ms: float) -> None:
    """Produce ``per_second`` keyed records per second of virtual time for ``duration_ms`` (engine thread)."""
    end = cluster.scheduler.now_ms + duration_ms
    sent = [0]

    def tick() -> None:
        if cluster.scheduler.now_ms >= end:
            return
        produce_keyed(cluster, topic, per_second // 10, acks=1, first=sent[0])
        sent[0] += per_second // 10
        cluster.scheduler.call_later(100, tick)

    tick()


def _lab(app: KafkaLabApp) -> EngineBridge:
    """The app's engine bridge: screenshots are taken of the lab."""
    assert isinstance(app.bridge, EngineBridge)
    return app.bridge


async def run_steady_load(app: KafkaLabApp) -> None:
    """Thirty virtual seconds of 400 records/s into payments, sampled second by second."""
    _lab(app).run_on_engine(lambda c: steady_load(c, "payments", 400, 30_000))
    for _ in range(30):
        await app.settle(step_ms=1000)


async def consumer_group(app: KafkaLabApp) -> None:
    """Two consumers of group billing on orders, one after the other: the second join is a rebalance."""
    app.submit(StartConsumer("billing", "consumer-1", ("orders",), "range", "earliest"))
    await app.settle(step_ms=6000)
    app.submit(StartConsumer("billing", "consumer-2", ("orders",), "range", "earliest"))
    await app.settle(step_ms=6000)


async def transactions(app: KafkaLabApp) -> None:
    """On payments: a committed transaction of shop, an aborted one, then one left open (the LSO stays behind)."""
    app.submit(Produce("payments", value="paid {i}", key="customer-{i}", count=6, transactional_id="shop"))
    await app.settle(step_ms=2000)
    app.submit(Produce("payments", value="refund {i}", key="customer-{i}", count=3, transactional_id="shop",
                       end="abort"))
    await app.settle(step_ms=2000)
    app.submit(Produce("payments", value="late {i}", key="customer-{i}", count=3, transactional_id="shop",
                       end="open"))
    await app.settle(step_ms=2000)
    app.select(topic="payments", partition=0)
    await app.settle()


async def third_member_joins(app: KafkaLabApp) -> None:
    """consumer-3 joins billing and time stops mid-rebalance: the other two hear of it only at their next heartbeat."""
    app.submit(StartConsumer("billing", "consumer-3", ("orders",), "range", "earliest"))
    await app.settle(step_ms=200)


async def populate(app: KafkaLabApp) -> None:
    """Three topics with keyed records: orders (6 partitions), payments (3), audit (3, replication factor 1)."""
    await app.settle()
    app.submit(CreateTopic("orders", 6, 3, {"min.insync.replicas": 2}))
    app.submit(CreateTopic("payments", 3, 3))
    app.submit(CreateTopic("audit", 3, 1))
    await app.settle(step_ms=500)
    app.submit(Produce("orders", value="order {i}", key="customer-{i}", count=96))
    app.submit(Produce("payments", value="payment {i}", key="customer-{i}", count=30))
    app.submit(Produce("audit", value="audit {i}", key="customer-{i}", count=12))
    await app.settle(step_ms=1000)
    app.select(topic="orders", partition=0)
    await app.settle()
    app.clear_notifications()


async def kill_selected_leader(app: KafkaLabApp, pilot: Pilot) -> None:
    """Kill the selected partition's leader through the form and wait until ZooKeeper noticed."""
    await pilot.press("k")  # the kill form offers the selected partition's leader
    await pilot.press("ctrl+s")
    await pilot.pause()  # the form hands its action over in a callback
    await app.settle(step_ms=FAILOVER_MS)


async def start_lesson(app: KafkaLabApp, lesson_id: str) -> None:
    """Start ``lesson_id`` as the browser does, and step virtual time until its setup has run."""
    await app.settle()
    app.lessons.start(lesson_id)
    for _ in range(600):
        frame = await app.settle(step_ms=100)
        if frame.lesson is not None and frame.lesson.lesson_id == lesson_id and not frame.lesson.setting_up:
            return
    raise AssertionError(f"lesson {lesson_id} did not finish its setup")


async def lesson_key(app: KafkaLabApp, pilot: Pilot, key: str, step_ms: float = 0.0) -> None:
    """Press a lesson key, then let the engine act on it (and ``step_ms`` of virtual time pass)."""
    await pilot.press(key)
    await app.settle(step_ms=step_ms)
    await pilot.pause()


async def play_on(app: KafkaLabApp, seconds: int) -> None:
    """Let the scenario being played run for ``seconds`` of virtual time, one second at a time."""
    for _ in range(seconds):
        await app.settle(step_ms=1000)


async def ready_to_shoot(app: KafkaLabApp, pilot: Pilot) -> None:
    """Let the screen show the engine's latest state, without toasts or a blinking cursor."""
    await app.settle()
    app.clear_notifications()
    for field in app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()


async def failover_with_truncation(app: KafkaLabApp, pilot: Pilot, partition: int) -> None:
    """Isolate the leader of ``orders-<partition>`` from its followers, let it take acks=1 writes only it has,
    kill it, let a follower take over and write more, then bring it back: it truncates its divergent tail."""
    frame = await app.settle()
    view = frame.view.partition("orders", partition)
    assert view is not None and view.leader is not None
    leader = view.leader
    followers = [b for b in view.replicas if b != leader]
    app.select(topic="orders", partition=partition)
    for follower in followers:
        app.submit(CutLink((leader, follower)))
    await app.settle(step_ms=100)
    _lab(app).run_on_engine(lambda c: produce_keyed(c, "orders", 5, acks=1, first=200, partition=partition))
    await app.settle(step_ms=200)
    await kill_selected_leader(app, pilot)
    _lab(app).run_on_engine(lambda c: produce_keyed(c, "orders", 4, first=300, partition=partition))
    await app.settle(step_ms=500)
    for follower in followers:
        app.submit(HealLink((leader, follower)))
    app.submit(RestartBroker(leader))
    await app.settle(step_ms=5000)


async def broker_fenced_by_the_quorum(app: KafkaLabApp, pilot: Pilot) -> None:
    """KRaft mode: the topics, broker 2 killed until the active controller fences it, the quorum screen on the
    fencing record and the leader changes it caused."""
    await app.settle(step_ms=6000)  # the quorum elects its leader and the brokers register
    await populate(app)
    await pilot.press("4")
    app.submit(KillBroker(2))
    await app.settle(step_ms=FENCING_MS)
    await pilot.press("left")  # from the fencing record to the partition change before it


async def story(app: KafkaLabApp, pilot: Pilot, shoot: Shoot) -> None:
    """The README's pictures, in order."""
    await populate(app)
    await shoot("dashboard")
    app.select(partition=1)
    await pilot.press("6")
    await shoot("records")
    app.select(partition=0)
    await pilot.press("4")
    for key in ("down", "down", "down", "down"):
        await pilot.press(key)
    await shoot("zookeeper")
    await pilot.press("1")
    await kill_selected_leader(app, pilot)
    await shoot("broker-killed")
    app.select(topic="audit")
    await shoot("offline-partition")
    frame = await app.settle()
    for broker in frame.view.brokers:
        if broker.state == "not running":
            app.submit(RestartBroker(broker.broker_id))
    await app.settle(step_ms=5000)
    await failover_with_truncation(app, pilot, partition=1)
    await pilot.press("2")
    await shoot("replication-after-failover")
    await pilot.press("5")
    await shoot("events")
    await run_steady_load(app)
    await pilot.press("7")
    await shoot("throughput")
    app.select(topic="orders")
    await pilot.press("0")
    await shoot("configs")
    await consumer_group(app)
    await pilot.press("3")
    await shoot("consumer-groups")
    await third_member_joins(app)
    await shoot("mid-rebalance")
    await pilot.press("1", "question_mark")
    await shoot("help")
    await pilot.press("escape", "c")
    await shoot("create-topic-form")
    await pilot.press("escape")
    app.theme = "textual-light"
    await shoot("dashboard-light")


async def lesson_story(app: KafkaLabApp, pilot: Pilot, shoot: Shoot) -> None:
    """The lesson browser, then the built-in leader-election lesson: its prediction asked, then judged."""
    progress = app.lessons.library.progress
    # A learner who finished the first lesson and half of the second, so the browser has progress to show.
    for lesson_id, steps in (("messages-and-topics", range(5)), ("partitions", range(2))):
        progress.of(lesson_id).completed_steps.update(steps)
    await app.settle()
    await pilot.press("l")
    await shoot("lessons")
    await pilot.press("escape")
    await start_lesson(app, "leader-election")
    await shoot("lesson-predict")
    await lesson_key(app, pilot, "1")
    await lesson_key(app, pilot, "w", step_ms=FAILOVER_MS)
    await shoot("lesson-goal-met")


async def play_story(app: KafkaLabApp, pilot: Pilot, shoot: Shoot) -> None:
    """``kafkalab play examples/05-leader-failover.yaml`` while broker 1 is down and ZooKeeper has not noticed yet."""
    await play_on(app, 8)
    await shoot("play")


async def quorum_story(app: KafkaLabApp, pilot: Pilot, shoot: Shoot) -> None:
    """``kafkalab --mode kraft``: the quorum screen after a broker was fenced."""
    await broker_fenced_by_the_quorum(app, pilot)
    await shoot("quorum")


async def tell(story_of: Callable[[KafkaLabApp, Pilot, Shoot], Awaitable[None]], app: KafkaLabApp,
               out_dir: Path) -> list[Path]:
    """Run one story on ``app`` and save each moment it shoots as ``out_dir/<name>.svg``."""
    saved: list[Path] = []
    async with app.run_test(size=SIZE) as pilot:

        async def shoot(name: str) -> None:
            await ready_to_shoot(app, pilot)
            saved.append(Path(app.save_screenshot(f"{name}.svg", str(out_dir))))

        await story_of(app, pilot, shoot)
    return saved


async def save_all(out_dir: Path) -> list[Path]:
    """Run the stories, each on a fresh app, and save their moments in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    # One fixed place rather than a random temp name: the records screen shows its real directory,
    # and the pictures should not change with every regeneration.
    temp = Path(tempfile.gettempdir()) / "kafkalab-screenshots"
    shutil.rmtree(temp, ignore_errors=True)
    try:
        played = load_scenario(builtin_dir("examples") / "05-leader-failover.yaml")
        return [*await tell(story, open_app(temp / "main" / "data"), out_dir),
                *await tell(lesson_story, open_app(temp / "lessons" / "data"), out_dir),
                *await tell(play_story, open_app(temp / "play" / "data", scenario=played), out_dir),
                *await tell(quorum_story, open_app(temp / "kraft" / "data", mode="kraft"), out_dir)]
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``python -m kafkalab.tui.screenshots [OUT_DIR]`` (default ``screenshots``)."""
    args = sys.argv[1:] if argv is None else argv
    for path in asyncio.run(save_all(Path(args[0] if args else "screenshots"))):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
