"""The form of one profile: every field, grouped (profile, connection, broker, safety, log-in),
in a scroll area that keeps the form's width. It shows a ``ProfileInput`` and hands one back;
which fields may change is decided by ``services.profile_admin.editable``."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ctrader_admin.services.profile_admin import Editable, ProfileInput, join_lines
from ctrader_admin.ui import theme
from ctrader_admin.ui.dialogs import ask
from ctrader_admin.ui.profiles.connection_test import ConnectionTest
from ctrader_admin.ui.profiles.widgets import repolish, set_read_only, start_folder, swatch
from ctrader_admin.ui.slots import async_slot
from ctrader_admin.ui.widgets import form

_RED = theme.LIVE_RED
STYLE = f"""
QLineEdit[readOnly="true"] {{ background: palette(window); }}
QLineEdit[invalid="true"] {{ border: 2px solid {_RED}; border-radius: 3px; padding: 1px; }}
QLabel[invalid="true"] {{ color: {_RED}; font-weight: bold; }}
"""


class ProfileForm(QScrollArea):
    edited = Signal()  # the operator changed a field (not emitted while a profile is filled in)

    def __init__(self) -> None:
        super().__init__()
        self.labels: dict[str, QLabel] = {}
        self.filling = False
        self.test = ConnectionTest()
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
        self.setWidget(editor)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        # Taller than the screen scrolls; narrower never does: the dialog keeps the form's width.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumWidth(
            editor.minimumSizeHint().width() + self.verticalScrollBar().sizeHint().width()
        )
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
        self._connect()

    # --- layout ------------------------------------------------------------------------------

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
        for colour in theme.PROFILE_COLOURS:
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
        layout.addRow("Kind:", self.kind_label)
        self._row(layout, "base_url", "Server &URL:", self.url_edit)
        self._row(layout, "ca_bundle", "CA &bundle:", ca_row, self.ca_edit)
        self._row(layout, "timeout_seconds", "&Timeout:", self.timeout_spin)
        self._row(layout, "proxy_url", "Pro&xy:", self.proxy_edit)
        self._row(layout, "proxy_username", "Proxy user:", proxy_auth, self.proxy_user_edit)
        layout.addRow("Check:", self.test.row)
        layout.addRow(self.test.result)  # the whole width: a sentence, not a field
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

    def tab_chain(self) -> list[QWidget]:
        """The form's widgets in the order Tab visits them."""
        return [
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
            self.test.password_edit,
            self.test.button,
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
        ]

    def _connect(self) -> None:
        self.colour_button.clicked.connect(self._choose_colour)
        self.ca_button.clicked.connect(self._browse_ca)
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

    def _changed(self) -> None:
        if self.filling:
            return
        sender = self.sender()
        for field, widget in self.fields.items():
            if widget is sender:
                self.mark_invalid(field, False)
        self.edited.emit()

    def _join_lines(self, edit: QLineEdit) -> None:
        """A pasted column (one name per line) becomes 'a, b' in the one-line field."""
        joined = join_lines(edit.text())
        if joined != edit.text():
            edit.setText(joined)

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

    # --- content -----------------------------------------------------------------------------

    def fill(self, values: ProfileInput) -> None:
        self.filling = True
        try:
            self.name_edit.setText(values.name)
            self.id_edit.setText(values.id)
            self.colour_edit.setText(values.color)
            self.url_edit.setText(values.base_url)
            self.ca_edit.setText(values.ca_bundle)
            self.timeout_spin.setValue(values.timeout_seconds)
            self.proxy_edit.setText(values.proxy_url)
            self.proxy_user_edit.setText(values.proxy_username)
            self.proxy_password_edit.clear()
            self.proxy_password_edit.setPlaceholderText(
                "(in the keyring)" if values.proxy_username else ""
            )
            self.test.result.clear()
            self.wl_edit.setText(values.broker_names)
            self.crm_edit.setText(values.broker_crm_name)
            self.env_edit.setText(values.environments)
            self.login_edit.setText(values.manager_login)
            self.live_check.setChecked(values.live)
            self.read_only_check.setChecked(values.read_only)
            self.budget_spin.setValue(values.write_budget_per_hour)
            self.period_spin.setValue(values.attribution_period_days)
            self.reason_check.setChecked(values.require_reason)
            self.ticket_check.setChecked(values.require_ticket)
            self.remember_check.setChecked(values.remember_token)
            self.invite_check.setChecked(values.invite_enabled)
        finally:
            self.filling = False

    def values(self) -> ProfileInput:
        return ProfileInput(
            id=self.id_edit.text(),
            name=self.name_edit.text(),
            color=self.colour_edit.text(),
            base_url=self.url_edit.text(),
            ca_bundle=self.ca_edit.text(),
            timeout_seconds=self.timeout_spin.value(),
            proxy_url=self.proxy_edit.text(),
            proxy_username=self.proxy_user_edit.text(),
            broker_names=self.wl_edit.text(),
            broker_crm_name=self.crm_edit.text(),
            environments=self.env_edit.text(),
            manager_login=self.login_edit.text(),
            live=self.live_check.isChecked(),
            read_only=self.read_only_check.isChecked(),
            write_budget_per_hour=self.budget_spin.value(),
            attribution_period_days=self.period_spin.value(),
            require_reason=self.reason_check.isChecked(),
            require_ticket=self.ticket_check.isChecked(),
            remember_token=self.remember_check.isChecked(),
            invite_enabled=self.invite_check.isChecked(),
        )

    def state(self) -> tuple[ProfileInput, str]:
        """What an unsaved edit changes: the values, and a typed proxy password."""
        return self.values(), self.proxy_password_edit.text()

    def follow(self, rules: Editable) -> None:
        """Which fields may change, and the words that say why not."""
        set_read_only(self.id_edit, not rules.id)
        self.id_edit.setToolTip(
            "Used by the command line (--profile) and the journal; follows the name until you "
            "type your own"
            if rules.id
            else "The id cannot change once saved: the journal and the keyring refer to it"
        )
        self.kind_label.setText(
            "Embedded training sandbox (runs inside this app)"
            if rules.sandbox
            else "Remote cTrader server"
        )
        for edit in (
            self.url_edit,
            self.ca_edit,
            self.proxy_edit,
            self.proxy_user_edit,
            self.proxy_password_edit,
        ):
            set_read_only(edit, not rules.connection)
        self.ca_button.setEnabled(rules.connection)
        self.url_edit.setToolTip(
            "https://host:port — plain http:// only for this computer (localhost)"
            if rules.connection
            else "The sandbox runs inside the app: its address cannot be changed"
        )

    # --- problems ----------------------------------------------------------------------------

    def show_problems(self, fields: list[str]) -> None:
        """Mark ``fields`` (in the form's order) and take the operator to the first."""
        self.clear_invalid()
        for field in fields:
            if field in self.fields:
                self.mark_invalid(field, True)
        first = next((self.fields[f] for f in fields if f in self.fields), None)
        if first is not None:
            self.ensureWidgetVisible(first)
            first.setFocus()

    def mark_invalid(self, field: str, invalid: bool) -> None:
        """A red label (and a red frame on text fields) until the field is edited again."""
        for widget in (self.fields[field], self.labels[field]):
            if bool(widget.property("invalid")) != invalid:
                widget.setProperty("invalid", invalid)
                repolish(widget)

    def clear_invalid(self) -> None:
        for field in self.fields:
            self.mark_invalid(field, False)

    def invalid_fields(self) -> list[str]:
        return [f for f, w in self.fields.items() if w.property("invalid") is True]
