"""The clock bar on top of every screen: virtual time, speed, paused or running, recording, where clients connect."""

from __future__ import annotations

from collections.abc import Hashable

from rich.text import Text
from textual.strip import Strip

from kafkalab.tui.frames import AttachedState, Frame
from kafkalab.tui.widgets.kept_lines import KeptLines
from kafkalab.tui.widgets.strips import ellipsis_strip

#: What the bar leaves out, in this order, until it fits: the key hints (but "? help"), the date, the virtual time
#: of day (the time since the cluster began stays), "broker" before the controller's id, where clients connect,
#: the view's title.
CUTS = ("keys", "date", "wall", "controller", "listener", "view")


class ClockBar(KeptLines):
    """One line: run state (running, paused, or the engine stopped) and speed, virtual date and time, time
    since the cluster began, controller."""

    DEFAULT_CSS = """
    ClockBar { height: 1; background: $panel; color: $text; }
    ClockBar > .clock-bar--paused { background: $warning; color: $text-warning; text-style: bold; }
    ClockBar > .clock-bar--running { background: $success; color: $text-success; text-style: bold; }
    ClockBar > .clock-bar--dim { color: $text-muted; }
    ClockBar > .clock-bar--recording { background: $error; color: $text-error; text-style: bold; }
    ClockBar > .clock-bar--stopped { background: $error; color: $text-error; text-style: bold; }
    """
    COMPONENT_CLASSES = {"clock-bar--paused", "clock-bar--running", "clock-bar--dim", "clock-bar--recording",
                         "clock-bar--stopped"}

    def __init__(self, view_title: str) -> None:
        super().__init__()
        self._view_title = view_title
        self._frame: Frame | None = None

    def show(self, frame: Frame) -> None:
        """Draw the clock of ``frame`` (only when it changed)."""
        previous = self.line_key(0)
        self._frame = frame
        if self.line_key(0) != previous:
            self.refresh(self.size.region)

    def line_key(self, y: int) -> Hashable:
        """What the bar shows of its frame."""
        frame = self._frame
        if frame is None:
            return None
        return (frame.clock, frame.recording, frame.view.controller_id, frame.view.mode, frame.view.cluster_id,
                frame.attached, self._listener_text(frame))

    @staticmethod
    def _listener_text(frame: Frame) -> str:
        """Where Kafka clients connect and how many are, or nothing without a listener."""
        listener = frame.listener
        if listener is None:
            return ""
        connected = len(listener.connections)
        text = f"bootstrap {listener.bootstrap}"
        if connected:
            text += f" ({connected} connection{'s' if connected != 1 else ''})"
        return text

    def render_line(self, y: int) -> Strip:
        # Straight to a strip (``strips.py``): Textual's path for a Text was most of what a frame's refresh cost;
        # the strip is kept while the clock stands still (``line_key``).
        return ellipsis_strip(self.render(), self.app.console, self.line_width, self.line_style())

    def render(self) -> Text:
        """The bar's line as text (drawn by ``render_line``)."""
        frame = self._frame
        if frame is None:
            text = Text(no_wrap=True, overflow="ellipsis")
            text.append(" starting the cluster ... ", self.component_style("clock-bar--paused"))
            return text
        # Narrower bars drop detail in this order; the run state, speed, controller and "? help" always stay.
        for cut in range(len(CUTS) + 1):
            text = self._line(frame, frozenset(CUTS[:cut]))
            if text.cell_len <= self.line_width:
                break
        return text

    def _line(self, frame: Frame, cuts: frozenset[str]) -> Text:
        """The bar without the details named in ``cuts``."""
        if frame.attached is not None:
            return self._attached_line(frame, frame.attached, cuts)
        dim = self.component_style("clock-bar--dim")
        text = Text(no_wrap=True, overflow="ellipsis")
        clock = frame.clock
        if clock.stopped:
            text.append(" ✖ ENGINE STOPPED ", self.component_style("clock-bar--stopped"))
        elif clock.paused:
            text.append(" ⏸ PAUSED ", self.component_style("clock-bar--paused"))
        else:
            text.append(" ▶ RUNNING ", self.component_style("clock-bar--running"))
        if frame.recording:
            text.append(" ● REC ", self.component_style("clock-bar--recording"))
        text.append(f" {clock.speed:g}x ", "bold")
        if "wall" not in cuts:
            date, time = clock.wall_text.split(" ")
            text.append(" │ ", dim)
            text.append(time if "date" in cuts else f"{date} {time} UTC")
        text.append(" │ ", dim)
        text.append(clock.elapsed_text)
        text.append(" │ ", dim)
        controller = frame.view.controller_id
        if controller < 0:
            text.append("controller: none")
        else:
            node = "" if frame.view.mode == "kraft" else "broker "  # KRaft: a controller node of its own
            text.append(f"controller {controller}" if "controller" in cuts else f"controller: {node}{controller}")
        if "view" not in cuts:
            text.append(" │ ", dim)
            text.append(self._view_title, "bold")
        listener = self._listener_text(frame)
        # Requests wait while time stands still; clients give up after request.timeout.ms (30 s).
        waiting = clock.paused and frame.listener is not None and bool(frame.listener.connections)
        if listener and (waiting or "listener" not in cuts):
            text.append(" │ ", dim)
        if waiting:
            text.append(" clients may time out ", self.component_style("clock-bar--paused"))
        if listener and "listener" not in cuts:
            text.append(listener)
        text.append("   ? help" if "keys" in cuts else "   ␣ pause  . step  + - speed  l lessons  ? help", dim)
        return text

    def _attached_line(self, frame: Frame, attached: AttachedState, cuts: frozenset[str]) -> Text:
        """A real cluster's bar: attached, read-only or writable, its cluster id, how old the data is, controller."""
        dim = self.component_style("clock-bar--dim")
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" ◉ ATTACHED ", self.component_style("clock-bar--running"))
        text.append(" read-only " if attached.read_only else " writes allowed ",
                    "bold" if attached.read_only else self.component_style("clock-bar--recording"))
        text.append(" │ ", dim)
        text.append(f"cluster {frame.view.cluster_id or '?'}")
        text.append(" │ ", dim)
        age = f"data {attached.age_ms / 1000:.1f} s old"
        if attached.failing:
            text.append(f" no answer: {age} ", self.component_style("clock-bar--paused"))
        else:
            text.append(age)
            if attached.problems:
                text.append(f" ({len(attached.problems)} unanswered)", dim)
        text.append(" │ ", dim)
        controller = frame.view.controller_id
        text.append("controller: none" if controller < 0 else
                    f"controller {controller}" if "controller" in cuts else f"controller: broker {controller}")
        if "view" not in cuts:
            text.append(" │ ", dim)
            text.append(self._view_title, "bold")
        if "listener" not in cuts:
            text.append(" │ ", dim)
            text.append(f"bootstrap {attached.bootstrap}")
        text.append("   ? help", dim)
        return text
