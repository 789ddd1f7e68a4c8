"""Every table of the app: columns that remember their widths, order and sort across restarts,
and long cells that elide with the whole text as tooltip.

``remember_columns(view)`` is the one call each table makes. The state is the header's own
(``QHeaderView.saveState``), kept in the window's QSettings under the table's object name; the
main window hands its settings over with ``use_settings`` (without them, as in a dialog under
test, nothing is remembered and nothing is written)."""

from __future__ import annotations

from PySide6.QtCore import (
    QAbstractItemModel,
    QByteArray,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QSettings,
    QSize,
    Qt,
)
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QToolTip,
)

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
    whenever the operator resizes, moves or sorts one. Also installs the tooltip for elided
    cells."""
    view.setItemDelegate(ElidedTextDelegate(view))
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


def fit_header_text(header: QHeaderView) -> None:
    """Widen the resizable columns that are narrower than their header's text."""
    for logical in range(header.count()):
        if header.sectionResizeMode(logical) != QHeaderView.ResizeMode.Interactive:
            continue
        needed = header.sectionSizeHint(logical)
        if header.sectionSize(logical) < needed:
            header.resizeSection(logical, needed)


def is_elided(view: QAbstractItemView, index: QModelIndex) -> bool:
    """Whether the cell's text is wider than the room the view gives it (shown elided)."""
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


class ElidedTextDelegate(QStyledItemDelegate):
    """The standard delegate, plus: a cell whose text is elided shows the whole text as tooltip
    (when the model gives no tooltip of its own)."""

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


def tooltip_or_elided_text(
    view: QAbstractItemView, model: QAbstractItemModel, row: int, column: int
) -> str:
    """What hovering the cell shows: the model's tooltip, else the whole text if it is elided."""
    index = model.index(row, column)
    tip = index.data(Qt.ItemDataRole.ToolTipRole)
    if tip:
        return str(tip)
    text = index.data(Qt.ItemDataRole.DisplayRole)
    return str(text) if text and is_elided(view, index) else ""
