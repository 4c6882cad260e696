"""``kafkalab web``: the TUI served to browsers by textual-serve, one kafkalab process per tab.

textual-serve runs a shell command for every browser tab that connects and relays the terminal between the
process (Textual's web driver) and xterm.js in the page; closing the tab asks the app to quit, so the tab's
cluster closes as a terminal's does on ``q``. The command here is ``kafkalab web --tab`` with the options the
server was given (``kafkalab/tui/web_tab.py`` runs it).
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import shlex
import signal
import socket
import sys
from typing import Any

from aiohttp import web
from textual_serve.server import Server

from kafkalab.tui.web_tab import TabOptions


def tab_arguments(options: TabOptions) -> list[str]:
    """The ``kafkalab`` arguments that open one tab with ``options`` (the command line parses them back)."""
    arguments = ["web", "--tab"]
    if options.lesson_id is not None:
        arguments += ["--lesson", options.lesson_id]
    if options.data_dir is not None:
        arguments += ["--data-dir", str(options.data_dir)]
    if options.brokers is not None:
        arguments += ["--brokers", str(options.brokers)]
    if options.lessons_dir is not None:
        arguments += ["--lessons-dir", str(options.lessons_dir)]
    if options.custom_partitioner is not None:
        arguments += ["--partitioner", options.custom_partitioner]
    if options.mode is not None:
        arguments += ["--mode", options.mode]
    if options.controllers is not None:
        arguments += ["--controllers", str(options.controllers)]
    if not options.listen:
        arguments.append("--no-listen")
    return arguments


def tab_command(options: TabOptions) -> str:
    """The shell command textual-serve runs per tab: this interpreter's kafkalab, ``exec``-ed so that the tab's
    process is kafkalab itself and a signal to it reaches the app rather than a shell."""
    return shlex.join(["exec", sys.executable, "-m", "kafkalab", *tab_arguments(options)])


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach ``host``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def address_problem(host: str, port: int) -> str | None:
    """Why the server could not listen on ``host``:``port`` (None if it can), found by binding there once, so a
    port in use is one line before anything starts rather than aiohttp's traceback after."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return f"--host {host}: {exc.strerror}"
    for family, kind, protocol, _name, address in addresses:
        with socket.socket(family, kind, protocol) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp binds
            try:
                probe.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    return f"port {port} on {host} is already in use; choose another with --port"
                return f"cannot listen on {host} port {port}: {exc.strerror}"
    return None


class LabServer(Server):
    """textual-serve's server, saying where the lab is once it listens and closing every tab when it stops."""

    def __init__(self, options: TabOptions, host: str, port: int) -> None:
        super().__init__(tab_command(options), host=host, port=port, title="kafkalab")
        #: The tabs' websocket handlers, each relaying one kafkalab process.
        self.tabs: set[asyncio.Task[Any]] = set()

    async def on_startup(self, app: web.Application) -> None:
        pass  # textual-serve's banner here would come before the socket listens; ``serve`` says so after

    async def handle_index(self, request: web.Request) -> Any:
        # The page's websocket goes back to the address the browser used: the one the server was started with
        # means nothing elsewhere (0.0.0.0, or a name only the trainer's machine knows).
        self.public_url = f"{request.scheme}://{request.host}"
        return await super().handle_index(request)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        task = asyncio.current_task()
        assert task is not None
        self.tabs.add(task)
        try:
            return await super().handle_websocket(request)
        finally:
            self.tabs.discard(task)

    async def on_shutdown(self, app: web.Application) -> None:
        # Stopping the server closes every tab as closing it in the browser would: textual-serve's handler,
        # cancelled, asks its app to quit and waits for the process (otherwise aiohttp waits on the browsers).
        for task in self.tabs:
            task.cancel()
        await asyncio.gather(*self.tabs, return_exceptions=True)

    def serve(self, debug: bool = False) -> None:
        # textual-serve's own ``serve``, with aiohttp's announcement (which it silences), printed once the
        # socket listens, as the one line saying where the lab is.
        self.initialize_logging()
        loop = asyncio.new_event_loop()
        loop.add_signal_handler(signal.SIGINT, self.request_exit)
        loop.add_signal_handler(signal.SIGTERM, self.request_exit)
        web.run_app(self._make_app(), host=self.host, port=self.port, handle_signals=False, loop=loop,
                    print=lambda _aiohttp_says: print(
                        f"kafkalab web: serving on http://{self.host}:{self.port}/ (every browser tab gets a lab of "
                        f"its own); press Ctrl+C to stop", flush=True))


def serve(options: TabOptions, host: str, port: int) -> int:
    """Serve the lab on ``host``:``port`` until interrupted; 2 if it cannot listen there."""
    if not is_loopback(host):
        print(f"kafkalab: warning: serving on {host}: anyone who can reach port {port} gets a kafkalab of their own, "
              f"running as you on this machine", file=sys.stderr)
    problem = address_problem(host, port)
    if problem is not None:
        print(f"kafkalab: {problem}", file=sys.stderr)
        return 2
    try:
        LabServer(options, host, port).serve()
    except OSError as exc:  # taken between the probe and the bind
        print(f"kafkalab: cannot listen on {host} port {port}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    return 0
