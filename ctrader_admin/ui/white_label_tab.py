"""White Label: move a trading account to another White Label. Read it first (from → to), then
move: the shared flow confirms, sends, and reads the account back, because the backend documents
no answer for this call — only the read-back says whether the White Label really changed."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QPushButton, QWidget

from ctrader_admin.api import Trader
from ctrader_admin.services import accounts
from ctrader_admin.services.accounts import WhiteLabelMove
from ctrader_admin.services.errors import InvalidInput
from ctrader_admin.services.validation import environment_of, parse_int, white_label_of
from ctrader_admin.ui import actions, theme
from ctrader_admin.ui.context import UiContext
from ctrader_admin.ui.form_tab import FORM_WIDTH, FormTab, tab_order
from ctrader_admin.ui.notify import Level
from ctrader_admin.ui.slots import async_slot
from ctrader_admin.ui.widgets import CopyableId, mark_invalid, refill

if TYPE_CHECKING:
    from ctrader_admin.store.profiles import Profile


class WhiteLabelTab(FormTab):
    title = "White Label"
    help_text = (
        "Move a trading account to another White Label (brokerName). Read the account first to "
        "see where it is; after the move the app reads it back to check that it really moved."
    )
    read_only_text = "This connection is read-only: accounts can be read, not moved."

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.account: Trader | None = None  # the last read, for the login it was read for
        self._known_environments: list[str] = []  # the directory's, for that login
        self.last_move: WhiteLabelMove | None = None

        self.login = QLineEdit()
        self.login.setObjectName("wlLogin")
        self.login.setPlaceholderText("Trading account login, e.g. 5200001")
        self.environment = QComboBox()
        self.environment.setObjectName("wlEnvironment")
        self.target = QComboBox()
        self.target.setObjectName("wlTarget")
        self.target.setToolTip("The White Label (brokerName) to move the account to")
        self.read_button = QPushButton("&Read account")
        self.read_button.setObjectName("wlReadButton")
        self.read_button.setToolTip("Show where the account is now; changes nothing (Enter)")
        self.move_button = QPushButton("&Move…")
        self.move_button.setObjectName("wlMoveButton")
        self.move_button.setToolTip("Shows from → to and asks for a reason before anything is sent")
        self.add_form(
            "Account to move",
            [
                ("&Login:", self.login),
                ("&Environment:", self.environment),
                ("&Target White Label:", self.target),
            ],
            [self.read_button, self.move_button],
        )
        self.fields: dict[str, QWidget] = {
            "Login": self.login,
            "Environment": self.environment,
            "White Label": self.target,
        }

        self.shown_login = CopyableId()
        self.current_wl = QLabel()
        self.current_wl.setObjectName("wlCurrent")
        bold = self.current_wl.font()
        bold.setBold(True)
        self.current_wl.setFont(bold)
        self.group = QLabel()
        self.group.setObjectName("wlGroup")
        self.name = QLabel()
        self.name.setObjectName("wlName")
        self.plan = QLabel()
        self.plan.setObjectName("wlPlan")
        self.read_at = QLabel()
        self.read_at.setObjectName("wlReadAt")
        self.shown_environment = QLabel()
        self.shown_environment.setObjectName("wlShownEnvironment")
        self.account_box = self.add_shown(
            "Account",
            "wlAccount",
            [
                ("Login:", self.shown_login),
                ("Environment:", self.shown_environment),
                ("White Label now:", self.current_wl),
                ("Group:", self.group),
                ("Name:", self.name),
                ("Move:", self.plan),
                ("", self.read_at),
            ],
        )

        self.verdict = QLabel()
        self.verdict.setObjectName("wlVerdict")
        self.verdict.setWordWrap(True)
        self.verdict.setMaximumWidth(FORM_WIDTH)
        self.verdict.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        big = self.verdict.font()
        big.setBold(True)
        big.setPointSizeF(big.pointSizeF() * 1.15)
        self.verdict.setFont(big)
        self.verdict.hide()
        self.body.addWidget(self.verdict)
        self.body.addStretch(1)

        tab_order(self.login, self.environment, self.target, self.read_button, self.move_button)

        self.login.returnPressed.connect(self._read)
        self.login.textEdited.connect(lambda _text: self.field_edited(self.login))
        self.read_button.clicked.connect(self._read)
        self.move_button.clicked.connect(self._move)
        self.login.textChanged.connect(self._forget_read)
        self.environment.currentTextChanged.connect(self._forget_verdict)
        self.environment.currentTextChanged.connect(self._environment_changed)
        for combo in (self.environment, self.target):
            combo.currentTextChanged.connect(lambda _text, w=combo: self.field_edited(w))
        self.target.currentTextChanged.connect(self._show_plan)
        self.on_session_changed()

    # --- profile -------------------------------------------------------------------------------

    def offer_choices(self, profile: Profile | None) -> None:
        refill(self.environment, list(profile.environments) if profile else [])
        refill(self.target, list(profile.broker_names) if profile else [])

    def forget_shown(self) -> None:
        self.show_account(None)

    def _refresh_controls(self) -> None:
        super()._refresh_controls()
        self.read_button.setEnabled(not self._working)
        self.move_button.setEnabled(self.writable() and not self._working)

    # --- read ----------------------------------------------------------------------------------

    def _parsed_login(self) -> int | None:
        mark_invalid(self.fields, {})
        try:
            login = parse_int("Login", self.login.text())
            environment_of(self.ctx.session.profile, self.environment.currentText())
        except InvalidInput as exc:
            self.show_invalid(exc, self.fields)
            return None
        return login

    @async_slot()
    async def _read(self) -> None:
        if self._working:
            return
        login = self._parsed_login()
        if login is None:
            return
        with self.working():
            session = self.ctx.session
            done = await self.runner.run(
                "Reading the account",
                lambda: accounts.read_account(session, login),
                controls=[self.read_button, self.move_button],
            )
            if done is None:
                self.show_account(None)
                return
            self._choose_environment(login)
            self.show_account(done.value)
            if self.target.currentText() == done.value.broker_name:
                other = [wl for wl in _items(self.target) if wl != done.value.broker_name]
                if other:  # "to" defaults to a White Label the account is not already on
                    self.target.setCurrentText(other[0])

    def _choose_environment(self, login: int) -> None:
        """The account's environment, when the local directory knows it, instead of whatever
        the list shows first (the server's answer does not say)."""
        known = accounts.known_environments(self.ctx.session, login)
        self._known_environments = known
        if len(known) == 1:
            self.environment.setCurrentText(known[0])

    def _show_environment(self) -> None:
        chosen = self.environment.currentText()
        known = self._known_environments
        if known == [chosen]:
            text = f"{chosen} (from the local directory)"
        elif chosen in known:
            text = f"{chosen} — this login is known on {' and '.join(known)}: check the choice"
        elif known:
            text = f"{chosen} — but the local directory knows this login on {', '.join(known)}"
        else:
            text = f"{chosen} — not known here (the server does not say): check the choice"
        self.shown_environment.setText(text)

    def show_account(self, account: Trader | None) -> None:
        self.account = account
        self.account_box.setVisible(account is not None)
        self._forget_verdict()
        if account is None:
            return
        self.shown_login.set_value(str(account.login))
        self._show_environment()
        self.current_wl.setText(account.broker_name or "(not returned)")
        self.group.setText(account.group_name or "—")
        name = " ".join(part for part in (account.name, account.last_name) if part)
        self.name.setText(name or "—")
        self.read_at.setText(f"Read from the server at {datetime.now():%H:%M:%S}.")
        self._show_plan()

    def _show_plan(self) -> None:
        if self.account is None:
            return
        current = self.account.broker_name or "?"
        target = self.target.currentText()
        if target == current:
            self.plan.setText(f"already on {current}: choose another target White Label")
        else:
            self.plan.setText(f"{current} → {target}")

    def _forget_read(self) -> None:
        """The login changed: what is shown belongs to another account."""
        if self.account is not None and self.login.text().strip() != str(self.account.login):
            self.show_account(None)
        self._forget_verdict()

    def _environment_changed(self) -> None:
        if self.account is not None:
            self._show_environment()

    def _forget_verdict(self) -> None:
        self.last_move = None
        self.verdict.hide()

    # --- move ----------------------------------------------------------------------------------

    @async_slot()
    async def _move(self) -> None:
        if self._working or not self.writable():
            return
        self._forget_verdict()  # a new attempt: the last one's verdict no longer applies
        login = self._parsed_login()
        if login is None:
            return
        target = self.target.currentText()
        try:
            white_label_of(self.ctx.session.profile, target)
        except InvalidInput as exc:
            self.show_invalid(exc, self.fields)
            return
        with self.working():
            move = await actions.move_account(
                self.ctx,
                self.runner,
                login=login,
                environment=self.environment.currentText(),
                target=target,
            )
            if move is not None:
                self.show_move(move)

    def show_move(self, move: WhiteLabelMove) -> None:
        """The read-back verdict, loud: confirmed, did NOT change, or could not be read back."""
        if self.account is not None and self.account.login == move.login and move.after:
            self.account = self.account.model_copy(update={"broker_name": move.after})
            self.current_wl.setText(move.after)
            self.read_at.setText(f"Read back from the server at {datetime.now():%H:%M:%S}.")
            if move.after != move.before:
                self.plan.setText(f"{move.before} → {move.after}  (done)")
        self.last_move = move
        if move.confirmed:
            text = (
                f"✔ Moved: account {move.login} is now on {move.after} (was {move.before}). "
                "Confirmed by reading it back."
            )
            level = Level.SUCCESS
        elif move.after is None:
            text = (
                f"? Could not read account {move.login} back after the move to {move.requested}: "
                "look it up to check its White Label."
            )
            level = Level.WARNING
        else:
            text = (
                f"✖ Did NOT change: account {move.login} is still on {move.after} after the move "
                f"to {move.requested} was sent."
            )
            level = Level.ERROR
        theme.set_panel(self.verdict, level.value)
        self.verdict.setText(text)
        self.verdict.show()


def _items(combo: QComboBox) -> list[str]:
    return [combo.itemText(index) for index in range(combo.count())]
