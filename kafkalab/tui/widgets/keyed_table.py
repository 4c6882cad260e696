"""A DataTable kept in step with a mapping of rows by diffing stable row keys.

New keys are added, changed cells updated one by one and vanished keys removed, never
``clear()`` and rebuild: the cursor and scroll position survive every update. A cell given as a
string is shown as it is: DataTable would read it as markup, and names such as a group id
``team[1]`` would lose their brackets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.widgets import DataTable

Cell = str | Text


def _literal(cell: Cell) -> Text:
    return Text(cell) if isinstance(cell, str) else cell


class KeyedTable(DataTable[Cell]):
    """A row-cursor table whose rows are identified by a string key."""

    #: Column keys, in order; also their labels.
    COLUMNS: Sequence[str] = ()

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._rows: dict[str, tuple[Cell, ...]] = {}

    def on_mount(self) -> None:
        for column in self.COLUMNS:
            self.add_column(column, key=column)

    def sync(self, rows: Mapping[str, tuple[Cell, ...]], sort_key: str | None = None) -> bool:
        """Make the table show ``rows``; returns True if rows were added (then sorted by ``sort_key``)."""
        for key in [k for k in self._rows if k not in rows]:
            self.remove_row(key)
            del self._rows[key]
        added = False
        for key, cells in rows.items():
            old = self._rows.get(key)
            if old is None:
                self.add_row(*map(_literal, cells), key=key)
                added = True
            else:
                for column, before, after in zip(self.COLUMNS, old, cells, strict=True):
                    if before != after:
                        self.update_cell(key, column, _literal(after), update_width=True)
            self._rows[key] = cells
        if added and sort_key is not None:
            self.sort(sort_key, key=str)
        return added

    def has_row(self, key: str) -> bool:
        return key in self._rows
