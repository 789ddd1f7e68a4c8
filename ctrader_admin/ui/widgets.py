"""Small widgets used on every screen."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QWidget,
)

from ctrader_admin.ui import theme

if TYPE_CHECKING:
    from PySide6.QtWidgets import QFormLayout


class CopyableId(QWidget):
    """A value with a one-click copy button next to it."""

    def __init__(self, value: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.label = QLabel(value)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.button = QToolButton()
        self.button.setText("Copy")  # words, not a glyph: not every font has one
        self.button.setAutoRaise(True)
        self.button.setToolTip("Copy")
        self.button.clicked.connect(self.copy)
        layout.addWidget(self.label)
        layout.addWidget(self.button)
        layout.addStretch(1)
        self.set_value(value)

    def set_value(self, value: str) -> None:
        self.label.setText(value or "—")
        self.button.setEnabled(bool(value))
        self.button.setToolTip(f"Copy {value}" if value else "Nothing to copy")

    def value(self) -> str:
        text = self.label.text()
        return "" if text == "—" else text

    def copy(self) -> None:
        if self.value():
            QGuiApplication.clipboard().setText(self.value())


class ElidedLabel(QLabel):
    """One line that gives up width first: where the room is short it shows what fits and "…",
    and the whole text is its tooltip. ``text()`` stays the whole text. It keeps at least
    ``keep`` characters' width (where its text is that long) before others give up theirs."""

    def __init__(self, text: str = "", parent: QWidget | None = None, *, keep: int = 1) -> None:
        super().__init__(text, parent)
        self._keep = keep
        self.setToolTip(text)

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setToolTip(text)

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        metrics = self.fontMetrics()
        kept = min(metrics.horizontalAdvance(self.text()), metrics.averageCharWidth() * self._keep)
        return QSize(max(kept, metrics.horizontalAdvance("M…")), hint.height())

    def paintEvent(self, event: QPaintEvent) -> None:
        rect = self.contentsRect()
        elide = Qt.TextElideMode.ElideRight
        shown = self.fontMetrics().elidedText(self.text(), elide, rect.width())
        painter = QPainter(self)
        if self.isEnabled():
            # What QStyle.drawItemText does for an enabled label, without the style object: the
            # band's labels are in the first frame, and PySide6 builds QStyle's enums (~4 ms) on
            # its first use from Python.
            painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
            painter.drawText(rect, int(self.alignment()), shown)
            return
        self.style().drawItemText(  # disabled text is drawn the style's way (etched or not)
            painter,
            rect,
            int(self.alignment()),
            self.palette(),
            False,
            shown,
            QPalette.ColorRole.WindowText,
        )


def plural(count: int, one: str, many: str = "") -> str:
    """``1 row``, ``2 rows``, ``10,000 entries`` (``many`` when adding an s is wrong)."""
    return f"{count:,} {one if count == 1 else many or one + 's'}"


def heading(text: str) -> QLabel:
    label = QLabel(text)
    label.setProperty("role", "heading")
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 1.25)
    font.setBold(True)
    label.setFont(font)
    return label


def hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    # The theme's muted text (readable grey in both variants), through the palette: no style
    # sheet, so it holds at the first paint and follows a switch between light and dark.
    label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    return label


def refill(combo: QComboBox, names: list[str]) -> None:
    """New choices, keeping the operator's pick when it is still offered."""
    chosen = combo.currentText()
    combo.clear()
    combo.addItems(names)
    if chosen in names:
        combo.setCurrentText(chosen)


def fill_width(label: QLabel) -> QLabel:
    """Let a word-wrapped label take its row's width (it otherwise keeps its narrow size hint).
    The label's own policy is widened, not replaced: a new QSizePolicy drops height-for-width,
    and the layout then gives a wrapped text one line and cuts the rest."""
    policy = label.sizePolicy()
    policy.setHorizontalPolicy(QSizePolicy.Policy.Expanding)
    label.setSizePolicy(policy)
    return label


def form() -> QFormLayout:
    from PySide6.QtWidgets import QFormLayout  # no form is on the first screen

    layout = QFormLayout()
    layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
    layout.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return layout


class InvalidOutline(QWidget):
    """A red frame drawn over a field that is wrong. It is a child laid over the field, not a
    style sheet on it: a style-sheet border changes the field's frame and size hint, and the form
    around it moved by a few pixels whenever an error appeared or went."""

    def __init__(self, field: QWidget) -> None:
        super().__init__(field)
        self.setObjectName("invalidOutline")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        field.installEventFilter(self)
        self.setGeometry(field.rect())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and isinstance(watched, QWidget):
            self.setGeometry(watched.rect())
        return False

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(QColor(theme.current().danger))
        pen.setWidth(2)
        painter.setPen(pen)
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(1, 1, -1, -1), 3, 3)


def is_marked_invalid(widget: QWidget) -> bool:
    outline = widget.findChild(InvalidOutline, "invalidOutline")
    return outline is not None and outline.isVisibleTo(widget)


def _outline(widget: QWidget, shown: bool) -> None:
    outline = widget.findChild(InvalidOutline, "invalidOutline")
    if outline is None:
        if not shown:
            return
        outline = InvalidOutline(widget)
    outline.setVisible(shown)
    outline.raise_()


def mark_invalid(fields: Mapping[str, QWidget], problems: Mapping[str, str]) -> QWidget | None:
    """Outline the form fields named in ``problems`` (``InvalidInput.problems``: label → what is
    wrong) and give them the problem as tooltip; unmark the others. Returns the first marked
    field, to put the focus there. ``mark_invalid(fields, {})`` clears every mark. Nothing
    moves: the outline is drawn over the field, whose size stays what it was."""
    first: QWidget | None = None
    for label, widget in fields.items():
        problem = problems.get(label)
        if widget.property("normalToolTip") is None:
            widget.setProperty("normalToolTip", widget.toolTip())
        if problem is None:
            _outline(widget, False)
            widget.setToolTip(str(widget.property("normalToolTip")))
            continue
        _outline(widget, True)
        widget.setToolTip(f"{label}: {problem}")
        first = first or widget
    return first
