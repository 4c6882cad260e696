"""`kafkalab web`: the TUI served to browsers, every tab a kafkalab of its own.

The browser tests open the page in Debian's headless Chromium and read what the lab draws from xterm.js's
text buffer (``web_lab.py``); the others check the command line's answers without a browser.
"""

from __future__ import annotations

import re
import shlex
import socket
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import Static
from web_lab import (
    CHROMIUM,
    chromium,
    create_topic_and_produce,
    open_tab,
    press,
    wait_for_match,
    wait_for_screen,
    wait_for_text,
    web_server,
)

from kafkalab.cli import build_parser, main, tab_options
from kafkalab.storage.log_manager import CLEAN_SHUTDOWN_FILE
from kafkalab.tui.bridge import EngineBridge
from kafkalab.tui.screenshots import SEED, SIZE, lesson_library
from kafkalab.tui.web import tab_command
from kafkalab.tui.web_tab import InUseScreen, TabOptions, WebTabApp

needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no browser: Debian's chromium is not installed at "
                                                                  f"{CHROMIUM} (.ci/run installs it where apt-get can)")


def wait_until(done: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Poll another process's doing (a tab's process closing its cluster) until ``done``."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.1)


def squeezed(text: str) -> str:
    """``text`` without white space and box drawing, so a sentence wrapped over a dialog's rows reads as one."""
    return re.sub(r"[\s█▀▄│║╭╮╰╯─]", "", text)


def tab_dirs(tmp: Path) -> list[Path]:
    """The tabs' temporary folders (``kafkalab/tui/web_tab.py``) under their TMPDIR."""
    return sorted(tmp.glob("kafkalab-web-*"))


@needs_chromium
def test_a_tab_runs_the_lab_and_a_second_tab_on_its_data_dir_is_offered_a_fresh_cluster(tmp_path: Path) -> None:
    data_dir, tmp = tmp_path / "data", tmp_path / "tmp"
    tmp.mkdir()
    with web_server("--data-dir", str(data_dir), tmp_dir=tmp) as (url, _printed), chromium() as browser:
        first = open_tab(browser, url)
        create_topic_and_produce(first)
        # The topics table: orders, 3 partitions, replication factor 3, nothing under-replicated or offline, 1 record.
        wait_for_match(first, r"│ orders +3 +3 +0 +0 +1│")
        went = wait_for_match(first, r"went to orders-(\d) @ 0")
        press(first, "6")
        wait_for_text(first, "records & disk", f"orders-{went[1]} on broker")
        # The record as the produce form suggested it, read back from the partition's log.
        wait_for_match(first, r"│ +0 +2025-01-01 [0-9:.]+ +0 +customer-1 +hello ")

        second = open_tab(browser, url)
        # The terminal app's own message, wrapped in the dialog: compared without the spaces and borders around it.
        in_use = squeezed(f"kafkalab: DATA_DIR_LOCKED: {data_dir} is in use by kafkalab process")
        wait_for_screen(second, lambda text: in_use in squeezed(text) and "Use a fresh temporary cluster" in text,
                        "the in-use dialog")
        assert len(tab_dirs(tmp)) == 2  # each tab keeps a temporary folder; the first's is unused
        press(second, "Enter")  # the offer has focus
        wait_for_text(second, "No topic yet: press c to create one.", gone="data dir in use")

        first.close(run_before_unload=False)
        second.close(run_before_unload=False)
        # Closing a tab quits its lab: the temporary cluster is removed, the data dir's closed cleanly.
        wait_until(lambda: not tab_dirs(tmp), "the tabs' temporary clusters to be removed")
        wait_until(lambda: _unlocked(data_dir), "the first tab to release the data dir")
    assert all((data_dir / f"broker-{n}" / CLEAN_SHUTDOWN_FILE).exists() for n in (1, 2, 3))
    assert (data_dir / "broker-1" / "orders-0").is_dir()


def _unlocked(data_dir: Path) -> bool:
    import fcntl
    import os

    fd = os.open(data_dir / ".lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


@needs_chromium
def test_with_a_lesson_every_tab_starts_it_on_a_cluster_of_its_own(tmp_path: Path) -> None:
    with web_server("--lesson", "messages-and-topics", tmp_dir=tmp_path) as (url, _printed), chromium() as browser:
        tabs = [open_tab(browser, url) for _ in range(2)]
        for tab in tabs:
            wait_for_text(tab, "Messages and topics", "Step 1 of 5: Create a topic")
        assert len(tab_dirs(tmp_path)) == 2
        assert all((folder / "lesson-clusters" / "messages-and-topics").is_dir() for folder in tab_dirs(tmp_path))
        tabs[0].close(run_before_unload=False)
        wait_until(lambda: len(tab_dirs(tmp_path)) == 1, "the closed tab's lesson cluster to be removed")
    # Stopping the server (SIGTERM) closes the tab still open as closing it would.
    assert not tab_dirs(tmp_path)


def test_the_page_connects_back_to_the_address_the_browser_used(tmp_path: Path) -> None:
    with web_server("--host", "0.0.0.0", tmp_dir=tmp_path) as (url, printed):
        # As a learner's browser asks for the trainer's machine by a name the server itself was not given.
        request = urllib.request.Request(url, headers={"Host": "trainer.example:8000"})
        with urllib.request.urlopen(request, timeout=30) as response:
            page = response.read().decode()
    assert 'data-session-websocket-url="ws://trainer.example:8000/ws"' in page
    assert printed[0].startswith("kafkalab: warning: serving on 0.0.0.0: anyone who can reach port")


class TestInUseDialog:
    """The dialog a tab opens with when its data dir was in use (pilot tests, no browser)."""

    @staticmethod
    def open(tmp_path: Path) -> WebTabApp:
        bridge = EngineBridge.open(tmp_path / "fresh", seed=SEED, paused=True)
        return WebTabApp(bridge, "DATA_DIR_LOCKED: /srv/lab is in use by kafkalab process 42; close it or choose "
                                 "another --data-dir.", lessons=lesson_library(tmp_path / "learner"))

    async def test_it_says_why_and_offers_the_fresh_cluster_it_opened(self, tmp_path: Path) -> None:
        app = self.open(tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await app.settle()
            assert isinstance(app.screen, InUseScreen)
            reason = app.screen.query_one("#in-use-reason", Static)
            assert str(reason.content) == ("kafkalab: DATA_DIR_LOCKED: /srv/lab is in use by kafkalab process 42; "
                                           "close it or choose another --data-dir.")
            await pilot.press("enter")  # the offer has focus
            await pilot.pause()
            assert not isinstance(app.screen, InUseScreen) and app.is_running
            assert app.bridge.opened_dir == tmp_path / "fresh"
        app.bridge.close()

    async def test_closing_instead_quits_the_lab(self, tmp_path: Path) -> None:
        app = self.open(tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await app.settle()
            await pilot.press("tab", "enter")  # "Close this tab"
            for _ in range(3000):  # the cluster closes on a thread: up to 30 s on a busy machine
                if not app.is_running:
                    break
                await pilot.pause(0.01)
            assert not app.is_running
        assert all((tmp_path / "fresh" / f"broker-{n}" / CLEAN_SHUTDOWN_FILE).exists() for n in (1, 2, 3))


class TestCommandLine:
    def test_a_port_in_use_is_one_line(self, capsys: pytest.CaptureFixture[str]) -> None:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            assert main(["web", "--port", str(port)]) == 2
        err = capsys.readouterr().err
        assert err == f"kafkalab: port {port} on 127.0.0.1 is already in use; choose another with --port\n"

    def test_another_host_than_loopback_is_warned_about(self, capsys: pytest.CaptureFixture[str]) -> None:
        with socket.socket() as taken:
            taken.bind(("0.0.0.0", 0))
            taken.listen()
            port = taken.getsockname()[1]
            assert main(["web", "--host", "0.0.0.0", "--port", str(port)]) == 2
        warning, in_use = capsys.readouterr().err.splitlines()
        assert warning == (f"kafkalab: warning: serving on 0.0.0.0: anyone who can reach port {port} gets a kafkalab "
                           f"of their own, running as you on this machine")
        assert in_use.startswith(f"kafkalab: port {port} on 0.0.0.0 is already in use")

    @pytest.mark.parametrize(("argv", "said"), [
        (["--fresh", "web"], "kafkalab: web takes no --fresh"),
        (["web", "--port", "0"], "kafkalab: --port must be between 1 and 65535, not 0"),
        (["web", "--brokers", "12"], "kafkalab: --brokers must be between 1 and 9, not 12"),
        (["web", "--controllers", "3"], "kafkalab: --controllers takes 1 to 5 controllers, with --mode kraft"),
        (["web", "--mode", "kraft", "--controllers", "7"], "kafkalab: --controllers takes 1 to 5 controllers"),
        (["web", "--lesson", "partitons"], "kafkalab: no lesson 'partitons' (did you mean 'partitions'?)"),
    ])
    def test_options_that_make_no_server_are_refused(self, argv: list[str], said: str,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
        assert main(argv) == 2
        assert capsys.readouterr().err.startswith(said)

    @pytest.mark.parametrize("options", [
        TabOptions(None, None, None, None, True),
        TabOptions(Path("/srv/lab data"), 5, Path("/srv/my lessons"), "mine:spread", False, "partitions"),
        TabOptions(None, 3, None, None, True, None, "kraft", 5),
    ])
    def test_each_tab_is_started_with_the_servers_options(self, options: TabOptions) -> None:
        words = shlex.split(tab_command(options))
        assert words[:4] == ["exec", words[1], "-m", "kafkalab"]
        args = build_parser().parse_args(words[4:])
        assert args.command == "web" and args.web_tab
        assert tab_options(args) == options

    def test_the_tuis_options_may_come_before_or_after_web(self) -> None:
        before = build_parser().parse_args(["--data-dir", "/d", "--brokers", "2", "web"])
        after = build_parser().parse_args(["web", "--data-dir", "/d", "--brokers", "2"])
        assert tab_options(before) == tab_options(after) == TabOptions(Path("/d"), 2, None, None, True)
