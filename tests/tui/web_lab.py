"""`kafkalab web` in a real browser: a server on a free port, and tabs of Debian's headless Chromium driven by playwright.

A tab's screen is read as text from xterm.js's buffer, the terminal textual-serve draws into, not from pixels:
the page's script keeps its ``Terminal`` in a closure, so an init script catches it as the page assigns it.

``python tests/tui/web_lab.py [OUT]`` writes the README's browser screenshot (default screenshots/web.png): a
fresh lab served on a free port, a topic created and records produced with the keys a user would press.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
#: Headless, and nothing that reaches for the network or a profile of the user's (playwright adds a fresh one).
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
ROOT = Path(__file__).resolve().parents[2]
#: The page's size: the lab's full layout (broker cards, lanes, events) fits in it.
VIEWPORT = {"width": 1400, "height": 900}
#: How long a tab may take to show something (a busy two-core machine starts a Python process per tab).
WAIT_MS = 60_000

#: Catch the xterm.js Terminal as textual.js assigns ``this.terminal``, and read its active buffer as lines.
CAPTURE_TERMINAL = """
Object.defineProperty(Object.prototype, 'terminal', {
  configurable: true,
  set(value) {
    Object.defineProperty(this, 'terminal', {value, writable: true, configurable: true, enumerable: true});
    window.__kafkalabTerminal = value;
  },
});
window.__kafkalabScreen = () => {
  const terminal = window.__kafkalabTerminal;
  if (!terminal) return '';
  const buffer = terminal.buffer.active, lines = [];
  for (let row = 0; row < buffer.length; row++) lines.push(buffer.getLine(row).translateToString(true));
  return lines.join('\\n');
};
"""


def free_port() -> int:
    """A port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def web_server(*options: str, port: int | None = None, tmp_dir: Path | None = None) -> Iterator[tuple[str, list[str]]]:
    """Run ``kafkalab web`` with ``options`` until the block ends; yields its URL and the lines it printed.

    ``tmp_dir`` becomes the tabs' TMPDIR, so a test can see their temporary clusters come and go.
    """
    port = port or free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS="200")
    if tmp_dir is not None:
        env["TMPDIR"] = str(tmp_dir)
    server = subprocess.Popen([sys.executable, "-m", "kafkalab", "web", "--port", str(port), *options], cwd=ROOT,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert server.stdout is not None
    printed: list[str] = []
    try:
        for line in server.stdout:  # its first line says it serves, once it listens
            printed.append(line)
            if line.startswith("kafkalab web: serving on"):
                break
        else:
            raise AssertionError(f"kafkalab web did not start: {''.join(printed)}")
        yield f"http://127.0.0.1:{port}/", printed
    finally:
        server.terminate()
        try:
            rest, _ = server.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            rest, _ = server.communicate()
        printed.append(rest)


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, under playwright (which downloads no browser of its own here)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def open_tab(browser: Browser, url: str) -> Page:
    """A new tab on ``url`` whose terminal text ``screen`` can read."""
    page = browser.new_page(viewport=VIEWPORT)  # type: ignore[arg-type]
    page.add_init_script(CAPTURE_TERMINAL)
    page.goto(url)
    return page


def screen(page: Page) -> str:
    """The tab's terminal as text, one line a row."""
    return str(page.evaluate("window.__kafkalabScreen()"))


def wait_for_screen(page: Page, done: Callable[[str], bool], what: str) -> str:
    """Wait until the tab's terminal text is ``done``; that text. Read again and again, as the browser may be
    half-way through drawing a frame (a closing form's rows still on screen beside the new ones)."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while True:
        text = screen(page)
        if done(text):
            return text
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {WAIT_MS} ms for {what}; the tab shows:\n{text}")
        page.wait_for_timeout(100)


def wait_for_text(page: Page, *needles: str, gone: str | None = None) -> str:
    """Wait until the tab's terminal shows every one of ``needles`` (and no longer ``gone``); its text then."""
    return wait_for_screen(page, lambda text: all(needle in text for needle in needles) and not (gone and gone in text),
                           f"{needles}{f' without {gone!r}' if gone else ''}")


def wait_for_match(page: Page, pattern: str) -> re.Match[str]:
    """Wait until the tab's terminal text has a match of the regular expression ``pattern``; the match."""
    text = wait_for_screen(page, lambda text: re.search(pattern, text) is not None, f"/{pattern}/")
    found = re.search(pattern, text)
    assert found is not None
    return found


def press(page: Page, *keys: str) -> None:
    """Type ``keys`` into the tab's terminal (playwright's key names: "c", "Control+s")."""
    page.locator(".xterm-helper-textarea").focus()
    for key in keys:
        page.keyboard.press(key)


def create_topic_and_produce(page: Page) -> str:
    """Create the form's suggested topic (orders) and produce one record with the form's suggested key and value
    (customer-1, hello), as a user would with c, ctrl+s and p, ctrl+s; the dashboard's text once the record is in."""
    wait_for_text(page, "No topic yet: press c to create one.")
    press(page, "c")
    wait_for_text(page, "topic: create")
    press(page, "Control+s")
    wait_for_text(page, "create_topic: ok", "orders-0")
    press(page, "p")
    wait_for_text(page, "record: produce")
    press(page, "Control+s")
    return wait_for_text(page, "produce: ok", gone="record: produce")


def main(out: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="kafkalab-shot-") as work, web_server("--data-dir", f"{work}/data") as (
            url, _), chromium() as browser:
        page = open_tab(browser, url)
        create_topic_and_produce(page)
        out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out))
        page.close()
    print(f"wrote {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "screenshots" / "web.png")
