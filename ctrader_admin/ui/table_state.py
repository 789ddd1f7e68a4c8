"""Every table of the app: columns that remember their widths, order and sort across restarts,
and long cells that elide with the whole text as tooltip.

``remember_columns(view)`` is the one call each table makes. The state is the header's own
(``QHeaderView.saveState``), kept in the window's QSettings under the table's object name; the
main window hands its settings over with ``use_settings`` (without them, as in a dialog under
test, nothing is remembered and nothing is written).

Lookup's table is built with the first window: the delegate's Qt classes (tens of ms of PySide
type set-up) are imported when a table first gets rows, not with this module."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSettings

if TYPE_CHECKING:
    from PySide6.QtCore import QAbstractItemModel, QModelIndex
    from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

# View property: the columns are sized (restored from settings here); a view that sizes its
# columns once, on its first rows, checks it and leaves the operator's widths alone.
SIZED = "columnsSized"
_KEY = "tables/{name}/header"
_settings: list[QSettings] = []


def use_settings(settings: QSettings | None) -> None:
    """Where tables keep their columns (the main window's settings); None: nowhere."""
    _settings.clear()
    if settings is not None:
        _settings.append(settings)


def remember_columns(view: QTableView, name: str | None = None) -> None:
    """Restore the table's columns saved under ``name`` (default: its object name) as soon as
    it has columns — else widen any column narrower than its header's text — and save them
    whenever the operator resizes, moves or sorts one. The tooltip for elided cells comes with
    the table's first rows."""
    header = view.horizontalHeader()
    header.setSectionsMovable(True)
    settings = _settings[0] if _settings else None
    key = _KEY.format(name=name or view.objectName())
    value = settings.value(key) if settings is not None else None
    saved = QByteArray(value) if isinstance(value, QByteArray | bytes) else QByteArray()
    pending = [not saved.isEmpty()]

    def columns_came() -> None:
        if header.count() == 0:
            return
        if pending[0]:
            pending[0] = False
            if header.restoreState(saved):
                view.setProperty(SIZED, True)
                if view.isSortingEnabled():
                    view.sortByColumn(header.sortIndicatorSection(), header.sortIndicatorOrder())
                return
        fit_header_text(header)

    def save() -> None:
        if settings is not None and not pending[0] and header.count() > 0:
            settings.setValue(key, header.saveState())

    columns_came()
    header.sectionCountChanged.connect(lambda _old, _new: columns_came())
    header.sectionResized.connect(lambda *_: save())
    header.sectionMoved.connect(lambda *_: save())
    header.sortIndicatorChanged.connect(lambda *_: save())
    _tooltips_with_first_rows(view)


def _tooltips_with_first_rows(view: QTableView) -> None:
    installed = [False]
    watched: list[QAbstractItemModel] = []

    def install() -> None:
        current: QAbstractItemModel | None = view.horizontalHeader().model()
        if not installed[0] and current is not None and current.rowCount() > 0:
            installed[0] = True
            view.setItemDelegate(_delegate_class()(view))

    def watch() -> None:
        # setModel gives the header the model first (and its new column count announces it),
        # the view after: ask the header.
        current: QAbstractItemModel | None = view.horizontalHeader().model()
        if installed[0] or current is None or any(m is current for m in watched):
            return
        watched.append(current)
        current.modelReset.connect(install)
        current.rowsInserted.connect(install)
        current.layoutChanged.connect(install)
        install()

    watch()
    view.horizontalHeader().sectionCountChanged.connect(lambda *_: watch())


def fit_header_text(header: QHeaderView) -> None:
    """Widen the resizable columns that are narrower than their header's text."""
    from PySide6.QtWidgets import QHeaderView

    for logical in range(header.count()):
        if header.sectionResizeMode(logical) != QHeaderView.ResizeMode.Interactive:
            continue
        needed = header.sectionSizeHint(logical)
        if header.sectionSize(logical) < needed:
            header.resizeSection(logical, needed)


def is_elided(view: QAbstractItemView, index: QModelIndex) -> bool:
    """Whether the cell's text is wider than the room the view gives it (shown elided)."""
    from PySide6.QtCore import QSize
    from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

    delegate = view.itemDelegateForIndex(index)
    option = QStyleOptionViewItem()
    option.initFrom(view)
    option.font = view.font()
    size = view.iconSize()
    if not size.isValid():
        extent = view.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize, None, view)
        size = QSize(extent, extent)
    option.decorationSize = size
    option.rect = view.visualRect(index)
    if isinstance(delegate, QStyledItemDelegate):
        delegate.initStyleOption(option, index)
    style = view.style()
    text_rect = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, option, view)
    margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, view) + 1
    return option.fontMetrics.horizontalAdvance(option.text) > text_rect.width() - 2 * margin


@functools.cache
def _delegate_class() -> type:
    from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, Qt
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem, QToolTip

    class ElidedTextDelegate(QStyledItemDelegate):
        """The standard delegate, plus: a cell whose text is elided shows the whole text as
        tooltip (when the model gives no tooltip of its own)."""

        def helpEvent(
            self,
            event: QHelpEvent,
            view: QAbstractItemView,
            option: QStyleOptionViewItem,
            index: QModelIndex | QPersistentModelIndex,
        ) -> bool:
            if (
                event is not None
                and event.type() == QEvent.Type.ToolTip
                and isinstance(index, QModelIndex)
                and index.isValid()
                and not index.data(Qt.ItemDataRole.ToolTipRole)
            ):
                text = index.data(Qt.ItemDataRole.DisplayRole)
                if text and is_elided(view, index):
                    QToolTip.showText(event.globalPos(), str(text), view)
                    return True
            return super().helpEvent(event, view, option, index)

    return ElidedTextDelegate


def tooltip_or_elided_text(view: QAbstractItemView, row: int, column: int) -> str:
    """What hovering the cell shows: the model's tooltip, else the whole text if it is elided
    (and the table's delegate is the one that shows it)."""
    from PySide6.QtCore import Qt

    model = view.model()
    index = model.index(row, column)
    tip = index.data(Qt.ItemDataRole.ToolTipRole)
    if tip:
        return str(tip)
    if not isinstance(view.itemDelegate(), _delegate_class()):
        return ""
    text = index.data(Qt.ItemDataRole.DisplayRole)
    return str(text) if text and is_elided(view, index) else ""
