"""The one registry of what a user can do: it feeds the key bindings, the help screen and the palette.

UI commands (switch screen, pause the clock ...) and engine actions from the shared
vocabulary (``kafkalab.actions.REGISTRY``) are listed once here. An action added to the
vocabulary later appears in the palette and help with a form generated from its fields
without any change here; giving it a key is one more ``ActionSpec`` line.

A key binding names its action by step only: the vocabulary (some 110 dataclasses, and the
clients under them) loads when an action is first offered, its form opened or its key's
sentence shown (``action_summary``), not before the first paint (issue 18).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, dataclass, fields
from typing import TYPE_CHECKING, Any

from textual.binding import Binding, BindingType

from kafkalab.tui.frames import Frame
from kafkalab.tui.selection import Selection

if TYPE_CHECKING:
    from kafkalab.actions.base import Action

#: Vocabulary steps that direct a scenario rather than act on the cluster; the TUI shows their effect anyway.
NOT_USER_ACTIONS = frozenset({"wait", "expect", "note", "describe_topic"})

Values = dict[str, Any]
Prefill = Callable[[Selection, Frame], Values]
Targets = Callable[[Frame], list[tuple[str, Values]]]
#: The values a field may take now (the running steady producers' ids), offered as a list in the form.
Choices = Callable[[Frame], dict[str, list[str]]]


@dataclass(frozen=True)
class UiCommand:
    """A command that drives the UI itself (screens, clock, lessons, help); without a key it is palette-only."""

    id: str
    key: str
    title: str
    help: str
    action: str
    group: str
    key_display: str | None = None
    show: bool = True

    @property
    def action_name(self) -> str:
        """The app action's name without its namespace and arguments (``lesson`` for ``app.lesson('hint')``)."""
        return self.action.removeprefix("app.").split("(", 1)[0]

    def binding(self) -> Binding:
        return Binding(self.key, self.action, self.title.split(": ", 1)[-1], show=self.show, id=self.id,
                       tooltip=self.help, key_display=self.key_display, group=_GROUPS[self.group])


def _no_prefill(selection: Selection, frame: Frame) -> Values:
    return {}


@dataclass(frozen=True)
class ActionSpec:
    """How the TUI offers one vocabulary action: its key, palette name (``noun: verb``) and form defaults."""

    step: str
    key: str
    #: The footer group of its key and its binding id's prefix (ids are what a user's keymap names).
    namespace: str
    verb: str
    prefill: Prefill = _no_prefill
    #: Ready-made palette entries (``broker: kill 2``) that run without a form.
    targets: Targets | None = None
    #: What the palette names it after, where that is not the namespace (a steady producer's key sits with
    #: the record keys, yet it is a producer that starts).
    noun: str | None = None
    choices: Choices | None = None

    @property
    def id(self) -> str:
        return f"{self.namespace}.{self.step}"

    @property
    def title(self) -> str:
        return f"{self.noun or self.namespace}: {self.verb}"

    @property
    def action_type(self) -> type[Action]:
        from kafkalab.actions import REGISTRY

        return REGISTRY[self.step]

    @property
    def help(self) -> str:
        return self.action_type.summary

    @property
    def app_action(self) -> str:
        """The app action its key runs: open the form."""
        return f"app.start_action('{self.step}')"

    def binding(self) -> Binding:
        # No tooltip: the sentence is the action's summary, which would load the vocabulary with the app; the footer
        # asks ``action_summary`` when the key is hovered, and the help screen lists it.
        return Binding(self.key, self.app_action, self.verb, id=self.id, group=_GROUPS.get(self.namespace))


#: Footer groups: keys side by side under one name; help and quit each show their own name.
_GROUPS = {name: Binding.Group(name, compact=name != "app") for name in
           ("screens", "clock", "select", "topic", "record", "consumer", "broker", "network", "partition", "lesson",
            "play", "session", "app")}


# -- defaults taken from the selection ----------------------------------------------------


def _selected_topic(selection: Selection, frame: Frame) -> Values:
    return {"topic": selection.topic} if selection.topic else {}


def _selected_leader(selection: Selection, frame: Frame) -> Values:
    view = frame.view
    partition = selection.partition_view(view)
    if partition is not None and partition.leader is not None:
        return {"broker": partition.leader}
    running = [b.broker_id for b in view.brokers if b.state != "not running"]
    return {"broker": running[0]} if running else {}


def _stopped_broker(selection: Selection, frame: Frame) -> Values:
    stopped = [b.broker_id for b in frame.view.brokers if b.state == "not running"]
    return {"broker": stopped[0]} if stopped else {}


def _leader_and_zk(selection: Selection, frame: Frame) -> Values:
    return {"between": [_selected_leader(selection, frame).get("broker", 1), "zk"]}


def _first_cut_link(selection: Selection, frame: Frame) -> Values:
    cut = frame.view.cut_links
    return {"between": list(_node_ids(*cut[0]))} if cut else {}


def _latency(selection: Selection, frame: Frame) -> Values:
    ids = [b.broker_id for b in frame.view.brokers]
    return {"between": ids[:2] if len(ids) > 1 else [ids[0], "zk"], "ms": 200}


def _new_topic(selection: Selection, frame: Frame) -> Values:
    # No config overrides: a min.insync.replicas suggested here outlives a replication factor lowered below it.
    return {"name": "orders", "partitions": 3, "replication_factor": min(3, len(frame.view.brokers))}


def _topic_config(selection: Selection, frame: Frame) -> Values:
    return {**_selected_topic(selection, frame), "set": {"retention.ms": 60_000}}


def _produce(selection: Selection, frame: Frame) -> Values:
    return {**_selected_topic(selection, frame), "key": "customer-1", "value": "hello"}


def _steady_producer(selection: Selection, frame: Frame) -> Values:
    taken = set(frame.steady_producers)
    name = next(f"steady-{n}" for n in range(1, len(taken) + 2) if f"steady-{n}" not in taken)
    return {"id": name, **_selected_topic(selection, frame), "rate": 100, "key": "customer-{i}"}


def _consumer(selection: Selection, frame: Frame) -> Values:
    taken = {member.client_id for group in frame.view.groups for member in group.members}
    client = next(f"consumer-{n}" for n in range(1, len(taken) + 2) if f"consumer-{n}" not in taken)
    topics = [selection.topic] if selection.topic else []
    return {"group": "group-1", "client_id": client, "topics": topics, "strategy": "range"}


def _consume(selection: Selection, frame: Frame) -> Values:
    return {**_consumer(selection, frame), "auto_offset_reset": "earliest"}


def _first_consumer(selection: Selection, frame: Frame) -> Values:
    targets = _consumers(frame)
    return targets[0][1] if targets else {}


def _consumer_seek(selection: Selection, frame: Frame) -> Values:
    where = {"topic": selection.topic, "partition": selection.partition} if selection.topic else {}
    return {**_first_consumer(selection, frame), **where, "to": "beginning"}


def _first_group(selection: Selection, frame: Frame) -> Values:
    groups = _groups(frame)
    return groups[0][1] if groups else {}


def _first_steady_producer(selection: Selection, frame: Frame) -> Values:
    return {"id": frame.steady_producers[0]} if frame.steady_producers else {}


# -- ready-made palette entries -----------------------------------------------------------


def _node_ids(a: str, b: str) -> tuple[int | str, int | str]:
    """Network names (``broker-2``, ``zk``) as the action vocabulary names nodes (``2``, ``zk``)."""
    return tuple(int(n[7:]) if n.startswith("broker-") else n for n in (a, b))  # type: ignore[return-value]


def _brokers_where(running: bool) -> Targets:
    def targets(frame: Frame) -> list[tuple[str, Values]]:
        return [(str(b.broker_id), {"broker": b.broker_id}) for b in frame.view.brokers
                if (b.state != "not running") == running]
    return targets


def _user_topics(frame: Frame) -> list[tuple[str, Values]]:
    return [(t.name, {"topic": t.name}) for t in frame.view.topics if not t.internal]


def _links_to_cut(frame: Frame) -> list[tuple[str, Values]]:
    view = frame.view
    nodes: list[int | str] = [b.broker_id for b in view.brokers] + ["zk"]
    cut = {frozenset(_node_ids(a, b)) for a, b in view.cut_links}
    return [(f"{a} <-> {b}", {"between": [a, b]}) for i, a in enumerate(nodes) for b in nodes[i + 1:]
            if frozenset((a, b)) not in cut]


def _links_to_heal(frame: Frame) -> list[tuple[str, Values]]:
    return [(" <-> ".join(str(n) for n in _node_ids(a, b)), {"between": list(_node_ids(a, b))})
            for a, b in frame.view.cut_links]


def _consumers(frame: Frame) -> list[tuple[str, Values]]:
    return [(f"{member.client_id} ({group.group_id})", {"group": group.group_id, "client_id": member.client_id})
            for group in frame.view.groups for member in group.members]


def _groups(frame: Frame) -> list[tuple[str, Values]]:
    return [(group.group_id, {"group": group.group_id}) for group in frame.view.groups]


def _steady_producers(frame: Frame) -> list[tuple[str, Values]]:
    return [(producer_id, {"id": producer_id}) for producer_id in frame.steady_producers]


def _running_steady_producers(frame: Frame) -> dict[str, list[str]]:
    return {"id": list(frame.steady_producers)}


def _elections(frame: Frame) -> list[tuple[str, Values]]:
    return [("all partitions", {}), *_user_topics(frame)]


#: Every vocabulary action the TUI binds to a key, in footer order.
ACTION_SPECS: tuple[ActionSpec, ...] = (
    ActionSpec("create_topic", "c", "topic", "create", _new_topic),
    ActionSpec("delete_topic", "D", "topic", "delete", _selected_topic, _user_topics),
    ActionSpec("alter_config", "C", "topic", "configure", _topic_config),
    ActionSpec("produce", "p", "record", "produce", _produce),
    ActionSpec("start_producer", "P", "record", "start", _steady_producer, noun="producer"),
    ActionSpec("start_consumer", "g", "consumer", "start", _consumer),
    ActionSpec("stop_consumer", "G", "consumer", "stop", _first_consumer, _consumers),
    ActionSpec("pause_consumer", "z", "consumer", "pause (slow consumer)", _first_consumer, _consumers),
    ActionSpec("kill_broker", "k", "broker", "kill", _selected_leader, _brokers_where(running=True)),
    ActionSpec("restart_broker", "r", "broker", "restart", _stopped_broker, _brokers_where(running=False)),
    ActionSpec("shutdown_broker", "S", "broker", "shut down", _selected_leader, _brokers_where(running=True)),
    ActionSpec("cut_link", "x", "network", "cut link", _leader_and_zk, _links_to_cut),
    ActionSpec("heal_link", "H", "network", "heal link", _first_cut_link, _links_to_heal),
    ActionSpec("set_latency", "L", "network", "set latency", _latency),
    ActionSpec("elect_leaders", "E", "partition", "elect preferred", _selected_topic, _elections),
)

#: Vocabulary actions offered in the palette only.
PALETTE_SPECS: tuple[ActionSpec, ...] = (
    ActionSpec("consume", "", "record", "consume", _consume),
    ActionSpec("stop_producer", "", "producer", "stop", _first_steady_producer, _steady_producers,
               choices=_running_steady_producers),
    ActionSpec("commit", "", "consumer", "commit", _first_consumer, _consumers),
    ActionSpec("seek", "", "consumer", "seek", _consumer_seek),
    ActionSpec("resume_consumer", "", "consumer", "resume", _first_consumer, _consumers),
    ActionSpec("kill_consumer", "", "consumer", "kill", _first_consumer, _consumers),
    ActionSpec("start_processor", "", "processor", "start"),
    ActionSpec("describe_group", "", "group", "describe", _first_group, _groups),
)


def _named_after_its_step(step: str) -> ActionSpec:
    """A vocabulary action without a spec here yet, named from its step: ``stop_producer`` as ``producer: stop``."""
    verb, _, noun = step.partition("_")
    return ActionSpec(step, "", noun or "action", verb)


def action_specs() -> list[ActionSpec]:
    """Every user action: the bound ones, then those offered in the palette only."""
    from kafkalab.actions import REGISTRY

    known = {spec.step for spec in (*ACTION_SPECS, *PALETTE_SPECS)}
    extra = [_named_after_its_step(step) for step in sorted(REGISTRY) if step not in known
             and step not in NOT_USER_ACTIONS]
    return [*ACTION_SPECS, *PALETTE_SPECS, *extra]


def action_summary(app_action: str) -> str | None:
    """The sentence saying what a bound vocabulary action does, by the app action its key runs (None for another)."""
    spec = next((spec for spec in ACTION_SPECS if spec.app_action == app_action), None)
    return spec.help if spec is not None else None


def spec_for(step: str) -> ActionSpec:
    """The spec of a vocabulary step (KeyError if the vocabulary has no such step)."""
    for spec in action_specs():
        if spec.step == step:
            return spec
    raise KeyError(step)


#: Screens in the order of their number keys: (mode name, key, title, what it shows).
SCREENS: tuple[tuple[str, str, str, str], ...] = (
    ("dashboard", "1", "dashboard", "Brokers and the selected topic's partitions drawn as logs."),
    ("replication", "2", "replication", "The selected partition's leader and follower logs aligned by offset."),
    ("groups", "3", "groups", "Consumer groups: members, assignment, offsets and lag."),
    ("zookeeper", "4", "zookeeper", "The coordination tree with ephemeral znodes and their sessions; in KRaft mode "
     "the controller quorum: votes, the metadata log, broker registrations."),
    ("events", "5", "events", "Every narrated event, newest first; select one for the why."),
    ("records", "6", "records", "Records of the selected partition and the replica's segment files."),
    ("throughput", "7", "throughput", "Records per second per topic and per broker."),
    ("clients", "8", "clients", "Your own Kafka clients' connections: address, client.id, software, requests/s."),
)

UI_COMMANDS: tuple[UiCommand, ...] = (
    *(UiCommand(f"screen.{mode}", key, f"screen: {title}", about, f"app.show_screen('{mode}')", "screens")
      for mode, key, title, about in SCREENS),
    # Left out of the footer, whose screen keys stay 1-8 (the help and the palette list them).
    UiCommand("screen.transactions", "9", "screen: transactions", "Transactional ids: state, producer id and epoch, "
              "partitions, time to their timeout; partitions whose LSO an open transaction holds back.",
              "app.show_screen('transactions')", "screens", show=False),
    UiCommand("screen.configs", "0", "screen: configs", "The selected topic's configs as kafka-configs.sh --describe "
              "--all shows them (value in effect, source, its own overrides marked) and each broker's own settings.",
              "app.show_screen('configs')", "screens", show=False),
    UiCommand("clock.pause", "space", "clock: pause / run", "Freeze or release virtual time (and a scenario being "
              "played).",
              "app.toggle_pause", "clock", key_display="␣"),
    UiCommand("clock.step", "full_stop", "clock: step 100 ms", "While paused, let 100 ms of virtual time pass.",
              "app.step_clock(100)", "clock", key_display="."),
    UiCommand("clock.step_second", "greater_than_sign", "clock: step 1 s",
              "While paused, let one second of virtual time pass.", "app.step_clock(1000)", "clock", key_display=">"),
    UiCommand("clock.faster", "plus", "clock: faster", "Run virtual time faster (up to 10x).",
              "app.change_speed(1)", "clock", key_display="+"),
    UiCommand("clock.slower", "minus", "clock: slower", "Run virtual time slower (down to 0.1x).",
              "app.change_speed(-1)", "clock", key_display="-"),
    UiCommand("select.previous_partition", "left_square_bracket", "select: previous partition",
              "Select the previous partition of the topic.", "app.move_selection(-1, 0)", "select", key_display="["),
    UiCommand("select.next_partition", "right_square_bracket", "select: next partition",
              "Select the next partition of the topic.", "app.move_selection(1, 0)", "select", key_display="]"),
    UiCommand("select.previous_topic", "left_curly_bracket", "select: previous topic",
              "Select the previous topic.", "app.move_selection(0, -1)", "select", key_display="{"),
    UiCommand("select.next_topic", "right_curly_bracket", "select: next topic", "Select the next topic.",
              "app.move_selection(0, 1)", "select", key_display="}"),
    UiCommand("select.next_replica", "b", "select: next replica", "Read the next replica of the partition "
              "(records and disk view).", "app.next_replica", "select"),
    UiCommand("lesson.browse", "l", "lesson: browse lessons", "List the guided lessons with your progress; enter "
              "starts one on a fresh cluster of its own (yours is kept).", "app.browse_lessons", "lesson", show=False),
    UiCommand("lesson.hint", "h", "lesson: next hint", "Reveal the current step's next hint.", "app.lesson('hint')",
              "lesson", show=False),
    UiCommand("lesson.solution", "s", "lesson: show the solution", "Show or hide the actions that reach the current "
              "step's goal.", "app.lesson('solution')", "lesson", show=False),
    UiCommand("lesson.play_solution", "w", "lesson: play the solution", "Run the current step's solution on the "
              "cluster and watch it happen.", "app.lesson('play_solution')", "lesson", show=False),
    UiCommand("lesson.next", "n", "lesson: next step", "Go to the lesson's next step.", "app.lesson('next')", "lesson",
              show=False),
    UiCommand("lesson.previous", "N", "lesson: previous step", "Go back to the lesson's previous step.",
              "app.lesson('previous')", "lesson", show=False),
    UiCommand("lesson.restart", "R", "lesson: restart on a fresh cluster", "Start the lesson over: a fresh cluster, "
              "its setup, the first step (your saved progress stays).", "app.lesson('restart')", "lesson", show=False),
    UiCommand("lesson.leave", "", "lesson: leave (back to your own cluster)", "End the lesson and reopen your own "
              "cluster as you left it.", "app.lesson('leave')", "lesson"),
    UiCommand("panel.toggle", "t", "panel: unfold / fold the side panel", "Unfold the lesson or scenario panel "
              "beside the view, or fold it (a lesson to a strip under the view); small terminals start folded.",
              "app.toggle_panel", "lesson", show=False),
    UiCommand("play.step", "o", "play: one step", "Run the scenario's next step, then pause (space plays on).",
              "app.play_step", "play"),
    UiCommand("session.record", "", "session: start recording", "Record every action from now on, to save as a "
              "scenario that `kafkalab run` replays.", "app.start_recording", "session"),
    UiCommand("session.save", "", "session: stop recording and save", "Stop recording and write the scenario file "
              "(asks for its path).", "app.save_recording", "session"),
    UiCommand("app.help", "question_mark,f1", "app: help", "Show every key and what it does.", "app.help", "app",
              key_display="? f1"),
    UiCommand("app.theme", "T", "app: toggle light/dark theme", "Switch between the dark and the light theme.",
              "app.toggle_theme", "app", show=False),
    UiCommand("app.quit", "q", "app: quit", "Close the cluster cleanly (flush, clean-shutdown marker) and quit.",
              "app.quit", "app"),
)


def bindings() -> list[BindingType]:
    """The app's key bindings, in footer order (palette-only commands have none)."""

    def of(*groups: str) -> list[Binding]:
        return [c.binding() for c in UI_COMMANDS if c.group in groups and c.key]

    return [*of("screens", "clock", "select"), *(spec.binding() for spec in ACTION_SPECS),
            *of("lesson", "play", "session"), *of("app")]


def needs_form(action_type: type[Action], values: Values) -> bool:
    """True when the action has required fields ``values`` does not fill."""
    return any(f.name not in values and f.default is MISSING and f.default_factory is MISSING
               for f in fields(action_type))
