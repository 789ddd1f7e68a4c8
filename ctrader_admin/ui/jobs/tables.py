"""The two tables of the Jobs tab (a plan's rows, the jobs) made alike: whole rows selected,
fixed row heights (the view never asks ten thousand rows for their size), and initial column
widths from typical values, set once so the operator's own widths stay."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from ctrader_admin.ui import table_state


def job_table(name: str, columns: Sequence[str], samples: Sequence[str]) -> QTableView:
    table = QTableView()
    table.setObjectName(name)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    table.setTextElideMode(Qt.TextElideMode.ElideRight)
    table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    metrics = table.fontMetrics()
    rows = table.verticalHeader()
    rows.hide()
    # Fixed row heights: the view never asks ten thousand rows for their size.
    rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    rows.setDefaultSectionSize(metrics.height() + 8)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setHighlightSections(False)
    bold = header.fontMetrics()
    widths = [
        max(metrics.horizontalAdvance(sample), bold.horizontalAdvance(column) + 8) + 16
        for column, sample in zip(columns, samples, strict=True)
    ]
    table.setProperty("columnWidths", widths)
    table_state.remember_columns(table)
    return table


def size_columns(table: QTableView) -> None:
    """The initial column widths, once (later the operator's own widths stay)."""
    widths = table.property("columnWidths")
    if isinstance(widths, list) and not table.property("columnsSized"):
        table.setProperty("columnsSized", True)
        header = table.horizontalHeader()
        for column, width in enumerate(widths):
            # Never narrower than the header's own text (the style adds margins to it).
            header.resizeSection(column, max(int(width), header.sectionSizeHint(column)))
