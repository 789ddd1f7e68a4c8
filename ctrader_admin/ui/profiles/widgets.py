"""Small pieces of the Profiles dialog: explanatory text, re-styling after a property change,
colour swatches and badges, and the short questions it asks."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ctrader_admin.ui import theme
from ctrader_admin.ui.dialogs import ask


def start_folder(path_text: str) -> str:
    """Where a file dialog opens: the folder of the path already typed, if any."""
    return str(Path(path_text).expanduser().parent) if path_text else ""


def note(text: str) -> QLabel:
    """Explanatory text in the normal text colour (``hint()`` is too faint for these)."""
    label = QLabel(text)
    label.setWordWrap(True)
    return label


def repolish(widget: QWidget) -> None:
    """Re-apply the style sheet after a property its selectors read has changed."""
    widget.style().unpolish(widget)
    widget.style().polish(widget)
    widget.update()


def set_read_only(edit: QLineEdit, read_only: bool) -> None:
    if edit.isReadOnly() != read_only:
        edit.setReadOnly(read_only)
        repolish(edit)


def swatch(colour: str, size: int = 14) -> QIcon:
    """A rounded colour square; on a selected row it gets a white rim so it stays visible."""

    def square(rim: QColor) -> QPixmap:
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(rim, 1.5))
        painter.setBrush(QColor(colour))
        painter.drawRoundedRect(QRectF(1, 1, size - 2, size - 2), 3, 3)
        painter.end()
        return pixmap

    icon = QIcon(square(QColor(theme.SWATCH_RIM)))
    icon.addPixmap(square(QColor(theme.ON_BAND)), QIcon.Mode.Selected)
    return icon


def badge(text: str, style: str) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet(
        f"{style}font-weight:bold;padding:{theme.SPACE_XS}px {theme.SPACE_M}px;"
        f"border-radius:{theme.RADIUS}px;"
    )
    return label


class ChoiceDialog(QDialog):
    """A short question with a few answers; ``choice`` is the key of the button pressed
    (None after Cancel or Esc)."""

    def __init__(
        self,
        parent: QWidget | None,
        *,
        name: str,
        title: str,
        text: str,
        choices: Sequence[tuple[str, str, QDialogButtonBox.ButtonRole]],
        default: str | None,
        danger: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setWindowTitle(title)
        self.choice: str | None = None
        layout = QVBoxLayout(self)
        self.text = QLabel(text)
        self.text.setWordWrap(True)
        self.text.setMinimumWidth(360)
        layout.addWidget(self.text)
        self.buttons = QDialogButtonBox()
        self.choice_buttons: dict[str, QPushButton] = {}
        for key, label, role in choices:
            button = self.buttons.addButton(label, role)
            button.setAutoDefault(False)
            button.clicked.connect(lambda _=False, k=key: self.choose(k))
            self.choice_buttons[key] = button
            if key == danger:
                theme.mark_destructive(button)
        cancel = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.setAutoDefault(False)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        # The default answer takes Enter; with none, Enter (like Esc) cancels.
        chosen = self.choice_buttons[default] if default is not None else cancel
        chosen.setDefault(True)
        chosen.setFocus()

    def choose(self, key: str) -> None:
        self.choice = key
        self.accept()


async def choose(dialog: ChoiceDialog) -> str | None:
    try:
        return dialog.choice if await ask(dialog) else None
    finally:
        dialog.deleteLater()


class ProfileBand(QFrame):
    """A preview of the band the main window shows for the profile: its colour (red when live),
    its name, the LIVE and READ-ONLY badges, and whether the edits are saved."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("profilePreview")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 6)
        self.name = QLabel()
        font = self.name.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.name.setFont(font)
        self.name.setObjectName("bandName")
        self.live_marker = badge("LIVE", f"background:{theme.ON_BAND};color:{theme.LIVE_RED};")
        self.live_marker.setObjectName("liveMarker")
        self.live_marker.setToolTip("Writes on this profile change real client data")
        self.read_only_marker = badge(
            "READ-ONLY", f"background:{theme.READ_ONLY_GREY};color:{theme.ON_BAND};"
        )
        self.read_only_marker.setObjectName("readOnlyMarker")
        self.unsaved_marker = QLabel()
        self.unsaved_marker.setObjectName("unsavedMarker")
        layout.addWidget(self.name)
        layout.addWidget(self.live_marker)
        layout.addWidget(self.read_only_marker)
        layout.addStretch(1)
        layout.addWidget(self.unsaved_marker)

    def show_profile(
        self, *, name: str, colour: str, live: bool, read_only: bool, unsaved: str
    ) -> None:
        self.setStyleSheet(
            f"#profilePreview {{ background:{theme.LIVE_RED if live else colour};"
            f" border-radius:{theme.RADIUS}px; }}"
            f" #profilePreview QLabel {{ color: {theme.ON_BAND}; }}"
        )
        self.name.setText(name)
        self.live_marker.setVisible(live)
        self.read_only_marker.setVisible(read_only)
        self.unsaved_marker.setText(unsaved)
