"""Fixtures for the TUI tests: apps on a fresh cluster with a fixed seed and virtual time paused."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tui_helpers import TEST_LESSONS

from kafkalab.lessons.catalog import Catalog
from kafkalab.lessons.model import load_lesson
from kafkalab.tui.app import THEMES, KafkaLabApp
from kafkalab.tui.lesson_control import LessonLibrary
from kafkalab.tui.screenshots import lesson_library, open_app


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run ``async def`` tests (pilot tests) in a fresh event loop; no async plugin needed."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    arguments = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    asyncio.run(pyfuncitem.obj(**arguments))
    return True


@pytest.fixture
def lessons(tmp_path: Path) -> LessonLibrary:
    """The test lessons, with progress and lesson clusters in a temporary folder."""
    catalog = Catalog(tuple(load_lesson(path) for path in sorted(TEST_LESSONS.glob("*.yaml"))), ())
    return lesson_library(tmp_path / "learner", catalog)


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[Callable[..., KafkaLabApp]]:
    """Build an app on a fresh cluster in a temporary data dir; time moves only when a test steps it.

    ``data_dir`` puts the cluster where a snapshot showing its path finds it the same each run.
    Every app's engine is closed afterwards, and no process of it may have failed unless the test
    built it with ``expect_failures=True`` (and asserted on them).
    """
    made: list[tuple[KafkaLabApp, bool]] = []

    def build(brokers: int = 3, theme: str = THEMES[0], expect_failures: bool = False, data_dir: Path | None = None,
              **options: object) -> KafkaLabApp:
        app = open_app(data_dir or tmp_path / f"data-{len(made)}", brokers, theme, **options)  # type: ignore[arg-type]
        made.append((app, expect_failures))
        return app

    yield build
    unread = []
    for app, expected in made:
        app.bridge.close()
        if not expected:
            unread += [event.describe() for event in app.bridge.process_failures]
    assert not unread, "failed with nobody reading it:\n" + "\n".join(unread)
