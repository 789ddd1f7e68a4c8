"""The list of profiles: name with its colour, and the marks (LIVE, read-only, built-in, in use,
not saved) that the operator checks before choosing one."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont

from ctrader_admin.services.profile_admin import ProfileRow
from ctrader_admin.ui import theme
from ctrader_admin.ui.profiles.widgets import swatch
from ctrader_admin.ui.rows_model import Column, RowsModel

_Index = QModelIndex | QPersistentModelIndex


class ProfilesModel(RowsModel[ProfileRow]):
    def __init__(self) -> None:
        super().__init__(
            [Column("Profile", lambda row: row.name), Column("Marks", ProfileRow.marks)]
        )

    def row_of(self, key: str) -> int:
        return next((i for i, row in enumerate(self.rows) if row.key == key), -1)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DecorationRole and column == 0:
            return swatch(row.colour)
        if role == Qt.ItemDataRole.ForegroundRole and column == 1 and row.live:
            return QColor(theme.LIVE_RED)
        if role == Qt.ItemDataRole.FontRole and (row.draft or (column == 1 and row.live)):
            font = QFont()
            font.setItalic(row.draft)
            font.setBold(column == 1 and row.live)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            if row.draft:
                return "A new profile that is not saved yet"
            return f"{row.name}\nProfile id: {row.key}"
        return super().data(index, role)
