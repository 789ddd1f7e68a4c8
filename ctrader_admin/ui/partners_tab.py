"""Partners: the partner code (partnerId) registered on a partner's user or on one of the
partner's account links — read, set or delete it (the shared flows show the current value and
ask before overwriting or deleting) — and, below, every partner known here with its referrals
and the attribution conflicts (ui/partner_registry.py). A partnerId marks a partner; it does not
attribute a client."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QWidget,
)

from ctrader_admin.api import Referral
from ctrader_admin.services import partners
from ctrader_admin.services.errors import InvalidInput
from ctrader_admin.services.partners import PartnerChange
from ctrader_admin.services.validation import parse_int
from ctrader_admin.services.writes import LinkTarget, PartnerTarget, UserTarget
from ctrader_admin.ui import actions
from ctrader_admin.ui.context import UiContext
from ctrader_admin.ui.form_tab import FORM_WIDTH, FormTab, tab_order
from ctrader_admin.ui.notify import Level
from ctrader_admin.ui.partner_registry import PartnerRegistryView
from ctrader_admin.ui.runner import Runner
from ctrader_admin.ui.slots import async_slot
from ctrader_admin.ui.widgets import form, hint, mark_invalid

OWNER = "Owner userId"
USER_ID_LABEL = "user&Id:"
CTID_LABEL = "ctidTraderAccount&Id:"


class PartnersTab(FormTab):
    title = "Partners"
    help_text = (
        "A partnerId is the partner code registered on a partner's own user or on one of their "
        "account links; the links they share carry it. Clients normally have none. Below: who "
        "each partner referred, from cTrader Invite, the IB labels and the CRM export."
    )
    read_only_text = "This connection is read-only: partnerIds can be read, not changed."

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.shown_target: PartnerTarget | None = None

        self.user_level = QRadioButton("&User")
        self.user_level.setObjectName("partnerLevelUser")
        self.account_level = QRadioButton("&Account link")
        self.account_level.setObjectName("partnerLevelAccount")
        self.user_level.setChecked(True)
        self.levels = QButtonGroup(self)
        self.levels.addButton(self.user_level)
        self.levels.addButton(self.account_level)
        level_row = QHBoxLayout()
        level_row.addWidget(self.user_level)
        level_row.addWidget(self.account_level)
        level_row.addStretch(1)
        self.level_label = QLabel("Level:")
        self.target_id = QLineEdit()
        self.target_id.setObjectName("partnerTargetId")
        self.id_label = QLabel()
        self.id_label.setBuddy(self.target_id)
        self.owner = QLineEdit()
        self.owner.setObjectName("partnerOwner")
        self.owner_label = QLabel("&Owner userId:")
        self.owner_label.setBuddy(self.owner)
        self.owner_note = hint(
            "Needed only to delete an account-level partnerId when the link is not in the\n"
            "local directory. Read fills it in when the server names the owner."
        )
        self.owner_note.setWordWrap(False)  # a wrapped label in a form row is cut short
        self.read_button = QPushButton("&Read")
        self.read_button.setObjectName("partnerReadButton")
        self.read_button.setToolTip("Show the current partnerId; changes nothing (Enter)")
        self.set_button = QPushButton("&Set partnerId…")
        self.set_button.setObjectName("partnerSetButton")
        self.set_button.setToolTip("Shows the current value and asks before overwriting it")
        self.delete_button = QPushButton("&Delete partnerId…")
        self.delete_button.setObjectName("partnerDeleteButton")
        self.delete_button.setToolTip("Shows the current value and asks before deleting it")
        self.add_form(
            "Partner code (partnerId)",
            [
                (self.level_label, level_row),
                (self.id_label, self.target_id),
                (self.owner_label, self.owner),
                ("", self.owner_note),
            ],
            [self.read_button, self.set_button, self.delete_button],
        )

        self.current_box = QGroupBox("Current value")
        self.current_box.setObjectName("partnerCurrent")
        self.current_box.setMaximumWidth(FORM_WIDTH)
        shown = self.shown_form = form()
        self.shown_what = QLabel()
        self.shown_what.setObjectName("partnerShownTarget")
        self.partner_id = QLabel()
        self.partner_id.setObjectName("partnerValue")
        bold = self.partner_id.font()
        bold.setBold(True)
        self.partner_id.setFont(bold)
        self.shown_owner = QLabel()
        self.shown_owner.setObjectName("partnerShownOwner")
        self.read_at = QLabel()
        shown.addRow("Target:", self.shown_what)
        shown.addRow("partnerId:", self.partner_id)
        shown.addRow("Owner userId:", self.shown_owner)
        shown.addRow("", self.read_at)
        self.current_box.setLayout(shown)
        self.current_box.hide()
        self.body.addWidget(self.current_box)
        register_row = QHBoxLayout()
        self.register_button = QPushButton("Re&gister a partner…")
        self.register_button.setObjectName("partnerRegisterButton")
        self.register_button.setToolTip(
            "Guided: find the person, create their cTID user if needed, choose where, check "
            "the code, set it and read it back"
        )
        self.bulk_note = hint(
            "Registering the codes of many partners at once (e.g. when cTrader Invite is turned "
            "on): a CSV in the Jobs tab."
        )
        self.bulk_note.setObjectName("partnerBulkNote")
        register_row.addWidget(self.register_button)
        register_row.addWidget(self.bulk_note, 1)
        self.body.addLayout(register_row)
        self.registry = PartnerRegistryView(self)
        self.body.addWidget(self.registry, 1)

        tab_order(
            self.user_level,
            self.account_level,
            self.target_id,
            self.owner,
            self.read_button,
            self.set_button,
            self.delete_button,
        )

        for line in (self.target_id, self.owner):
            line.returnPressed.connect(self._read)
            # A corrected field loses its outline and its part of the message as it is edited.
            line.textEdited.connect(lambda _text, w=line: self.field_edited(w))
        self.read_button.clicked.connect(self._read)
        self.set_button.clicked.connect(self._set)
        self.delete_button.clicked.connect(self._delete)
        self.register_button.clicked.connect(self._register)
        self.user_level.toggled.connect(self._level_changed)
        # Switching the level must not move the form under the mouse: the owner row stays (it is
        # disabled at user level), and the id's label column keeps the width of its longer text.
        widths = []
        for text in (USER_ID_LABEL, CTID_LABEL):
            self.id_label.setText(text)
            widths.append(self.id_label.sizeHint().width())
        self.id_label.setMinimumWidth(max(widths))
        self.id_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.target_id.textChanged.connect(self.forget_shown)
        self._level_changed()
        self.on_session_changed()

    # --- form ----------------------------------------------------------------------------------

    @property
    def id_name(self) -> str:
        return "userId" if self.user_level.isChecked() else "ctidTraderAccountId"

    @property
    def fields(self) -> dict[str, QWidget]:
        return {self.id_name: self.target_id, OWNER: self.owner}

    def _level_changed(self) -> None:
        account = self.account_level.isChecked()
        self.id_label.setText(CTID_LABEL if account else USER_ID_LABEL)
        self.target_id.setPlaceholderText(
            "ctidTraderAccountId (the link's id), e.g. 4000001" if account else "e.g. 1000001"
        )
        for widget in (self.owner_label, self.owner, self.owner_note):
            widget.setEnabled(account)
        self.owner.setPlaceholderText(
            "Optional: the userId the account is linked to" if account else "Account links only"
        )
        for line in (self.target_id, self.owner):
            self.field_edited(line)  # another level: what was wrong with the last one goes
        self.forget_shown()

    def _target(self) -> PartnerTarget | None:
        """The target typed in the form, or None after showing what is wrong (nothing sent)."""
        fields = self.fields
        mark_invalid(fields, {})
        try:
            target_id = parse_int(self.id_name, self.target_id.text())
            assert target_id is not None
            if self.user_level.isChecked():
                return UserTarget(target_id)
            owner = parse_int(OWNER, self.owner.text(), required=False)
            return LinkTarget(target_id, owner)
        except InvalidInput as exc:
            self.show_invalid(exc, fields)
            return None

    # --- profile -------------------------------------------------------------------------------

    def on_session_changed(self) -> None:
        super().on_session_changed()
        self.registry.on_session_changed()

    def _refresh_controls(self) -> None:
        super()._refresh_controls()
        write = self.writable() and not self._working
        self.read_button.setEnabled(not self._working)
        self.set_button.setEnabled(write)
        self.delete_button.setEnabled(write)
        self.register_button.setEnabled(write)

    # --- read ----------------------------------------------------------------------------------

    @async_slot()
    async def _read(self) -> None:
        if self._working:
            return
        target = self._target()
        if target is None:
            return
        with self.working():
            session = self.ctx.session
            done = await self.runner.run(
                "Reading the partnerId",
                lambda: partners.read_referral(session, target),
                controls=[self.read_button, self.set_button, self.delete_button],
            )
            if done is None:
                self.forget_shown()
                return
            self.show_record(target, done.value)

    def show_record(self, target: PartnerTarget, record: Referral | None) -> None:
        owner = record.user_id if record is not None and isinstance(target, LinkTarget) else None
        self.show_value(target, record.partner_id if record else None, owner=owner)
        if owner is not None and not self.owner.text().strip():
            self.owner.setText(str(owner))
        if record is None:
            self.bar.show_message(Level.INFO, f"{target.describe()} has no partnerId.")
        else:
            self.bar.show_message(
                Level.INFO, f"partnerId of {target.describe()}: {record.partner_id}."
            )

    def show_value(
        self,
        target: PartnerTarget,
        partner_id: str | None,
        *,
        owner: int | None = None,
        how: str = "Read from the server",
    ) -> None:
        self.shown_target = target
        self.current_box.show()
        self.shown_what.setText(target.describe())
        self.partner_id.setText(partner_id or "(none)")
        known_owner = owner or (target.owner if isinstance(target, LinkTarget) else None)
        self.shown_owner.setText(str(known_owner) if known_owner else "not known here")
        self.shown_form.setRowVisible(self.shown_owner, isinstance(target, LinkTarget))
        self.read_at.setText(f"{how} at {datetime.now():%H:%M:%S}.")

    def forget_shown(self) -> None:
        self.shown_target = None
        self.current_box.hide()

    # --- set / delete --------------------------------------------------------------------------

    async def _change(
        self,
        act: Callable[[UiContext, Runner, PartnerTarget], Awaitable[PartnerChange | None]],
        show: Callable[[PartnerTarget, PartnerChange], None],
    ) -> None:
        """Set or delete the partnerId of the target typed in the form, and show the result."""
        if self._working or not self.writable():
            return
        target = self._target()
        if target is None:
            return
        with self.working():
            change = await act(self.ctx, self.runner, target)
            if change is not None:
                show(target, change)

    @async_slot()
    async def _set(self) -> None:
        await self._change(
            actions.set_partner,
            lambda target, change: self.show_value(target, change.after, how="Set"),
        )

    @async_slot()
    async def _register(self) -> None:
        if self._working or not self.writable():
            return
        from ctrader_admin.ui.register_partner_dialog import open_register_dialog

        with self.working():
            if await open_register_dialog(self.ctx) is not None:
                self.registry.on_session_changed()  # the new code is in the registry

    @async_slot()
    async def _delete(self) -> None:
        await self._change(actions.delete_partner, self._show_deleted)

    def _show_deleted(self, _typed: PartnerTarget, change: PartnerChange) -> None:
        # The owner of a link (the delete needs it) is resolved when the change is prepared.
        if isinstance(change.target, LinkTarget) and change.target.owner is not None:
            self.owner.setText(str(change.target.owner))
        self.show_value(change.target, None, how="Deleted")
