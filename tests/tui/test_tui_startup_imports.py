"""What the TUI loads before its first paint: only what drawing the cluster needs (issue 18).

Every module imported before the first screen is drawn delays it (on Python 3.11 a dataclass
costs about a millisecond to create); what the first screens do not use is imported where it
is needed, and these tests keep it from creeping back.
"""

from __future__ import annotations

import subprocess
import sys


def _loaded_after_importing_the_tui() -> set[str]:
    code = (
        "import sys\n"
        "import kafkalab.tui.app, kafkalab.tui.bridge\n"
        "print(' '.join(sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(result.stdout.split())


def test_the_wire_codec_is_loaded_only_for_a_listener() -> None:
    loaded = _loaded_after_importing_the_tui()
    assert not {name for name in loaded if name == "kio" or name.startswith("kio.")}
    assert "kafkalab.wire.server" not in loaded


def test_kraft_views_metadata_records_and_protocols_are_not_loaded_with_the_app() -> None:
    loaded = _loaded_after_importing_the_tui()
    assert not {"kafkalab.cluster.quorum_views", "kafkalab.raft.views", "kafkalab.protocol.raft",
                "kafkalab.metadata.image", "kafkalab.metadata.records", "kafkalab.protocol.kraft"} & loaded


def test_no_installed_package_metadata_is_read_before_the_first_paint() -> None:
    # The crc32c package's __init__ reads its version through importlib.metadata (kafkalab/storage/crc.py).
    assert not {"importlib.metadata", "crc32c"} & _loaded_after_importing_the_tui()


def test_scenarios_lessons_and_the_yaml_reader_load_when_first_used() -> None:
    loaded = _loaded_after_importing_the_tui()
    assert not {"yaml", "kafkalab.scenarios.model", "kafkalab.scenarios.runner", "kafkalab.scenarios.recorder",
                "kafkalab.lessons.model", "kafkalab.lessons.catalog", "kafkalab.tui.forms", "kafkalab.tui.player",
                "kafkalab.tui.lesson_host"} & loaded


def test_only_the_dashboard_screen_is_imported_with_the_app() -> None:
    screens = {name.rsplit(".", 1)[-1] for name in _loaded_after_importing_the_tui()
               if name.startswith("kafkalab.tui.screens.")}
    assert "dashboard" in screens
    assert not screens & {"replication", "groups", "zookeeper", "quorum", "events", "records", "throughput",
                          "clients", "transactions", "configs"}


def test_every_mode_makes_its_screen() -> None:
    from kafkalab.tui.app import KafkaLabApp
    from kafkalab.tui.screens.base import LabScreen

    for mode, make in KafkaLabApp.MODES.items():
        screen = make()
        assert isinstance(screen, LabScreen), mode
        assert type(screen).__module__ == f"kafkalab.tui.screens.{mode}"


def test_the_action_vocabulary_and_the_clients_load_when_first_used() -> None:
    loaded = _loaded_after_importing_the_tui()
    assert not {"kafkalab.actions", "kafkalab.actions.results", "kafkalab.actions.execute", "kafkalab.tui.results",
                "kafkalab.clients.producer", "kafkalab.clients.consumer", "kafkalab.clients.assignors",
                "kafkalab.session.processors"} & loaded
