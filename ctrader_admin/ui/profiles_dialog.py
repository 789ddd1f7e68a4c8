"""Connection profiles: the list on the left, an editor for every field of the selected profile on
the right. Every change is validated by the store's Profile model; nothing is saved while a field
is wrong, and the message names the field.

No saved field holds a secret: the manager logs in from the main window and the token lives in
the system keyring (or in memory), never in settings.json; the proxy's password goes straight to
the keyring on Save, and the manager password typed for Test connection is used once.
Questions (unsaved edits, delete) are small dialogs awaited through ``ask()``, never ``exec()``."""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr, ValidationError
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QRectF,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QIcon, QKeySequence, QPainter, QPen, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QColorDialog,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ctrader_admin.ids import NotAnId, parse_id
from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.store.profiles import (
    SANDBOX_PROFILE_ID,
    Profile,
    ProfileStore,
    suggest_id,
    unique_name,
    validation_messages,
)
from ctrader_admin.ui import table_state, theme
from ctrader_admin.ui.dialogs import ask
from ctrader_admin.ui.notify import Level, MessageBar
from ctrader_admin.ui.slots import async_slot
from ctrader_admin.ui.widgets import form, hint

LIVE_RED = theme.LIVE_RED
READ_ONLY_GREY = theme.READ_ONLY_GREY
PRESET_COLOURS = theme.PROFILE_COLOURS
STYLE = f"""
QLineEdit[readOnly="true"] {{ background: palette(window); }}
QLineEdit[invalid="true"] {{ border: 2px solid {LIVE_RED}; border-radius: 3px; padding: 1px; }}
QLabel[invalid="true"] {{ color: {LIVE_RED}; font-weight: bold; }}
"""
DRAFT_KEY = ""  # the unsaved new profile in the list (a real profile id is never empty)

# Profile field → the words on its label, in the order the form shows them.
FIELD_LABELS: dict[str, str] = {
    "name": "Name",
    "id": "Profile id",
    "color": "Colour",
    "base_url": "Server URL",
    "ca_bundle": "CA bundle",
    "timeout_seconds": "Timeout",
    "proxy_url": "Proxy",
    "proxy_username": "Proxy user",
    "broker_names": "White Labels",
    "broker_crm_name": "brokerCrmName",
    "environments": "Environments",
    "manager_login": "Manager login",
    "write_budget_per_hour": "Write budget",
    "attribution_period_days": "Attribution period",
}

_LIST_SEPARATORS = re.compile(r"[,;\r\n]+")
_LINE_BREAKS = re.compile(r"[\s,;]*[\r\n][\s,;]*")
_HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def split_names(text: str) -> list[str]:
    """'a, b' or one per line → ['a', 'b']; empty pieces (a trailing comma) are dropped."""
    return [part.strip() for part in _LIST_SEPARATORS.split(text) if part.strip()]


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


@dataclass(frozen=True)
class ProfileRow:
    key: str  # the profile id, or DRAFT_KEY
    name: str
    colour: str
    live: bool = False
    read_only: bool = False
    builtin: bool = False
    in_use: bool = False
    draft: bool = False

    def flags(self) -> str:
        words = []
        if self.live:
            words.append("LIVE")
        if self.read_only:
            words.append("read-only")
        if self.builtin:
            words.append("built-in")
        if self.in_use:
            words.append("in use")
        if self.draft:
            words.append("not saved")
        return " · ".join(words)


_Index = QModelIndex | QPersistentModelIndex


class ProfilesModel(QAbstractTableModel):
    COLUMNS = ("Profile", "Marks")

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[ProfileRow] = []

    def set_rows(self, rows: list[ProfileRow]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def row_of(self, key: str) -> int:
        return next((i for i, row in enumerate(self.rows) if row.key == key), -1)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return len(self.COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return row.name if column == 0 else row.flags()
        if role == Qt.ItemDataRole.DecorationRole and column == 0:
            return swatch(row.colour)
        if role == Qt.ItemDataRole.ForegroundRole and column == 1 and row.live:
            return QColor(LIVE_RED)
        if role == Qt.ItemDataRole.FontRole and (row.draft or (column == 1 and row.live)):
            font = QFont()
            font.setItalic(row.draft)
            font.setBold(column == 1 and row.live)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            if row.draft:
                return "A new profile that is not saved yet"
            return f"{row.name}\nProfile id: {row.key}"
        return None


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


class ProfilesDialog(QDialog):
    def __init__(self, parent: QWidget | None, backoffice: Backoffice) -> None:
        super().__init__(parent)
        self.setObjectName("profilesDialog")
        self.setWindowTitle("Connection profiles")
        self.labels: dict[str, QLabel] = {}
        self.backoffice = backoffice
        self.store: ProfileStore = backoffice.profiles
        self._current_key: str | None = None
        self._draft: dict[str, Any] | None = None
        # Forgetting a stale keyring token after an edit (save), awaited by nobody but kept alive.
        self._forgetting: asyncio.Future[bool] | None = None
        self._proxy_saving: asyncio.Future[None] | None = None
        self._loaded_state: tuple[object, ...] = ()
        self._filling = False
        self._selecting = False
        self._id_follows_name = False
        self._closing = False
        self._build()
        self._reload_rows()
        session = backoffice.session
        first = session.profile.id if session is not None else SANDBOX_PROFILE_ID
        if self.model.row_of(first) < 0:
            first = self.model.rows[0].key
        self._select(first)
        self.resize(1040, 720)

    # --- layout ------------------------------------------------------------------------------

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.addWidget(
            note(
                "A profile is one cTrader server and the White Labels you manage on it. "
                "Passwords and tokens are never kept here: you log in from the main window and "
                "the token stays in the system keyring."
            )
        )
        columns = QHBoxLayout()
        outer.addLayout(columns, 1)

        left = QVBoxLayout()
        self.model = ProfilesModel()
        self.table = QTableView()
        self.table.setObjectName("profilesList")
        self.table.setModel(self.model)
        table_state.remember_columns(self.table)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)  # Tab leaves the list for the buttons and form
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().hide()
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)  # a long name is elided; its tooltip shows it whole
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        left.addWidget(self.table, 1)
        list_buttons = QHBoxLayout()
        self.add_button = QPushButton("&Add")
        self.add_button.setToolTip("Start a new profile (saved when you press Save)")
        self.duplicate_button = QPushButton("Du&plicate")
        self.duplicate_button.setToolTip("Save a copy of the selected profile under a new id")
        self.delete_button = QPushButton("&Delete")
        for button in (self.add_button, self.duplicate_button, self.delete_button):
            button.setAutoDefault(False)
            list_buttons.addWidget(button)
        left.addLayout(list_buttons)
        list_panel = QWidget()
        list_panel.setLayout(left)
        left.setContentsMargins(0, 0, 0, 0)
        list_panel.setFixedWidth(260)
        columns.addWidget(list_panel)

        right = QVBoxLayout()
        columns.addLayout(right, 1)
        self.band = QFrame()
        self.band.setObjectName("profilePreview")
        band_layout = QHBoxLayout(self.band)
        band_layout.setContentsMargins(12, 6, 12, 6)
        self.band_name = QLabel()
        font = self.band_name.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.band_name.setFont(font)
        self.band_name.setObjectName("bandName")
        self.live_marker = badge("LIVE", f"background:{theme.ON_BAND};color:{LIVE_RED};")
        self.live_marker.setObjectName("liveMarker")
        self.live_marker.setToolTip("Writes on this profile change real client data")
        self.read_only_marker = badge(
            "READ-ONLY", f"background:{READ_ONLY_GREY};color:{theme.ON_BAND};"
        )
        self.read_only_marker.setObjectName("readOnlyMarker")
        self.unsaved_marker = QLabel()
        self.unsaved_marker.setObjectName("unsavedMarker")
        band_layout.addWidget(self.band_name)
        band_layout.addWidget(self.live_marker)
        band_layout.addWidget(self.read_only_marker)
        band_layout.addStretch(1)
        band_layout.addWidget(self.unsaved_marker)
        right.addWidget(self.band)
        self.sandbox_hint = hint("")
        self.sandbox_hint.setObjectName("sandboxHint")
        theme.set_panel(self.sandbox_hint, theme.Tone.INFO)
        right.addWidget(self.sandbox_hint)

        editor = QWidget()
        grid = QHBoxLayout(editor)
        grid.setContentsMargins(0, 0, 0, 0)
        first_column = QVBoxLayout()
        second_column = QVBoxLayout()
        grid.addLayout(first_column, 3)
        grid.addLayout(second_column, 2)
        first_column.addWidget(self._profile_group())
        first_column.addWidget(self._connection_group())
        first_column.addWidget(self._broker_group())
        first_column.addStretch(1)
        second_column.addWidget(self._safety_group())
        second_column.addWidget(self._sign_in_group())
        second_column.addStretch(1)
        self.editor_scroll = scroll = QScrollArea()
        scroll.setWidget(editor)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        # Taller than the screen scrolls; narrower never does: the dialog keeps the form's width.
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(
            editor.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width()
        )
        right.addWidget(scroll, 1)

        self.bar = MessageBar()
        outer.addWidget(self.bar)
        bottom = QHBoxLayout()
        bottom.addWidget(note("Saved changes reach the main window when you close this one."), 1)
        self.save_button = QPushButton("&Save")
        self.save_button.setObjectName("saveProfile")
        self.save_button.setDefault(True)
        self.save_button.setToolTip("Save this profile (Enter)")
        self.close_button = QPushButton("Close")
        self.close_button.setAutoDefault(False)
        self.close_button.setToolTip("Close this window (Esc)")
        bottom.addWidget(self.save_button)
        bottom.addWidget(self.close_button)
        outer.addLayout(bottom)

        self.fields: dict[str, QWidget] = {
            "name": self.name_edit,
            "id": self.id_edit,
            "color": self.colour_edit,
            "base_url": self.url_edit,
            "ca_bundle": self.ca_edit,
            "timeout_seconds": self.timeout_spin,
            "proxy_url": self.proxy_edit,
            "proxy_username": self.proxy_user_edit,
            "broker_names": self.wl_edit,
            "broker_crm_name": self.crm_edit,
            "environments": self.env_edit,
            "manager_login": self.login_edit,
            "write_budget_per_hour": self.budget_spin,
            "attribution_period_days": self.period_spin,
        }
        # Per widget, not on the dialog: a dialog-wide sheet would restyle the spin boxes too.
        for widget in (*self.fields.values(), *self.labels.values()):
            if isinstance(widget, QLineEdit | QLabel):
                widget.setStyleSheet(STYLE)
        self._chain_tab_order()
        self._connect()

    def _row(
        self,
        layout: QFormLayout,
        field: str,
        text: str,
        content: QWidget | QHBoxLayout,
        buddy: QWidget | None = None,
    ) -> None:
        """A labelled form row whose label names ``field`` in messages and turns red with it."""
        label = QLabel(text)
        target = buddy if buddy is not None else content
        assert isinstance(target, QWidget), "a row of several widgets names its buddy"
        label.setBuddy(target)
        self.labels[field] = label
        layout.addRow(label, content)

    def _profile_group(self) -> QGroupBox:
        box = QGroupBox("Profile")
        layout = form()
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("profileName")
        self.id_edit = QLineEdit()
        self.id_edit.setObjectName("profileId")
        self.colour_edit = QLineEdit()
        self.colour_edit.setObjectName("profileColour")
        self.colour_edit.setPlaceholderText("#RRGGBB")
        self.colour_edit.setMaxLength(7)
        self.colour_edit.setFixedWidth(
            self.colour_edit.fontMetrics().horizontalAdvance("#MMMMMMMM")
        )
        self.colour_button = QPushButton("C&hoose…")
        self.colour_button.setAutoDefault(False)
        self.colour_button.setToolTip("Pick any colour")
        colour_row = QHBoxLayout()
        colour_row.setSpacing(4)
        colour_row.addWidget(self.colour_edit)
        self.preset_buttons: list[QToolButton] = []
        for colour in PRESET_COLOURS:
            preset = QToolButton()
            preset.setIcon(swatch(colour, 16))
            preset.setAutoRaise(True)
            preset.setToolTip(colour)
            preset.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the hex field and Choose… cover keys
            preset.clicked.connect(lambda _=False, c=colour: self.colour_edit.setText(c))
            self.preset_buttons.append(preset)
            colour_row.addWidget(preset)
        colour_row.addWidget(self.colour_button)
        colour_row.addStretch(1)
        self._row(layout, "name", "&Name:", self.name_edit)
        self._row(layout, "id", "&Id:", self.id_edit)
        self._row(layout, "color", "C&olour:", colour_row, self.colour_edit)
        box.setLayout(layout)
        return box

    def _connection_group(self) -> QGroupBox:
        box = QGroupBox("Connection")
        layout = form()
        self.kind_label = QLabel()
        self.kind_label.setObjectName("profileKind")
        self.url_edit = QLineEdit()
        self.url_edit.setObjectName("profileUrl")
        self.url_edit.setPlaceholderText("https://live-mybroker.webapi.ctrader.com:8443")
        self.ca_edit = QLineEdit()
        self.ca_edit.setObjectName("profileCaBundle")
        self.ca_edit.setPlaceholderText("Optional")
        self.ca_edit.setToolTip(
            "A PEM file of the certificate authorities to trust for this server; when empty, "
            "the system's trusted certificates are used"
        )
        self.ca_button = QPushButton("Bro&wse…")
        self.ca_button.setAutoDefault(False)
        ca_row = QHBoxLayout()
        ca_row.addWidget(self.ca_edit, 1)
        ca_row.addWidget(self.ca_button)
        self.timeout_spin = QDoubleSpinBox()
        self.timeout_spin.setObjectName("profileTimeout")
        self.timeout_spin.setRange(0, 3600)
        self.timeout_spin.setDecimals(1)
        self.timeout_spin.setSuffix(" s")
        self.timeout_spin.setToolTip("How long to wait for the server: more than 0, at most 600 s")
        self.proxy_edit = QLineEdit()
        self.proxy_edit.setObjectName("profileProxy")
        self.proxy_edit.setPlaceholderText("Optional, e.g. http://proxy.mybroker.local:3128")
        self.proxy_edit.setToolTip(
            "An HTTP proxy on the way to the whitelisted egress. Requests go through it with "
            "CONNECT, so it sees only the server's host and port. When empty, no proxy is used "
            "(proxy settings of the system are ignored)."
        )
        self.proxy_user_edit = QLineEdit()
        self.proxy_user_edit.setObjectName("profileProxyUser")
        self.proxy_user_edit.setPlaceholderText("Optional")
        self.proxy_password_edit = QLineEdit()
        self.proxy_password_edit.setObjectName("profileProxyPassword")
        self.proxy_password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.proxy_password_edit.setToolTip("Saved in the system keyring on Save, never in a file")
        proxy_auth = QHBoxLayout()
        proxy_auth.addWidget(self.proxy_user_edit, 1)
        proxy_auth.addWidget(QLabel("Password:"))
        proxy_auth.addWidget(self.proxy_password_edit, 1)
        self.test_password_edit = QLineEdit()
        self.test_password_edit.setObjectName("testManagerPassword")
        self.test_password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.test_password_edit.setPlaceholderText("Manager password (optional)")
        self.test_password_edit.setToolTip(
            "With the password, the test also logs in; it is used for this test only"
        )
        self.test_button = QPushButton("Test connection")
        self.test_button.setObjectName("testConnection")
        self.test_button.setAutoDefault(False)
        self.test_button.setToolTip(
            "Check the name, the connection, TLS, the proxy, the IP whitelist and (with the "
            "password) the manager log-in; saves your edits first"
        )
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_password_edit, 1)
        test_row.addWidget(self.test_button)
        self.test_result = QLabel()
        self.test_result.setObjectName("testResult")
        self.test_result.setWordWrap(True)
        self.test_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addRow("Kind:", self.kind_label)
        self._row(layout, "base_url", "Server &URL:", self.url_edit)
        self._row(layout, "ca_bundle", "CA &bundle:", ca_row, self.ca_edit)
        self._row(layout, "timeout_seconds", "&Timeout:", self.timeout_spin)
        self._row(layout, "proxy_url", "Pro&xy:", self.proxy_edit)
        self._row(layout, "proxy_username", "Proxy user:", proxy_auth, self.proxy_user_edit)
        layout.addRow("Check:", test_row)
        layout.addRow(self.test_result)  # the whole width: a sentence, not a field
        box.setLayout(layout)
        return box

    def _broker_group(self) -> QGroupBox:
        box = QGroupBox("Broker")
        layout = form()
        self.wl_edit = QLineEdit()
        self.wl_edit.setObjectName("profileWhiteLabels")
        self.wl_edit.setPlaceholderText("e.g. mybroker, mybroker_eu")
        self.wl_edit.setToolTip(
            "The brokerName of every White Label this manager handles, separated by commas; "
            "a pasted column (one per line) is accepted too"
        )
        self.crm_edit = QLineEdit()
        self.crm_edit.setObjectName("profileCrmName")
        self.crm_edit.setPlaceholderText("Given by Spotware with the White Labels")
        self.env_edit = QLineEdit()
        self.env_edit.setObjectName("profileEnvironments")
        self.env_edit.setPlaceholderText("demo, live")
        self.login_edit = QLineEdit()
        self.login_edit.setObjectName("profileManagerLogin")
        self.login_edit.setPlaceholderText("Optional: asked at log-in")
        self.login_edit.setToolTip("Only the login number: the password is asked when you log in")
        self._row(layout, "broker_names", "White &Labels:", self.wl_edit)
        self._row(layout, "broker_crm_name", "broker&CrmName:", self.crm_edit)
        self._row(layout, "environments", "&Environments:", self.env_edit)
        self._row(layout, "manager_login", "&Manager login:", self.login_edit)
        box.setLayout(layout)
        return box

    def _safety_group(self) -> QGroupBox:
        box = QGroupBox("Safety")
        layout = form()
        self.live_check = QCheckBox("Li&ve: real client data")
        self.live_check.setObjectName("profileLive")
        self.live_check.setToolTip(
            "The main window turns red and says LIVE; bulk writes ask to type the environment"
        )
        self.read_only_check = QCheckBox("Read-onl&y: look up only, no writes")
        self.read_only_check.setObjectName("profileReadOnly")
        self.budget_spin = QSpinBox()
        self.budget_spin.setObjectName("profileBudget")
        self.budget_spin.setRange(0, 1_000_000)
        self.budget_spin.setSuffix(" writes/hour")
        self.budget_spin.setToolTip(
            "Shared by every job on this profile: keep room for the broker's own CRM"
        )
        self.reason_check = QCheckBox("Require a &reason for every write")
        self.reason_check.setObjectName("profileRequireReason")
        self.ticket_check = QCheckBox("Require a tic&ket for every write")
        self.ticket_check.setObjectName("profileRequireTicket")
        layout.addRow(self.live_check)
        layout.addRow(self.read_only_check)
        self._row(layout, "write_budget_per_hour", "Write bud&get:", self.budget_spin)
        layout.addRow(self.reason_check)
        layout.addRow(self.ticket_check)
        box.setLayout(layout)
        return box

    def _sign_in_group(self) -> QGroupBox:
        box = QGroupBox("Log-in and lookup")
        layout = form()
        self.remember_check = QCheckBox("Remember the token (system keyring)")
        self.remember_check.setObjectName("profileRememberToken")
        self.remember_check.setToolTip(
            "Off: log in again at every start. Without a secure keyring the token is kept in "
            "memory only, whatever this says."
        )
        self.invite_check = QCheckBox("Find users by email (Invite user list)")
        self.invite_check.setObjectName("profileInviteEnabled")
        self.invite_check.setToolTip("Lookup reads GET /v1/users; turn off if not enabled for you")
        self.period_spin = QSpinBox()
        self.period_spin.setObjectName("profileAttributionPeriod")
        self.period_spin.setRange(0, 3650)
        self.period_spin.setSuffix(" days")
        self.period_spin.setToolTip(
            "cTrader Invite's guaranteed attribution period for this broker: the conflict "
            "report says whether a disputed client is still inside it"
        )
        layout.addRow(self.remember_check)
        layout.addRow(self.invite_check)
        self._row(layout, "attribution_period_days", "Attribution period:", self.period_spin)
        box.setLayout(layout)
        return box

    def _chain_tab_order(self) -> None:
        chain: list[QWidget] = [
            self.table,
            self.add_button,
            self.duplicate_button,
            self.delete_button,
            self.name_edit,
            self.id_edit,
            self.colour_edit,
            self.colour_button,
            self.url_edit,
            self.ca_edit,
            self.ca_button,
            self.timeout_spin,
            self.proxy_edit,
            self.proxy_user_edit,
            self.proxy_password_edit,
            self.test_password_edit,
            self.test_button,
            self.wl_edit,
            self.crm_edit,
            self.env_edit,
            self.login_edit,
            self.live_check,
            self.read_only_check,
            self.budget_spin,
            self.reason_check,
            self.ticket_check,
            self.remember_check,
            self.invite_check,
            self.period_spin,
            self.save_button,
            self.close_button,
        ]
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)

    def _connect(self) -> None:
        self.add_button.clicked.connect(self._add)
        self.duplicate_button.clicked.connect(self._duplicate)
        self.delete_button.clicked.connect(self._delete)
        self.save_button.clicked.connect(self.save)
        self.close_button.clicked.connect(self.reject)
        self.colour_button.clicked.connect(self._choose_colour)
        self.ca_button.clicked.connect(self._browse_ca)
        self.test_button.clicked.connect(self._test_connection)
        save = QShortcut(QKeySequence.StandardKey.Save, self)
        save.activated.connect(self.save)
        delete = QShortcut(QKeySequence(Qt.Key.Key_Delete), self.table)
        delete.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete.activated.connect(self._delete)
        self.name_edit.textChanged.connect(self._name_changed)
        self.id_edit.textEdited.connect(self._id_edited)
        for edit in (self.wl_edit, self.env_edit):
            edit.textChanged.connect(lambda _text, e=edit: self._join_lines(e))
        for widget in self.fields.values():
            if isinstance(widget, QLineEdit):
                widget.textChanged.connect(self._changed)
            elif isinstance(widget, QSpinBox | QDoubleSpinBox):
                widget.valueChanged.connect(self._changed)
        for check in self._checks():
            check.toggled.connect(self._changed)

    def _checks(self) -> tuple[QCheckBox, ...]:
        return (
            self.live_check,
            self.read_only_check,
            self.reason_check,
            self.ticket_check,
            self.remember_check,
            self.invite_check,
        )

    # --- list ----------------------------------------------------------------------------------

    def _reload_rows(self) -> None:
        session = self.backoffice.session
        in_use = session.profile.id if session is not None else None
        rows = [
            ProfileRow(
                key=p.id,
                name=p.name,
                colour=p.color,
                live=p.live,
                read_only=p.read_only,
                builtin=p.id == SANDBOX_PROFILE_ID,
                in_use=p.id == in_use,
            )
            for p in self.store.profiles
        ]
        if self._draft is not None:
            name = self.name_edit.text().strip() if self._current_key == DRAFT_KEY else ""
            rows.append(
                ProfileRow(
                    key=DRAFT_KEY,
                    name=name or str(self._draft["name"]),
                    colour=str(self._draft["color"]),
                    draft=True,
                )
            )
        self._selecting = True
        try:
            self.model.set_rows(rows)
            if self._current_key is not None and self.model.row_of(self._current_key) >= 0:
                self.table.setCurrentIndex(
                    self.model.index(self.model.row_of(self._current_key), 0)
                )
        finally:
            self._selecting = False

    def _select(self, key: str) -> None:
        """Show ``key`` in the editor and mark it in the list (no question asked)."""
        self._select_row_only(key)
        self._show(key)

    def select_profile(self, profile_id: str) -> None:
        """As if the operator clicked the profile in the list (asks about unsaved edits)."""
        self.table.setCurrentIndex(self.model.index(self.model.row_of(profile_id), 0))

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._selecting or not current.isValid():
            return
        target = self.model.rows[current.row()].key
        if target == self._current_key:
            return
        if not self.has_unsaved_edits():
            if self._draft is not None and self._current_key == DRAFT_KEY:
                self._draft = None  # an untouched new profile just goes away
                self._select_after_reload(target)
            else:
                self._show(target)
            return
        # Keep the edited profile selected until the operator has answered.
        if self._current_key is not None:
            self._select_row_only(self._current_key)
        self._switch_to(target)

    def _select_row_only(self, key: str) -> None:
        self._selecting = True
        try:
            self.table.setCurrentIndex(self.model.index(self.model.row_of(key), 0))
        finally:
            self._selecting = False

    def _select_after_reload(self, key: str) -> None:
        self._current_key = None
        self._reload_rows()
        self._select(key)

    @async_slot()
    async def _switch_to(self, target: str) -> None:
        if await self._resolve_unsaved():
            known = self.model.row_of(target) >= 0
            self._select_after_reload(target if known else SANDBOX_PROFILE_ID)

    # --- editor --------------------------------------------------------------------------------

    def current_profile(self) -> Profile | None:
        if self._current_key in (None, DRAFT_KEY):
            return None
        return self.store.settings.get(self._current_key or "")

    def _kind(self) -> str:
        profile = self.current_profile()
        return profile.kind if profile is not None else "remote"

    def _show(self, key: str) -> None:
        self._current_key = key
        if key == DRAFT_KEY:
            assert self._draft is not None
            values = dict(self._draft)
        else:
            values = self.store.get(key).model_dump()
        self._fill(values)
        self._loaded_state = self._state()
        self._clear_invalid()
        self._refresh()

    def _fill(self, values: dict[str, Any]) -> None:
        self._filling = True
        try:
            self.name_edit.setText(str(values["name"]))
            self.id_edit.setText(str(values["id"]))
            self.colour_edit.setText(str(values["color"]))
            self.url_edit.setText(str(values["base_url"]))
            self.ca_edit.setText(str(values["ca_bundle"] or ""))
            self.timeout_spin.setValue(float(values["timeout_seconds"]))
            self.proxy_edit.setText(str(values.get("proxy_url") or ""))
            self.proxy_user_edit.setText(str(values.get("proxy_username") or ""))
            self.proxy_password_edit.clear()
            self.proxy_password_edit.setPlaceholderText(
                "(in the keyring)" if values.get("proxy_username") else ""
            )
            self.test_result.clear()
            self.wl_edit.setText(", ".join(values["broker_names"]))
            self.crm_edit.setText(str(values["broker_crm_name"]))
            self.env_edit.setText(", ".join(values["environments"]))
            login = values["manager_login"]
            self.login_edit.setText("" if login is None else str(login))
            self.live_check.setChecked(bool(values["live"]))
            self.read_only_check.setChecked(bool(values["read_only"]))
            self.budget_spin.setValue(int(values["write_budget_per_hour"]))
            self.period_spin.setValue(int(values.get("attribution_period_days", 90)))
            self.reason_check.setChecked(bool(values["require_reason"]))
            self.ticket_check.setChecked(bool(values["require_ticket"]))
            self.remember_check.setChecked(bool(values["remember_token"]))
            self.invite_check.setChecked(bool(values["invite_enabled"]))
        finally:
            self._filling = False

    def _state(self) -> tuple[object, ...]:
        texts = tuple(w.text() for w in self.fields.values() if isinstance(w, QLineEdit))
        texts += (self.proxy_password_edit.text(),)
        return (
            *texts,
            self.timeout_spin.value(),
            self.budget_spin.value(),
            self.period_spin.value(),
            *(check.isChecked() for check in self._checks()),
        )

    def has_unsaved_edits(self) -> bool:
        return self._current_key is not None and self._state() != self._loaded_state

    def _refresh(self) -> None:
        """Everything that follows the form: the preview band, what may be edited, buttons."""
        key = self._current_key
        draft = key == DRAFT_KEY
        builtin = key == SANDBOX_PROFILE_ID
        sandbox = self._kind() == "sandbox"
        live = self.live_check.isChecked()
        colour = self.colour_edit.text().strip()
        if not _HEX_COLOUR.match(colour):  # half typed: keep showing the last good colour
            profile = self.current_profile()
            colour = profile.color if profile else str((self._draft or {}).get("color", ""))
        self.band.setStyleSheet(
            f"#profilePreview {{ background:{LIVE_RED if live else colour or PRESET_COLOURS[0]};"
            f" border-radius:{theme.RADIUS}px; }}"
            f" #profilePreview QLabel {{ color: {theme.ON_BAND}; }}"
        )
        self.band_name.setText(self.name_edit.text().strip() or "(no name)")
        self.live_marker.setVisible(live)
        self.read_only_marker.setVisible(self.read_only_check.isChecked())
        if draft:
            self.unsaved_marker.setText("New — not saved yet")
        else:
            self.unsaved_marker.setText("● Unsaved changes" if self.has_unsaved_edits() else "")
        self.save_button.setEnabled(draft or self.has_unsaved_edits())

        set_read_only(self.id_edit, not draft)
        self.id_edit.setToolTip(
            "Used by the command line (--profile) and the journal; follows the name until you "
            "type your own"
            if draft
            else "The id cannot change once saved: the journal and the keyring refer to it"
        )
        self.kind_label.setText(
            "Embedded training sandbox (runs inside this app)"
            if sandbox
            else "Remote cTrader server"
        )
        for edit in (
            self.url_edit,
            self.ca_edit,
            self.proxy_edit,
            self.proxy_user_edit,
            self.proxy_password_edit,
        ):
            set_read_only(edit, sandbox)
        self.ca_button.setEnabled(not sandbox)
        self.url_edit.setToolTip(
            "The sandbox runs inside the app: its address cannot be changed"
            if sandbox
            else "https://host:port — plain http:// only for this computer (localhost)"
        )
        if sandbox:
            text = (
                "This is the embedded training sandbox: made-up clients inside this app, nothing "
                "reaches a real broker. Its connection cannot be changed"
                + (" and it cannot be deleted." if builtin else ".")
            )
            self.sandbox_hint.setText(text)
        self.sandbox_hint.setVisible(sandbox)
        self.duplicate_button.setEnabled(not draft)
        self.delete_button.setEnabled(not builtin)
        self.delete_button.setToolTip(
            "The built-in Sandbox is the training backend of the app and cannot be deleted"
            if builtin
            else ("Discard this new profile" if draft else "Delete this profile (asks first)")
        )

    def _changed(self) -> None:
        if self._filling:
            return
        sender = self.sender()
        for field, widget in self.fields.items():
            if widget is sender:
                self._mark_invalid(field, False)
        if self._current_key == DRAFT_KEY:
            self._reload_rows()
        self._refresh()

    def _name_changed(self, text: str) -> None:
        if self._filling or self._current_key != DRAFT_KEY or not self._id_follows_name:
            return
        taken = {p.id for p in self.store.profiles}
        self.id_edit.setText(suggest_id(text or "profile", taken))

    def _id_edited(self, _text: str) -> None:
        self._id_follows_name = False

    def _join_lines(self, edit: QLineEdit) -> None:
        """A pasted column (one name per line) becomes 'a, b' in the one-line field."""
        text = edit.text()
        if "\n" in text or "\r" in text:
            edit.setText(_LINE_BREAKS.sub(", ", text).strip(", "))

    # --- validation and saving -----------------------------------------------------------------

    def _collect(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The form as Profile fields, and the errors found before the model sees it."""
        errors: dict[str, str] = {}
        stored = self.current_profile()
        sandbox = stored is not None and stored.kind == "sandbox"
        login_text = self.login_edit.text().strip()
        login: int | None = None
        try:
            login = parse_id(login_text)
        except NotAnId as exc:
            errors["manager_login"] = f"The manager login {exc.reason}, for example 30001."
        ca_text = self.ca_edit.text().strip()
        values: dict[str, Any] = {
            "id": self.id_edit.text().strip(),
            "name": self.name_edit.text(),
            "kind": stored.kind if stored is not None else "remote",
            # The sandbox's connection is not the operator's to change, whatever the fields say.
            "base_url": stored.base_url if sandbox and stored else self.url_edit.text(),
            "ca_bundle": (
                stored.ca_bundle
                if sandbox and stored
                else (Path(ca_text).expanduser() if ca_text else None)
            ),
            "timeout_seconds": self.timeout_spin.value(),
            "proxy_url": None if sandbox else self.proxy_edit.text(),
            "proxy_username": None if sandbox else self.proxy_user_edit.text(),
            "broker_names": split_names(self.wl_edit.text()),
            "broker_crm_name": self.crm_edit.text(),
            "environments": split_names(self.env_edit.text()),
            "manager_login": login,
            "color": self.colour_edit.text(),
            "live": self.live_check.isChecked(),
            "read_only": self.read_only_check.isChecked(),
            "write_budget_per_hour": self.budget_spin.value(),
            "attribution_period_days": self.period_spin.value(),
            "require_reason": self.reason_check.isChecked(),
            "require_ticket": self.ticket_check.isChecked(),
            "remember_token": self.remember_check.isChecked(),
            "invite_enabled": self.invite_check.isChecked(),
        }
        return values, errors

    def save(self) -> bool:
        """Validate and save the profile in the editor; False (and says why) if it cannot."""
        if self._current_key is None or not self.save_button.isEnabled():
            return self._current_key is not None and not self.has_unsaved_edits()
        values, errors = self._collect()
        profile: Profile | None = None
        try:
            profile = Profile.model_validate(values)
        except ValidationError as exc:
            errors = validation_messages(exc) | errors
        if errors or profile is None:
            self._show_invalid(errors)
            return False
        draft = self._current_key == DRAFT_KEY
        before = None if draft else self.store.get(self._current_key)
        try:
            if draft:
                self.store.add(profile)
            else:
                self.store.update(profile)
        except ValueError as exc:  # ProfileError (taken id or name) or the settings' own rules
            others = [p for p in self.store.profiles if p.id != self._current_key]
            if any(p.name.casefold() == profile.name.casefold() for p in others):
                self._show_invalid({"name": str(exc)})
            elif any(p.id == profile.id for p in others):
                self._show_invalid({"id": str(exc)})
            else:
                self._show_invalid({"": str(exc)})
            return False
        except OSError as exc:
            self.bar.show_message(
                Level.ERROR, f"The settings file could not be written: {exc.strerror or exc}."
            )
            return False
        self.backoffice.settings = self.store.settings
        if before is not None:
            # Off the loop: keyring calls may block on D-Bus.
            self._forgetting = asyncio.ensure_future(
                asyncio.to_thread(self.backoffice.tokens.forget_stale, before, profile)
            )
        self._save_proxy_password(profile, before)
        self._draft = None
        self._select_after_reload(profile.id)
        message = f"Saved “{profile.name}”."
        level = Level.SUCCESS
        if profile.ca_bundle is not None and not profile.ca_bundle.is_file():
            level = Level.WARNING
            message += (
                f" Note: the CA bundle {profile.ca_bundle} is not a file on this computer; "
                "connecting will fail until it is."
            )
        self.bar.show_message(level, message)
        return True

    def _save_proxy_password(self, profile: Profile, before: Profile | None) -> None:
        """A typed proxy password goes to the keyring; removing the proxy user forgets it."""
        typed = self.proxy_password_edit.text()
        self.proxy_password_edit.clear()
        tokens = self.backoffice.tokens
        if profile.proxy_username and typed:
            task = asyncio.to_thread(tokens.set_proxy_password, profile.id, typed)
        elif not profile.proxy_username and before is not None and before.proxy_username:
            task = asyncio.to_thread(tokens.set_proxy_password, profile.id, None)
        else:
            return
        self._proxy_saving = asyncio.ensure_future(task)

    @async_slot()
    async def _test_connection(self) -> None:
        """Save the edits (a test of something else than what is saved would mislead), then
        probe the server, and log in when the manager password is given."""
        if self.has_unsaved_edits() and not self.save():
            return
        profile = self.current_profile()
        if profile is None:
            return
        if self._proxy_saving is not None:
            await self._proxy_saving
        text = self.test_password_edit.text()
        self.test_password_edit.clear()
        password = SecretStr(text) if text else None
        self.test_button.setEnabled(False)
        self.test_result.setText("Testing…")
        try:
            verdict = await self.backoffice.check_connection(profile, password)
        finally:
            self.test_button.setEnabled(True)
        mark = "✔" if verdict.ok else "✖"
        self.test_result.setText(f"{mark} {verdict.headline}. {verdict.detail}")
        self.test_result.setProperty("invalid", not verdict.ok)
        repolish(self.test_result)

    def _show_invalid(self, errors: dict[str, str]) -> None:
        self._clear_invalid()
        ordered = [f for f in FIELD_LABELS if f in errors] + [
            f for f in errors if f not in FIELD_LABELS
        ]
        lines = []
        for field in ordered:
            label = FIELD_LABELS.get(field)
            lines.append(f"{label}: {errors[field]}" if label else errors[field])
            if field in self.fields:
                self._mark_invalid(field, True)
        if len(lines) == 1:
            text = f"Not saved. {lines[0]}"
        else:
            text = "Not saved. Please correct:\n" + "\n".join(f"• {line}" for line in lines)
        self.bar.show_message(Level.ERROR, text)
        first = next((self.fields[f] for f in ordered if f in self.fields), None)
        if first is not None:
            self.editor_scroll.ensureWidgetVisible(first)
            first.setFocus()

    def _mark_invalid(self, field: str, invalid: bool) -> None:
        """A red label (and a red frame on text fields) until the field is edited again."""
        for widget in (self.fields[field], self.labels[field]):
            if bool(widget.property("invalid")) != invalid:
                widget.setProperty("invalid", invalid)
                repolish(widget)

    def _clear_invalid(self) -> None:
        for field in self.fields:
            self._mark_invalid(field, False)

    def invalid_fields(self) -> list[str]:
        return [f for f, w in self.fields.items() if w.property("invalid") is True]

    # --- actions -------------------------------------------------------------------------------

    async def _resolve_unsaved(self) -> bool:
        """True when the editor may show something else: nothing to lose, saved, or discarded."""
        if not self.has_unsaved_edits():
            if self._current_key == DRAFT_KEY:
                self._draft = None
            return True
        draft = self._current_key == DRAFT_KEY
        name = self.name_edit.text().strip() or "this profile"
        answer = await choose(
            ChoiceDialog(
                self,
                name="unsavedProfileDialog",
                title="Unsaved changes",
                text=(
                    f"The new profile “{name}” is not saved yet."
                    if draft
                    else f"“{name}” has changes that are not saved."
                ),
                choices=(
                    ("save", "&Save", QDialogButtonBox.ButtonRole.AcceptRole),
                    ("discard", "&Discard", QDialogButtonBox.ButtonRole.DestructiveRole),
                ),
                default="save",
            )
        )
        if answer == "save":
            return self.save()
        if answer == "discard":
            if draft:
                self._draft = None
            self._loaded_state = self._state()
            self.bar.show_message(Level.INFO, f"Changes to “{name}” were discarded.")
            return True
        return False

    @async_slot()
    async def _add(self) -> None:
        if not await self._resolve_unsaved():
            return
        profiles = self.store.profiles
        names = {p.name for p in profiles}
        used_colours = {p.color for p in profiles}
        name = unique_name("New profile", names)
        defaults = {
            field: info.get_default(call_default_factory=True)
            for field, info in Profile.model_fields.items()
            if not info.is_required()
        }
        self._draft = defaults | {
            "id": suggest_id(name, {p.id for p in profiles}),
            "name": name,
            "kind": "remote",
            "base_url": "https://",
            "broker_names": [],
            "broker_crm_name": "",
            "color": next((c for c in PRESET_COLOURS if c not in used_colours), PRESET_COLOURS[0]),
        }
        self._id_follows_name = True
        self._select_after_reload(DRAFT_KEY)
        self.bar.hide()
        self.name_edit.setFocus()
        self.name_edit.selectAll()

    @async_slot()
    async def _duplicate(self) -> None:
        source = self.current_profile()
        if source is None or not await self._resolve_unsaved():
            return
        try:
            copy = self.store.duplicate(source.id)
        except (ValueError, OSError) as exc:
            self.bar.show_message(Level.ERROR, f"Not duplicated: {exc}")
            return
        self.backoffice.settings = self.store.settings
        self._select_after_reload(copy.id)
        self.bar.show_message(
            Level.SUCCESS,
            f"Saved a copy of “{source.name}” as “{copy.name}” (id {copy.id}). "
            "Rename it and check its server and White Labels.",
        )
        self.name_edit.setFocus()
        self.name_edit.selectAll()

    @async_slot()
    async def _delete(self) -> None:
        key = self._current_key
        if key is None or key == SANDBOX_PROFILE_ID:
            return
        if key == DRAFT_KEY:
            self._draft = None
            self._select_after_reload(SANDBOX_PROFILE_ID)
            self.bar.show_message(Level.INFO, "The new profile was discarded.")
            return
        profile = self.store.get(key)
        session = self.backoffice.session
        in_use = session is not None and session.profile.id == key
        text = (
            f"Delete the profile “{profile.name}” ({profile.base_url})?\n\n"
            "Its journal entries stay. A token remembered for it is forgotten."
        )
        if in_use:
            text += " It is the connection in use: the app switches to the Sandbox when you close"
            text += " this window."
        answer = await choose(
            ChoiceDialog(
                self,
                name="confirmDeleteProfileDialog",
                title="Delete profile",
                text=text,
                choices=(("delete", "&Delete", QDialogButtonBox.ButtonRole.AcceptRole),),
                default=None,
                danger="delete",
            )
        )
        if answer != "delete":
            return
        try:
            self.store.delete(key)
        except (ValueError, OSError) as exc:
            self.bar.show_message(Level.ERROR, f"Not deleted: {exc}")
            return
        self.backoffice.settings = self.store.settings
        if profile.manager_login is not None:
            await asyncio.to_thread(self.backoffice.tokens.delete, key, profile.manager_login)
        row = max(0, self.model.row_of(key) - 1)
        self._current_key = None
        self._reload_rows()
        self._select(self.model.rows[min(row, len(self.model.rows) - 1)].key)
        self.bar.show_message(Level.SUCCESS, f"Deleted “{profile.name}”.")

    @async_slot()
    async def _choose_colour(self) -> None:
        current = self.colour_edit.text().strip()
        dialog = QColorDialog(
            QColor(current) if QColor.isValidColorName(current) else QColor(), self
        )
        dialog.setObjectName("profileColourDialog")
        dialog.setWindowTitle("Profile colour")
        try:
            if await ask(dialog):
                self.colour_edit.setText(dialog.selectedColor().name())
        finally:
            dialog.deleteLater()

    @async_slot()
    async def _browse_ca(self) -> None:
        current = self.ca_edit.text().strip()
        dialog = QFileDialog(
            self,
            "CA bundle for this server",
            start_folder(current),
            "Certificates (*.pem *.crt *.cer);;All files (*)",
        )
        dialog.setObjectName("caBundleDialog")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        try:
            if await ask(dialog) and dialog.selectedFiles():
                self.ca_edit.setText(dialog.selectedFiles()[0])
        finally:
            dialog.deleteLater()

    # --- closing -------------------------------------------------------------------------------

    def reject(self) -> None:
        """Esc, Close or the window's ✕: ask first when there are unsaved edits."""
        if self.has_unsaved_edits():
            if not self._closing:
                self._close_after_asking()
            return
        super().reject()

    @async_slot()
    async def _close_after_asking(self) -> None:
        self._closing = True
        try:
            if await self._resolve_unsaved():
                self._current_key = None
                super().reject()
        finally:
            self._closing = False
