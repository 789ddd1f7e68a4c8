"""A read-only table of Python objects, one column per (header, how to show it): the model that
small tables need, written once."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

R = TypeVar("R")
_Index = QModelIndex | QPersistentModelIndex


class Column(Generic[R]):
    def __init__(
        self, header: str, text: Callable[[R], object], tooltip: str | None = None
    ) -> None:
        self.header = header
        self.text = text
        self.tooltip = tooltip


class RowsModel(QAbstractTableModel, Generic[R]):
    def __init__(self, columns: Sequence[Column[R]]) -> None:
        super().__init__()
        self.columns = list(columns)
        self.rows: list[R] = []

    def set_rows(self, rows: Sequence[R]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def row(self, index: _Index) -> R | None:
        return self.rows[index.row()] if index.isValid() else None

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        column = self.columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.header
        if role == Qt.ItemDataRole.ToolTipRole:
            return column.tooltip
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.ToolTipRole,
        ):
            return None
        value = self.columns[index.column()].text(self.rows[index.row()])
        return "" if value is None else str(value)


class PagedRowsModel(RowsModel[R]):
    """Rows read a page at a time: the first page is given, the view asks for the next ones
    as it scrolls (Qt's fetchMore), so a list of any length opens at the speed of one page."""

    def __init__(self, columns: Sequence[Column[R]]) -> None:
        super().__init__(columns)
        self._more: Callable[[], tuple[Sequence[R], bool]] | None = None

    def set_first_page(
        self, rows: Sequence[R], more: Callable[[], tuple[Sequence[R], bool]] | None
    ) -> None:
        """``more`` returns the next page and whether one follows it; None: this is all."""
        self._more = more
        self.set_rows(rows)

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self._more is not None

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or self._more is None:
            return
        rows, again = self._more()
        if not again:
            self._more = None
        if rows:
            start = len(self.rows)
            self.beginInsertRows(QModelIndex(), start, start + len(rows) - 1)
            self.rows.extend(rows)
            self.endInsertRows()
