"""Register a partner, guided (flows 1 and 2 of docs/partners-and-attribution.md): find the
person, create their cTID user if they have none, choose user level or one of their accounts,
take the proposed code or type one, confirm with reason and ticket, set, read back. The steps are
services/partner_registration.py, the same that ``ctrader-admin partner register`` runs.
Opened from the Partners tab and from a user's case in Lookup."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialogButtonBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ctrader_admin.services import partner_registration as reg
from ctrader_admin.services import partners
from ctrader_admin.services.errors import InvalidInput
from ctrader_admin.services.validation import one_line
from ctrader_admin.ui import theme
from ctrader_admin.ui.context import UiContext
from ctrader_admin.ui.dialogs import FittedDialog
from ctrader_admin.ui.notify import Level, MessageBar
from ctrader_admin.ui.runner import BusyPanel
from ctrader_admin.ui.slots import async_slot, cancel_on_destroy
from ctrader_admin.ui.widgets import form, hint

INTRO = (
    "Find the partner by email, userId or login (user:…, login:… when a number could be "
    "either). A partner code marks the partner; it does not attribute any client."
)


class RegisterPartnerDialog(FittedDialog):
    def __init__(self, parent: QWidget | None, ctx: UiContext, *, query: str = "") -> None:
        super().__init__(parent, min_width=620)
        cancel_on_destroy(self)
        self.setObjectName("registerPartnerDialog")
        self.setWindowTitle("Register a partner")
        self.ctx = ctx
        self.person: reg.Person | None = None
        self.registration: reg.Registration | None = None
        self._proposal: reg.Proposal | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(hint(INTRO))

        who = QGroupBox("1. Partner")
        who_layout = QVBoxLayout(who)
        row = QHBoxLayout()
        self.query = QLineEdit(query)
        self.query.setObjectName("regQuery")
        self.query.setPlaceholderText("Email, userId or login")
        self.find_button = QPushButton("&Find")
        self.find_button.setObjectName("regFind")
        row.addWidget(self.query, 1)
        row.addWidget(self.find_button)
        who_layout.addLayout(row)
        self.found = QLabel()
        self.found.setObjectName("regFound")
        self.found.setWordWrap(True)
        who_layout.addWidget(self.found)
        self.create_row = QWidget()
        create_layout = QHBoxLayout(self.create_row)
        create_layout.setContentsMargins(0, 0, 0, 0)
        self.white_label = QComboBox()
        self.white_label.setObjectName("regWhiteLabel")
        self.white_label.addItems(list(ctx.session.profile.broker_names))
        self.create_button = QPushButton("Create cTID user…")
        self.create_button.setObjectName("regCreateUser")
        create_layout.addWidget(QLabel("White Label:"))
        create_layout.addWidget(self.white_label)
        create_layout.addWidget(self.create_button)
        create_layout.addStretch(1)
        who_layout.addWidget(self.create_row)
        layout.addWidget(who)

        self.code_box = QGroupBox("2. Where, and which code")
        fields = form()
        self.where = QComboBox()
        self.where.setObjectName("regWhere")
        # Its items arrive after the first show: it takes the row's width, not its first size.
        self.where.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.where.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.code = QLineEdit()
        self.code.setObjectName("regCode")
        self.code.setPlaceholderText("e.g. IB-1042")
        self.code_note = hint("")
        self.code_note.setObjectName("regCodeNote")
        fields.addRow("Register on:", self.where)
        fields.addRow("Partner code:", self.code)
        fields.addRow("", self.code_note)
        self.code_box.setLayout(fields)
        layout.addWidget(self.code_box)

        self.outcome = QLabel()
        self.outcome.setObjectName("regResult")
        self.outcome.setWordWrap(True)
        layout.addWidget(self.outcome)
        self.busy = BusyPanel()
        self.bar = MessageBar()
        layout.addWidget(self.busy)
        layout.addWidget(self.bar)
        self.runner = ctx.runner(self.bar, self.busy)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.register_button = QPushButton("&Register…")
        self.register_button.setObjectName("regRegister")
        self.buttons.addButton(self.register_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

        self.query.returnPressed.connect(self.find_person)
        self.find_button.clicked.connect(self.find_person)
        self.create_button.clicked.connect(self.create_user)
        self.register_button.clicked.connect(self.register)
        self.code.textChanged.connect(self._refresh)
        self.where.currentIndexChanged.connect(self._refresh)
        self.show_person(None)
        self.resize(self._min_width, 1)
        self.fit()

    # --- state ---------------------------------------------------------------------------------

    @property
    def read_only(self) -> bool:
        return self.ctx.session.profile.read_only

    def code_problem(self) -> str:
        """What is wrong with the typed code's form, in the rule's words; "" when it may go."""
        try:
            partners.validate_partner_id(self.code.text())
        except InvalidInput as exc:
            return one_line(exc)
        return ""

    def _refresh(self) -> None:
        person = self.person
        ready = person is not None and not person.needs_user
        self.code_box.setEnabled(ready)
        self.create_row.setVisible(person is not None and person.needs_user)
        self.create_button.setEnabled(not self.read_only)
        problem = self.code_problem() if ready else ""
        typed = bool(self.code.text())
        why = (
            self._proposal.why if self._proposal and self.code.text() == self._proposal.code else ""
        )
        self.code_note.setText(
            problem if typed and problem else (f"Proposed: {why}." if why else "")
        )
        theme.set_tone(self.code_note, theme.Tone.ERROR if typed and problem else None)
        self.code_note.setVisible(bool(self.code_note.text()))
        self.register_button.setEnabled(ready and typed and not problem and not self.read_only)
        self.register_button.setToolTip(
            problem or "Checks the code, then asks for reason and ticket"
        )

    def show_person(self, person: reg.Person | None, note: str = "") -> None:
        self.person = person
        self.where.clear()
        if person is None:
            self.found.setText("")
            self.found.setVisible(False)
            self._refresh()
            return
        lines = [f"Found: {person.describe()}."] if person.user_id else []
        lines += [*person.notes, *([note] if note else [])]
        if person.user_id is not None:
            lines.append(f"Code at user level now: {person.user_code or '(none)'}.")
            self.where.addItem(f"User level (user {person.user_id})", None)
            for account in person.accounts:
                now = account.partner_id or "none"
                self.where.addItem(f"{account.describe()} — now: {now}", account.login)
        self.found.setText("\n".join(lines))
        self.found.setVisible(True)
        self._proposal = reg.propose_code(
            self.ctx.backoffice.ledger, self.ctx.session.profile.id, person
        )
        if self._proposal is not None:
            self.code.setText(self._proposal.code)
        self._refresh()

    # --- steps ---------------------------------------------------------------------------------

    @async_slot()
    async def find_person(self) -> None:
        text = self.query.text()
        session = self.ctx.session
        self.outcome.setText("")
        done = await self.runner.run(
            "Finding the partner",
            lambda: reg.find_person(session, text),
            controls=[self.find_button],
        )
        self.show_person(done.value if done else None)

    @async_slot()
    async def create_user(self) -> None:
        person = self.person
        if person is None or not person.needs_user or self.read_only:
            return
        white_label = self.white_label.currentText()
        answer = await self.ctx.confirm(
            "Create cTID user",
            [("Email", person.email or ""), ("White Label", white_label)],
            action_label="Create",
        )
        if answer is None:
            return
        reason, ticket = answer
        session = self.ctx.session
        done = await self.runner.run(
            "Creating the cTID user",
            lambda: reg.ensure_user(
                session, person, broker_name=white_label, reason=reason, ticket=ticket
            ),
            controls=[self.create_button],
        )
        self.ctx.wrote()
        if done is not None:
            self.show_person(done.value.person, done.value.message)
            self.bar.show_message(Level.INFO, done.value.message)

    @async_slot()
    async def register(self) -> None:
        person = self.person
        if person is None or person.needs_user or self.read_only:
            return
        session, ledger = self.ctx.session, self.ctx.backoffice.ledger
        code, login = self.code.text(), self.where.currentData()
        self.outcome.setText("")
        checked = await self.runner.run(
            "Checking the code",
            lambda: reg.plan(session, ledger, person, code=code, account_login=login),
            controls=[self.register_button],
        )
        if checked is None:
            return
        plan = checked.value
        reason = ticket = ""
        if plan.changes:
            summary = plan.summary() + [("Note", w) for w in plan.warnings]
            answer = await self.ctx.confirm("Register a partner", summary, action_label="Register")
            if answer is None:
                self.bar.show_message(Level.INFO, "Not registered: nothing was sent.")
                return
            reason, ticket = answer
        done = await self.runner.run(
            "Registering the partner code",
            lambda: reg.execute(session, ledger, plan, reason=reason, ticket=ticket),
            controls=[self.register_button],
        )
        self.ctx.wrote()
        if done is not None:
            self.show_result(done.value)

    def show_result(self, registration: reg.Registration) -> None:
        self.registration = registration
        self.outcome.setText(registration.message())
        if registration.matches:
            tone = theme.Tone.SUCCESS
        elif registration.read_back_error is not None:
            tone = theme.Tone.WARNING
        else:
            tone = theme.Tone.ERROR
        theme.set_tone(self.outcome, tone)


async def open_register_dialog(ctx: UiContext, *, query: str = "") -> reg.Registration | None:
    """Show the dialog (finding ``query`` at once, when given) until it is closed; what it
    registered last, if anything."""
    from ctrader_admin.ui.dialogs import ask

    dialog = RegisterPartnerDialog(ctx.window, ctx, query=query)
    try:
        if query:
            dialog.find_person()
        await ask(dialog)
        return dialog.registration
    finally:
        dialog.deleteLater()
