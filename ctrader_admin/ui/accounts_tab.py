"""Accounts: link a trading account to a cTID user. The account password is hashed (MD5) in
memory for the request and the field is emptied each time Link is pressed: it is never stored."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from ctrader_admin.services import accounts, work_orders
from ctrader_admin.services.accounts import LinkedAccount
from ctrader_admin.services.errors import InvalidInput
from ctrader_admin.services.validation import environment_of, parse_int, white_label_of
from ctrader_admin.ui.context import LinkRequest, UiContext
from ctrader_admin.ui.notify import Level
from ctrader_admin.ui.slots import async_slot
from ctrader_admin.ui.tab import Tab
from ctrader_admin.ui.widgets import CopyableId, form, hint, mark_invalid

FORM_WIDTH = 720
# Explicit lines: a word-wrapped label in a form row wraps far too narrow and gets clipped.
HASHING_NOTE = (
    "Hashed (MD5) in memory and sent only as that hash; never stored or logged.\n"
    "The field is emptied each time you press Link."
)


@dataclass(frozen=True)
class LinkInput:
    login: int
    user_id: int
    broker_name: str
    environment: str


class AccountsTab(Tab):
    title = "Accounts"
    help_text = (
        "Link a trading account to a cTID user. The server checks the account's password; "
        "the link is recorded in the local directory so Lookup finds it."
    )

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._profile_id: str | None = None
        self.result: LinkedAccount | None = None

        box = QGroupBox("Link an account to a user")
        box.setMaximumWidth(FORM_WIDTH)
        fields = form()
        self.login = QLineEdit()
        self.login.setObjectName("linkLogin")
        self.login.setPlaceholderText("Trading account login, e.g. 5200001")
        self.password = QLineEdit()
        self.password.setObjectName("linkPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("The trading account's password")
        self.user_id = QLineEdit()
        self.user_id.setObjectName("linkUserId")
        self.user_id.setPlaceholderText("cTID userId, e.g. 1000001")
        self.white_label = QComboBox()
        self.white_label.setObjectName("linkWhiteLabel")
        self.white_label.setToolTip("The White Label (brokerName) the account belongs to")
        self.environment = QComboBox()
        self.environment.setObjectName("linkEnvironment")
        fields.addRow("&Login:", self.login)
        fields.addRow("Account &password:", self.password)
        self.password_note = hint(HASHING_NOTE)
        self.password_note.setWordWrap(False)
        self.password_note.setObjectName("passwordNote")
        fields.addRow("", self.password_note)
        fields.addRow("&userId:", self.user_id)
        fields.addRow("&White Label:", self.white_label)
        fields.addRow("E&nvironment:", self.environment)
        self.link_button = QPushButton("Lin&k account…")
        self.link_button.setObjectName("linkButton")
        self.link_button.setToolTip("Asks for a reason before anything is sent (Enter)")
        row = QHBoxLayout()
        row.addWidget(self.link_button)
        row.addStretch(1)
        fields.addRow(row)
        self.read_only_note = hint("This connection is read-only: accounts cannot be linked here.")
        fields.addRow(self.read_only_note)
        box.setLayout(fields)
        self.body.addWidget(box)
        self.fields: dict[str, QWidget] = {
            "Login": self.login,
            "Account password": self.password,
            "userId": self.user_id,
            "White Label": self.white_label,
            "Environment": self.environment,
        }

        self.result_box = QGroupBox("Linked")
        self.result_box.setObjectName("linkResult")
        self.result_box.setMaximumWidth(FORM_WIDTH)
        result_form = form()
        self.ctid = CopyableId()
        self.ctid.setObjectName("linkCtid")
        self.summary = QLabel()
        self.summary.setObjectName("linkSummary")
        result_form.addRow("ctidTraderAccountId:", self.ctid)
        result_form.addRow("Account:", self.summary)
        self.recorded = QLabel()
        self.recorded.setObjectName("linkRecorded")
        result_form.addRow("", self.recorded)
        buttons = QHBoxLayout()
        self.open_lookup = QPushButton("Show the user in L&ookup")
        self.open_lookup.setObjectName("linkOpenLookup")
        self.open_lookup.setAutoDefault(True)
        buttons.addWidget(self.open_lookup)
        buttons.addStretch(1)
        result_form.addRow(buttons)
        self.result_box.setLayout(result_form)
        self.result_box.hide()
        self.body.addWidget(self.result_box)
        self.body.addStretch(1)

        for first, second in (
            (self.login, self.password),
            (self.password, self.user_id),
            (self.user_id, self.white_label),
            (self.white_label, self.environment),
            (self.environment, self.link_button),
            (self.link_button, self.open_lookup),
        ):
            QWidget.setTabOrder(first, second)

        for line in (self.login, self.password, self.user_id):
            line.returnPressed.connect(self._link)
            # A corrected field loses its outline and its part of the message as it is edited.
            line.textEdited.connect(lambda _text, w=line: self.field_edited(w))
        self.link_button.clicked.connect(self._link)
        self.open_lookup.clicked.connect(self._open_in_lookup)
        self.on_session_changed()

    # --- entry points --------------------------------------------------------------------------

    def prefill(self, request: LinkRequest) -> None:
        """From Lookup or Users: what is known (the userId; or an unlinked account's login,
        environment and White Label), the focus on the first field still to fill."""
        user_id, login = request.user_id, request.login
        environment, white_label = request.environment, request.white_label
        self.user_id.setText(str(user_id) if user_id else "")
        self.login.setText(str(login) if login else "")
        self.password.clear()
        for combo, value in ((self.environment, environment), (self.white_label, white_label)):
            if value and combo.findText(value) >= 0:
                combo.setCurrentText(value)
        mark_invalid(self.fields, {})
        self.show_result(None)
        self.bar.hide()
        empty = [f for f, known in ((self.login, login), (self.user_id, user_id)) if not known]
        (empty[0] if empty else self.password).setFocus()

    # --- profile -------------------------------------------------------------------------------

    def on_session_changed(self) -> None:
        session = self.ctx.backoffice.session
        _refill(self.white_label, list(session.profile.broker_names) if session else [])
        _refill(self.environment, list(session.profile.environments) if session else [])
        profile_id = session.profile.id if session else None
        if profile_id != self._profile_id:
            self._profile_id = profile_id
            self.show_result(None)
        self._refresh_controls()

    def _refresh_controls(self) -> None:
        write = self.writable()
        self.link_button.setEnabled(write and not self._working)
        self.password.setEnabled(write)
        self.read_only_note.setVisible(self.ctx.backoffice.session is not None and not write)

    # --- link ----------------------------------------------------------------------------------

    def _input(self, password: SecretStr) -> LinkInput:
        """Every field checked before anything is sent; InvalidInput names the first bad ones."""
        problems: dict[str, str] = {}
        login = user_id = None
        try:
            login = parse_int("Login", self.login.text())
        except InvalidInput as exc:
            problems.update(exc.problems)
        if not password.get_secret_value():
            problems["Account password"] = "is required (it was not kept: type it again)"
        try:
            user_id = parse_int("userId", self.user_id.text())
        except InvalidInput as exc:
            problems.update(exc.problems)
        profile = self.ctx.session.profile
        for check, box in ((white_label_of, self.white_label), (environment_of, self.environment)):
            try:
                check(profile, box.currentText())
            except InvalidInput as exc:
                problems.update(exc.problems)
        if problems or login is None or user_id is None:
            raise InvalidInput(problems)
        return LinkInput(
            login, user_id, self.white_label.currentText(), self.environment.currentText()
        )

    @async_slot()
    async def _link(self) -> None:
        if self._working or not self.writable():
            return
        # The text lives only in this local until the hash is made, whatever happens next.
        password = SecretStr(self.password.text())
        self.password.clear()
        try:
            await self._link_with(password)
        finally:
            del password

    async def _link_with(self, password: SecretStr) -> None:
        self.show_result(None)  # a new attempt: the last one's result no longer applies
        mark_invalid(self.fields, {})
        try:
            given = self._input(password)
        except InvalidInput as exc:
            self.show_invalid(exc, self.fields)
            return
        with self.working():
            session = self.ctx.session
            try:  # the API cannot move a linked account: a work order, before anything is sent
                work_orders.check_link(
                    session,
                    login=given.login,
                    environment=given.environment,
                    user_id=given.user_id,
                    broker_name=given.broker_name,
                )
            except work_orders.AlreadyLinked as refused:
                await self._offer_work_order(refused)
                return
            except work_orders.LinkedAlready as same:
                self.bar.show_message(Level.INFO, same.message)
                return
            answer = await self.ctx.confirm(
                "Link trading account",
                [
                    ("Account", f"login {given.login} ({given.environment}, {given.broker_name})"),
                    ("cTID user", f"userId {given.user_id}"),
                ],
                action_label="Link",
            )
            if answer is None:
                self.bar.show_message(
                    Level.INFO,
                    "Not linked: nothing was sent. The password was not kept; type it again.",
                )
                self.password.setFocus()
                return
            reason, ticket = answer

            async def link() -> LinkedAccount | work_orders.AlreadyLinked:
                try:
                    return await accounts.link_account(
                        session,
                        login=given.login,
                        password=password,
                        user_id=given.user_id,
                        broker_name=given.broker_name,
                        environment=given.environment,
                        reason=reason,
                        ticket=ticket,
                    )
                except work_orders.AlreadyLinked as refused:  # the backend knew better
                    return refused

            done = await self.runner.run("Linking the account", link, controls=[self.link_button])
            self.ctx.wrote()
            if done is None:
                self.password.setFocus()
                return
            if isinstance(done.value, work_orders.AlreadyLinked):
                await self._offer_work_order(done.value)
                return
            self.show_result(done.value)

    async def _offer_work_order(self, refused: work_orders.AlreadyLinked) -> None:
        from ctrader_admin.ui.dialogs import ask
        from ctrader_admin.ui.work_order_dialog import WorkOrderDialog

        self.bar.show_message(Level.WARNING, refused.message)
        dialog = WorkOrderDialog(self.ctx.window, refused)
        try:
            await ask(dialog)
        finally:
            dialog.deleteLater()

    def show_result(self, result: LinkedAccount | None) -> None:
        self.result = result
        self.result_box.setVisible(result is not None)
        if result is None:
            return
        ctid = result.ctid_trader_account_id
        self.ctid.set_value(str(ctid) if ctid is not None else "")
        self.summary.setText(
            f"login {result.login} ({result.environment}, {result.broker_name}) → "
            f"userId {result.user_id}"
        )
        if ctid is not None:
            self.recorded.setText("✔ Linked, and recorded in the local directory.")
            message = (
                f"Account {result.login} linked to user {result.user_id}: ctidTraderAccountId "
                f"{ctid}. Recorded in the local directory."
            )
        else:
            self.recorded.setText(
                "✔ Linked. The server returned no ctidTraderAccountId;\n"
                "the owner is recorded in the local directory."
            )
            message = f"Account {result.login} linked to user {result.user_id}."
        self.bar.show_message(Level.SUCCESS, message)

    def _open_in_lookup(self) -> None:
        if self.result is not None:
            self.ctx.lookup_requested.emit(str(self.result.user_id))


def _refill(combo: QComboBox, names: list[str]) -> None:
    """New choices, keeping the operator's pick when it is still offered."""
    chosen = combo.currentText()
    combo.clear()
    combo.addItems(names)
    if chosen in names:
        combo.setCurrentText(chosen)
