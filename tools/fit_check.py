"""Does every label, button, check box, tab, header section and group box title show its whole
text? ``clipped(widget)`` walks a shown screen and names each one that does not.

The needed width is what the style itself asks for the text (``QFontMetrics.horizontalAdvance``
of each line, plus the style's margins for that kind of widget), compared with what the layout
gave it. Table cells are left out: they elide by design (with the whole text as tooltip,
``ctrader_admin.ui.table_state``). Word-wrapped labels are checked in height (all their lines
fit), input fields in height too (not squashed below their minimum)."""

from __future__ import annotations

from PySide6 import QtGui
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFontMetrics, QTextDocument
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QGroupBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QStyle,
    QStyleOptionButton,
    QTabBar,
    QWidget,
)

SLACK = 1  # px: rounding of fractional font advances


def _plain(text: str, widget: QLabel | None = None) -> str:
    if widget is not None and (
        widget.textFormat() == Qt.TextFormat.RichText
        or (widget.textFormat() == Qt.TextFormat.AutoText and QtGui.Qt.mightBeRichText(text))
    ):
        document = QTextDocument()
        document.setHtml(text)
        return document.toPlainText()
    return text


def _without_mnemonic(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def _advance(metrics: QFontMetrics, text: str) -> int:
    return max((metrics.horizontalAdvance(line) for line in text.split("\n")), default=0)


def _name(widget: QWidget) -> str:
    path: list[str] = []
    node: QWidget | None = widget
    while node is not None and len(path) < 3:
        path.append(node.objectName() or type(node).__name__)
        node = node.parentWidget()
    return "/".join(reversed(path))


def _label(label: QLabel) -> str | None:
    text = _plain(label.text(), label)
    if not text.strip() or (label.pixmap() is not None and not label.pixmap().isNull()):
        return None
    if label.buddy() is not None:
        text = _without_mnemonic(text)
    metrics = label.fontMetrics()
    room = label.contentsRect()
    margin = 2 * label.margin()
    if label.wordWrap():
        needed_height = label.heightForWidth(label.width())
        if needed_height > label.height() + SLACK:
            return f"wrapped text needs {needed_height}px of height, has {label.height()}px"
        return None
    indent = max(label.indent(), 0)
    needed = _advance(metrics, text) + margin + indent
    if needed > room.width() + SLACK:
        return f"needs {needed}px, has {room.width()}px"
    lines = text.count("\n") + 1
    needed_height = lines * metrics.height() + margin
    if needed_height > room.height() + SLACK:
        return f"needs {needed_height}px of height, has {room.height()}px"
    return None


def _button(button: QAbstractButton) -> str | None:
    text = _without_mnemonic(button.text())
    if not text.strip():
        return None
    metrics = button.fontMetrics()
    style = button.style()
    option = QStyleOptionButton()
    option.initFrom(button)
    icon = button.iconSize().width() + 4 if not button.icon().isNull() else 0
    contents = QSize(_advance(metrics, text) + icon, metrics.height())
    if isinstance(button, QPushButton):
        # Without text in the option: the style's 80 px minimum is not a need of the text.
        if button.autoDefault() or button.isDefault():
            option.features |= QStyleOptionButton.ButtonFeature.AutoDefaultButton
        kind = QStyle.ContentsType.CT_PushButton
    else:
        option.text = text
        kind = (
            QStyle.ContentsType.CT_RadioButton
            if isinstance(button, QRadioButton)
            else QStyle.ContentsType.CT_CheckBox
        )
    needed = style.sizeFromContents(kind, option, contents, button)
    if needed.width() > button.width() + SLACK:
        return f"needs {needed.width()}px, has {button.width()}px"
    if metrics.height() > button.height():
        return f"text is {metrics.height()}px high, the button {button.height()}px"
    return None


def _tabs(bar: QTabBar) -> list[str]:
    problems = []
    metrics = bar.fontMetrics()
    padding = bar.style().pixelMetric(QStyle.PixelMetric.PM_TabBarTabHSpace, None, bar)
    for index in range(bar.count()):
        if not bar.isTabVisible(index):
            continue
        text = _without_mnemonic(bar.tabText(index))
        needed = _advance(metrics, text) + padding
        has = bar.tabRect(index).width()
        if needed > has + SLACK:
            problems.append(f"tab '{text}' needs {needed}px, has {has}px")
        if not bar.rect().contains(bar.tabRect(index)):
            problems.append(f"tab '{text}' is outside the tab bar (scroll buttons)")
    return problems


def _header(header: QHeaderView) -> list[str]:
    model = header.model()
    if model is None or header.isHidden():
        return []
    problems = []
    metrics = header.fontMetrics()
    margin = header.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMargin, None, header)
    orientation = header.orientation()
    for logical in range(header.count()):
        if header.isSectionHidden(logical):
            continue
        text = model.headerData(logical, orientation, Qt.ItemDataRole.DisplayRole)
        if not text:
            if orientation == Qt.Orientation.Horizontal:
                problems.append(f"column {logical} has no name in its header")
            continue
        needed = _advance(metrics, str(text)) + 2 * margin
        if header.isSortIndicatorShown() and header.sortIndicatorSection() == logical:
            needed += metrics.height()
        has = header.sectionSize(logical)
        if orientation == Qt.Orientation.Horizontal and needed > has + SLACK:
            problems.append(f"header '{text}' needs {needed}px, has {has}px")
    return problems


def _group(box: QGroupBox) -> str | None:
    text = _without_mnemonic(box.title())
    if not text:
        return None
    metrics = box.fontMetrics()
    indicator = (
        box.style().pixelMetric(QStyle.PixelMetric.PM_IndicatorWidth, None, box) + 6
        if box.isCheckable()
        else 0
    )
    needed = _advance(metrics, text) + indicator + 2 * metrics.averageCharWidth()
    if needed > box.width() + SLACK:
        return f"title needs {needed}px, has {box.width()}px"
    return None


def _field(widget: QWidget) -> str | None:
    least = widget.minimumSizeHint().height()
    if widget.height() + SLACK < least:
        return f"squashed to {widget.height()}px high (needs {least}px)"
    return None


def clipped(top: QWidget) -> list[str]:
    """Every visible widget under ``top`` (``top`` included) whose text does not fit."""
    problems: list[str] = []
    for widget in [top, *top.findChildren(QWidget)]:
        if not widget.isVisible() or widget.width() <= 0:
            continue
        if isinstance(widget.parentWidget(), QAbstractSpinBox | QComboBox):
            continue  # the editor inside a spin box or combo box: the outer one is checked
        problem: str | None = None
        if isinstance(widget, QLabel):
            problem = _label(widget)
        elif isinstance(widget, QPushButton | QCheckBox | QRadioButton):
            problem = _button(widget)
        elif isinstance(widget, QGroupBox):
            problem = _group(widget)
        elif isinstance(widget, QLineEdit | QComboBox | QAbstractSpinBox):
            problem = _field(widget)
        elif isinstance(widget, QTabBar):
            problems += [f"{_name(widget)}: {p}" for p in _tabs(widget)]
        elif isinstance(widget, QHeaderView):
            problems += [f"{_name(widget)}: {p}" for p in _header(widget)]
        if problem is not None:
            text = widget.text() if isinstance(widget, QLabel | QAbstractButton) else ""
            if isinstance(widget, QGroupBox):
                text = widget.title()
            shown = (text[:40] + "…") if len(text) > 40 else text
            problems.append(f"{_name(widget)} '{shown}': {problem}")
    return problems
