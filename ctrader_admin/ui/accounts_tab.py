"""Accounts: link a trading account to a cTID user. The account password is hashed (MD5) in
memory for the request and the field is emptied each time Link is pressed: it is never stored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import SecretStr
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QPushButton, QWidget

from ctrader_admin.services import accounts, work_orders
from ctrader_admin.services.accounts import LinkedAccount
from ctrader_admin.services.errors import InvalidInput
from ctrader_admin.services.validation import environment_of, parse_int, white_label_of
from ctrader_admin.ui.context import LinkRequest, UiContext
from ctrader_admin.ui.form_tab import FormTab, tab_order
from ctrader_admin.ui.notify import Level
from ctrader_admin.ui.slots import async_slot
from ctrader_admin.ui.widgets import CopyableId, hint, mark_invalid, refill

if TYPE_CHECKING:
    from ctrader_admin.store.profiles import Profile

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


class AccountsTab(FormTab):
    title = "Accounts"
    help_text = (
        "Link a trading account to a cTID user. The server checks the account's password; "
        "the link is recorded in the local directory so Lookup finds it."
    )
    read_only_text = "This connection is read-only: accounts cannot be linked here."

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.result: LinkedAccount | None = None

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
        self.password_note = hint(HASHING_NOTE)
        self.password_note.setWordWrap(False)
        self.password_note.setObjectName("passwordNote")
        self.link_button = QPushButton("Lin&k account…")
        self.link_button.setObjectName("linkButton")
        self.link_button.setToolTip("Asks for a reason before anything is sent (Enter)")
        self.add_form(
            "Link an account to a user",
            [
                ("&Login:", self.login),
                ("Account &password:", self.password),
                ("", self.password_note),
                ("&userId:", self.user_id),
                ("&White Label:", self.white_label),
                ("E&nvironment:", self.environment),
            ],
            [self.link_button],
        )
        self.fields: dict[str, QWidget] = {
            "Login": self.login,
            "Account password": self.password,
            "userId": self.user_id,
            "White Label": self.white_label,
            "Environment": self.environment,
        }

        self.ctid = CopyableId()
        self.ctid.setObjectName("linkCtid")
        self.summary = QLabel()
        self.summary.setObjectName("linkSummary")
        self.recorded = QLabel()
        self.recorded.setObjectName("linkRecorded")
        self.open_lookup = QPushButton("Show the user in L&ookup")
        self.open_lookup.setObjectName("linkOpenLookup")
        self.open_lookup.setAutoDefault(True)
        self.result_box = self.add_shown(
            "Linked",
            "linkResult",
            [
                ("ctidTraderAccountId:", self.ctid),
                ("Account:", self.summary),
                ("", self.recorded),
            ],
            [self.open_lookup],
        )
        self.body.addStretch(1)
        tab_order(
            self.login,
            self.password,
            self.user_id,
            self.white_label,
            self.environment,
            self.link_button,
            self.open_lookup,
        )

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

    def offer_choices(self, profile: Profile | None) -> None:
        refill(self.white_label, list(profile.broker_names) if profile else [])
        refill(self.environment, list(profile.environments) if profile else [])

    def forget_shown(self) -> None:
        self.show_result(None)

    def _refresh_controls(self) -> None:
        super()._refresh_controls()
        write = self.writable()
        self.link_button.setEnabled(write and not self._working)
        self.password.setEnabled(write)

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

            async def link(reason: str, ticket: str) -> LinkedAccount | work_orders.AlreadyLinked:
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

            done = await self.ctx.confirm_and_send(
                self.runner,
                "Link trading account",
                [
                    ("Account", f"login {given.login} ({given.environment}, {given.broker_name})"),
                    ("cTID user", f"userId {given.user_id}"),
                ],
                action_label="Link",
                declined="Not linked: nothing was sent. The password was not kept; type it again.",
                busy="Linking the account",
                send=link,
                controls=[self.link_button],
            )
            if done is None:  # declined or failed: the password is to be typed again
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
