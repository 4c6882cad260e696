"""Keys are remappable: every binding has an id, the config file's keymap changes keys, help, footer and palette
show the user's keys, and a mistake in the file is a notification naming file:line:column."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from textual.widgets import Static
from tui_helpers import record_notes

from kafkalab.tui.app import KafkaLabApp
from kafkalab.tui.commands import bindings
from kafkalab.tui.forms import ActionForm
from kafkalab.tui.help import HelpScreen
from kafkalab.tui.keymap import BINDING_MODULES, kafkalab_bindings, load_keymap, user_config_file
from kafkalab.tui.screenshots import SIZE, populate
from kafkalab.tui.widgets.lab_footer import LabFooter

MakeApp = Callable[..., KafkaLabApp]
APP_KEYS = {binding.id: binding.key for binding in bindings() if binding.id}  # type: ignore[union-attr]


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


class TestBindingIds:
    def test_every_binding_of_the_app_its_screens_and_widgets_has_an_id(self) -> None:
        found = kafkalab_bindings()
        assert len(found) > len(bindings())  # the app's own and every screen's and widget's
        assert [binding for binding in found if not binding.id] == []

    def test_every_module_that_declares_bindings_is_one_the_keymap_check_imports(self) -> None:
        tui = Path(__file__).resolve().parents[2] / "kafkalab" / "tui"
        declaring = {".".join(("kafkalab", "tui", *path.relative_to(tui).with_suffix("").parts))
                     for path in tui.rglob("*.py") if re.search(r"^\s+BINDINGS\b.*=", path.read_text(), re.M)}
        assert declaring == set(BINDING_MODULES)

    def test_a_key_for_a_screen_not_opened_yet_is_known_with_only_the_app_imported(self, tmp_path: Path) -> None:
        # Screens and forms load when first shown (issue 18); their ids are as valid as the dashboard's.
        path = config(tmp_path, "keymap:\n  events.filter: F\n  form.run_from_choice: ctrl+r\n")
        code = ("import kafkalab.tui.app\nfrom pathlib import Path\nfrom kafkalab.tui.keymap import load_keymap\n"
                f"print(load_keymap(Path({str(path)!r}), {{}}))\n")
        shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        assert "problems=()" in shown and "events.filter" in shown and "form.run_from_choice" in shown

    def test_the_config_file_lives_in_the_users_config_directory(self) -> None:
        assert user_config_file().parent.name == "kafkalab" and user_config_file().name == "config.yaml"


class TestLoading:
    def test_no_file_means_the_default_keys(self, tmp_path: Path) -> None:
        loaded = load_keymap(tmp_path / "config.yaml", APP_KEYS)
        assert loaded.as_keymap() == {} and loaded.problems == ()

    def test_keys_are_spelled_as_textual_spells_them(self, tmp_path: Path) -> None:
        path = config(tmp_path, "keymap:\n  broker.kill_broker: K\n  screen.events: f5, 5\n  app.help: '!'\n")
        loaded = load_keymap(path, APP_KEYS)
        assert loaded.problems == ()
        assert loaded.as_keymap() == {"broker.kill_broker": "K", "screen.events": "f5,5",
                                      "app.help": "exclamation_mark"}

    def test_each_mistake_names_where_it_is_and_the_rest_applies(self, tmp_path: Path) -> None:
        path = config(tmp_path, "keymap:\n  broker.kill_brokr: K\n  clock.pause: ctrl-x\n"
                                "  broker.restart_broker: R2\n  screen.groups: F\nkeys: {}\n")
        loaded = load_keymap(path, APP_KEYS)
        assert loaded.as_keymap() == {"screen.groups": "F"}
        assert loaded.problems == (
            f"{path}:6:1: unknown setting 'keys' (did you mean 'keymap'?); the config file knows: keymap",
            f"{path}:2:3: no binding has the id 'broker.kill_brokr' (did you mean 'broker.kill_broker'?); "
            f"the help screen (?) lists every id",
            f"{path}:3:16: clock.pause: 'ctrl-x' is not a key (try K, ctrl+k, f2, space, or several separated by "
            f"commas)",
            f"{path}:4:26: broker.restart_broker: 'R2' is not a key (try K, ctrl+k, f2, space, or several separated "
            f"by commas)",
        )

    def test_a_key_taken_from_another_command_is_said(self, tmp_path: Path) -> None:
        path = config(tmp_path, "keymap:\n  broker.kill_broker: p\n")
        loaded = load_keymap(path, APP_KEYS)
        assert loaded.as_keymap() == {"broker.kill_broker": "p"}
        assert loaded.problems == (f"{path}:2:23: p now runs broker.kill_broker instead of record.produce, which is "
                                   f"left without that key (give it another in config.yaml)",)

    def test_broken_yaml_is_one_problem_and_no_keys(self, tmp_path: Path) -> None:
        path = config(tmp_path, "keymap: [\n")
        loaded = load_keymap(path, APP_KEYS)
        assert loaded.as_keymap() == {}
        assert len(loaded.problems) == 1 and loaded.problems[0].startswith(f"{path}:2:1: invalid YAML")


class TestTheUsersKeys:
    async def test_a_remapped_key_runs_the_command_and_the_old_one_does_not(self, make_app: MakeApp,
                                                                           tmp_path: Path) -> None:
        app = make_app(config_file=config(tmp_path, "keymap:\n  broker.kill_broker: K\n"))
        async with app.run_test(size=SIZE) as pilot:
            await populate(app)
            await pilot.press("k")
            assert not isinstance(app.screen, ActionForm)
            await pilot.press("K")
            assert isinstance(app.screen, ActionForm) and app.screen.spec.step == "kill_broker"

    async def test_footer_help_and_palette_show_the_users_key(self, make_app: MakeApp, tmp_path: Path) -> None:
        app = make_app(config_file=config(tmp_path, "keymap:\n  broker.kill_broker: K\n  app.help: f2\n"))
        async with app.run_test(size=SIZE) as pilot:
            await populate(app)
            await pilot.pause()
            footer = {key.action: key.key_display for key in app.screen.query_one(LabFooter).keys}
            assert footer["app.start_action('kill_broker')"] == "K"
            assert footer["app.help"] == "f2"
            assert app.current_keys()["broker.kill_broker"] == "K"
            await pilot.press("f2")
            assert isinstance(app.screen, HelpScreen)
            console = Console(width=200, record=True, file=io.StringIO())
            for part in app.screen.query(Static):
                console.print(part.content)
            text = console.export_text()
            rows = {row[3]: row[:3] for row in (line.split() for line in text.splitlines()) if len(row) > 3}
            assert rows["broker.kill_broker"] == ["K", "broker:", "kill"]
            assert rows["app.help"] == ["f2", "app:", "help"]
            assert str(app.config_file) in text.replace("\n", "")
            await pilot.press("escape")
            await pilot.press("ctrl+p")
            await pilot.press(*"broker: kill")
            await pilot.pause(0.3)
            shown = [str(option.prompt).split("\n")[0] for option in app.screen.query_one("CommandList").options]
            assert "broker: kill ...   K" in shown

    async def test_a_command_that_lost_its_key_to_another_shows_none(self, make_app: MakeApp, tmp_path: Path) -> None:
        app = make_app(config_file=config(tmp_path, "keymap:\n  broker.kill_broker: p\n"))
        async with app.run_test(size=SIZE):
            keys = app.current_keys()
            assert keys["broker.kill_broker"] == "p" and "record.produce" not in keys

    async def test_a_mistake_in_the_file_is_a_notification_and_the_app_runs(self, make_app: MakeApp,
                                                                           tmp_path: Path) -> None:
        path = config(tmp_path, "keymap:\n  broker.kil: K\n")
        app = make_app(config_file=path)
        notes = record_notes(app)
        async with app.run_test(size=SIZE) as pilot:
            await populate(app)
            await pilot.press("k")
            assert isinstance(app.screen, ActionForm)  # the default key still works
        assert ("your keymap", f"{path}:2:3: no binding has the id 'broker.kil' (did you mean 'broker.kill_broker'?); "
                               f"the help screen (?) lists every id") in notes
