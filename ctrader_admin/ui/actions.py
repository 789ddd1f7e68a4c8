"""Write actions shared by several tabs (Lookup acts in place; Partners and White Label are the
dedicated screens). Each one: validate → show the current value → confirm with reason and ticket
→ send through the service → say what happened."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QComboBox,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ctrader_admin.services import accounts, partners
from ctrader_admin.services.accounts import WhiteLabelMove
from ctrader_admin.services.errors import InvalidInput
from ctrader_admin.services.partners import PartnerChange, PartnerTarget
from ctrader_admin.services.validation import environment_of, white_label_of
from ctrader_admin.ui import theme
from ctrader_admin.ui.context import UiContext
from ctrader_admin.ui.dialogs import FittedDialog, ask
from ctrader_admin.ui.notify import Level, MessageBar
from ctrader_admin.ui.runner import Runner
from ctrader_admin.ui.widgets import form


class ValueDialog(FittedDialog):
    """Asks for one value, showing the current one. Typed text is checked as it is typed, by
    ``check`` (the services' own rule: it raises InvalidInput in the rule's words), and OK stays
    disabled while it fails; ``choices`` offers a closed list instead (nothing else can be sent).
    """

    def __init__(
        self,
        parent: QWidget | None,
        *,
        title: str,
        label: str,
        current: str | None,
        check: Callable[[str], object] | None = None,
        choices: list[str] | None = None,
        no_choice: str = "",
    ) -> None:
        super().__init__(parent, min_width=420)
        self.setObjectName("valueDialog")
        self.setWindowTitle(title)
        self._check = check
        layout = QVBoxLayout(self)
        fields = form()
        fields.addRow("Current:", QLabel(current or "(none)"))
        self.editor: QLineEdit | QComboBox
        if choices is not None:
            combo = QComboBox()
            combo.addItems(choices)
            self.editor = combo
        else:
            line = QLineEdit()
            line.textChanged.connect(self._refresh)
            self.editor = line
        self.editor.setObjectName("valueEditor")
        fields.addRow(f"{label}:", self.editor)
        layout.addLayout(fields)
        self.problem = QLabel(no_choice if choices == [] else "")
        self.problem.setObjectName("valueProblem")
        self.problem.setWordWrap(True)
        theme.set_tone(self.problem, theme.Tone.ERROR)
        layout.addWidget(self.problem)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.editor.setFocus()
        self._refresh()
        self.resize(self._min_width, 1)
        self.fit()

    def problem_text(self) -> str:
        """What is wrong with the value, in the rule's words; "" when it can be sent."""
        if isinstance(self.editor, QComboBox):
            return "" if self.editor.currentText() else self.problem.text() or "Nothing to choose"
        if self._check is None:
            return ""
        try:
            self._check(self.editor.text())
        except InvalidInput as exc:
            return "; ".join(f"{label}: {what}" for label, what in exc.problems.items())
        return ""

    def _refresh(self) -> None:
        problem = self.problem_text()
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(not problem)
        ok.setToolTip(problem)
        # An untouched empty field only disables OK: it is not an error yet.
        typed = isinstance(self.editor, QLineEdit) and bool(self.editor.text())
        if isinstance(self.editor, QLineEdit):
            self.problem.setText(problem if typed else "")
        self.problem.setVisible(bool(self.problem.text()))

    def accept(self) -> None:
        if not self.problem_text():  # Enter in the field must not send what OK would refuse
            super().accept()

    def value(self) -> str:
        if isinstance(self.editor, QComboBox):
            return self.editor.currentText()
        return self.editor.text()


async def set_partner(
    ctx: UiContext, runner: Runner, target: PartnerTarget, *, new_value: str | None = None
) -> PartnerChange | None:
    """Read the current partnerId, ask for the new one (unless given), confirm, send."""
    session = ctx.session
    read = await runner.run(
        "Reading the current partnerId", lambda: partners.read_partner(session, target)
    )
    if read is None:
        return None
    current = read.value
    if new_value is None:
        dialog = ValueDialog(
            ctx.window,
            title=f"Set partnerId — {target.describe()}",
            label="New partnerId",
            current=current,
            check=partners.validate_partner_id,
        )
        try:
            if not await ask(dialog):
                return None
            new_value = dialog.value()
        finally:
            dialog.deleteLater()
    try:
        new_value = partners.validate_partner_id(new_value)
    except InvalidInput as exc:
        runner.bar.show_error(exc)
        return None
    if new_value == current:
        runner.bar.show_message(
            Level.INFO, f"{target.describe()} already has partnerId {current}: nothing sent."
        )
        return None
    change = f"{current} → {new_value}  (overwrites)" if current else f"(none) → {new_value}"
    answer = await ctx.confirm(
        "Set partnerId", [("Target", target.describe()), ("partnerId", change)], action_label="Set"
    )
    if answer is None:
        return None
    reason, ticket = answer
    done = await runner.run(
        "Setting the partnerId",
        lambda: partners.set_partner(session, target, new_value, reason=reason, ticket=ticket),
    )
    ctx.wrote()
    if done is None:
        return None
    runner.bar.show_message(Level.SUCCESS, f"partnerId of {target.describe()} is now {new_value}.")
    return done.value


async def delete_partner(
    ctx: UiContext, runner: Runner, target: PartnerTarget
) -> PartnerChange | None:
    session = ctx.session
    read = await runner.run(
        "Reading the current partnerId", lambda: partners.read_partner(session, target)
    )
    if read is None:
        return None
    if read.value is None:
        runner.bar.show_message(
            Level.INFO, f"{target.describe()} has no partnerId: nothing to delete."
        )
        return None
    answer = await ctx.confirm(
        "Delete partnerId",
        [("Target", target.describe()), ("partnerId", f"{read.value} → (none)")],
        action_label="Delete",
        destructive=True,
    )
    if answer is None:
        return None
    reason, ticket = answer
    done = await runner.run(
        "Deleting the partnerId",
        lambda: partners.delete_partner(session, target, reason=reason, ticket=ticket),
    )
    ctx.wrote()
    if done is None:
        return None
    runner.bar.show_message(
        Level.SUCCESS, f"partnerId {read.value} removed from {target.describe()}."
    )
    return done.value


async def move_account(
    ctx: UiContext,
    runner: Runner,
    *,
    login: int,
    environment: str,
    target: str | None = None,
) -> WhiteLabelMove | None:
    """Read the account, ask for the target White Label (unless given), confirm, send, read back."""
    session = ctx.session
    read = await runner.run("Reading the account", lambda: accounts.read_account(session, login))
    if read is None:
        return None
    current = read.value.broker_name
    if target is None:
        # Only the connection's White Labels: free text would spend a write on a refusal.
        choices = [wl for wl in session.profile.broker_names if wl != current]
        dialog = ValueDialog(
            ctx.window,
            title=f"Move account {login} ({environment}) to another White Label",
            label="Target White Label",
            current=current,
            choices=choices,
            no_choice="This connection lists no other White Label to move the account to.",
        )
        try:
            if not await ask(dialog):
                return None
            target = dialog.value()
        finally:
            dialog.deleteLater()
    try:  # the checks of the service, before the operator is asked to confirm
        environment = environment_of(session.profile, environment)
        target = white_label_of(session.profile, target or "")
    except InvalidInput as exc:
        runner.bar.show_error(exc)
        return None
    if target == current:
        runner.bar.show_message(
            Level.INFO, f"Account {login} is already on {current}: nothing sent."
        )
        return None
    answer = await ctx.confirm(
        "Move account to another White Label",
        [
            ("Account", f"{login} ({environment})"),
            ("White Label", f"{current} → {target}"),
        ],
        action_label="Move",
    )
    if answer is None:
        return None
    reason, ticket = answer
    done = await runner.run(
        "Moving the account",
        lambda: accounts.move_white_label(
            session,
            login=login,
            environment=environment,
            target_broker_name=target,
            reason=reason,
            ticket=ticket,
        ),
    )
    ctx.wrote()
    if done is None:
        return None
    show_move_result(runner.bar, done.value)
    return done.value


def show_move_result(bar: MessageBar, move: WhiteLabelMove) -> None:
    if move.confirmed:
        bar.show_message(
            Level.SUCCESS,
            f"Account {move.login}: {move.before} → {move.after}. Read back from the server: "
            "the White Label really changed.",
        )
    elif move.after is None:
        bar.show_message(
            Level.WARNING,
            f"The move of account {move.login} was sent, but reading it back failed "
            f"({move.read_back_error}). Look the account up to check its White Label.",
        )
    else:
        bar.show_message(
            Level.ERROR,
            f"Account {move.login} is still on {move.after} after the move to {move.requested} "
            "was sent: the White Label did NOT change.",
        )
