"""Lookup: one box → the whole case: the user, every known linked account with its live
details, and the partnerId at user level and per account side by side, mismatches flagged.

Size (~550 lines): the search box, the case header and the case's actions share one case and
one selection; the home page, the accounts table, the referrals and the evidence export already
live apart (lookup_home.py, lookup_accounts.py, referrals_view.py, evidence_export.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ctrader_admin.services.id_kinds import Kind
from ctrader_admin.ui.context import LinkRequest, UiContext
from ctrader_admin.ui.lookup_home import LookupHome, RecentCases
from ctrader_admin.ui.notify import Level
from ctrader_admin.ui.slots import async_slot
from ctrader_admin.ui.tab import Tab
from ctrader_admin.ui.widgets import CopyableId, form, hint

if TYPE_CHECKING:
    from ctrader_admin.services.lookup import AccountRow, Ambiguous, Case, LookupResult
    from ctrader_admin.services.writes import PartnerTarget
    from ctrader_admin.ui.referrals_view import ReferralsView

# Lookup is the first screen, shown before the back office is loaded (app.py): the services it
# calls (and ui.actions, which uses them) are imported by the handlers, when a search or an
# action runs, never with the tab.

# How a kind is typed as a prefix: a recent case is kept in the form that finds it again.
_PREFIX = {Kind.USER: "user", Kind.LOGIN: "login", Kind.CTID: "ctid", Kind.PARTNER: "partner"}
# A row's identity across reloads: the selection stays on the same account.
_RowKey = tuple[int | None, int | None, str | None]


class LookupTab(Tab):
    title = "Lookup"
    help_text = (
        "Type an email, userId, login, ctidTraderAccountId or partner code (Ctrl+K from "
        "anywhere). Prefixes force the kind: user:123, login:123, ctid:123, partner:IB-1042."
    )

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.case: Case | None = None
        self._detecting = True  # the last search left the kind to the Detect box
        self.recent = RecentCases(ctx.settings)
        search_row = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setObjectName("lookupSearch")
        self.search.setPlaceholderText("Email, userId, login or ctidTraderAccountId")
        self.search.setClearButtonEnabled(True)
        self.kind = QComboBox()
        self.kind.setObjectName("lookupKind")
        self.kind.addItem("Detect", None)
        for kind in Kind:
            self.kind.addItem(kind.value, kind)
        self.search_button = QPushButton("Look up")
        self.search_button.setObjectName("lookupButton")
        self.search_button.setDefault(True)
        search_row.addWidget(self.search, 1)
        search_row.addWidget(self.kind)
        search_row.addWidget(self.search_button)
        self.body.addLayout(search_row)

        self.choice_row = QHBoxLayout()
        self.detected = QLabel()
        self.detected.setObjectName("lookupDetected")
        self.choice_label = QLabel()
        self.choice_row.addWidget(self.detected)
        self.choice_row.addWidget(self.choice_label)
        self.choice_buttons: list[QPushButton] = []
        self.choice_row.addStretch(1)
        self.body.addLayout(self.choice_row)
        # What a search says (busy, errors, results) goes right under the box, not at the bottom.
        for widget in (self.busy, self.bar):
            self.outer.removeWidget(widget)
            self.body.addWidget(widget)
        self.notes = QLabel()
        self.notes.setObjectName("caseNotes")
        self.notes.setWordWrap(True)
        self.body.addWidget(self.notes)

        self.home = LookupHome()
        self.body.addWidget(self.home, 1)

        # The case area (user, accounts, referrals) is built at the first case: the first
        # screen is the home page, and its Qt classes cost start-up time (benchmarks/startup.py).
        self._case_area_built = False

        self.search.returnPressed.connect(self._search)
        self.search_button.clicked.connect(self._search)
        self.home.chosen.connect(self.search_for)
        self.show_case(None)

    def _build_case_area(self) -> None:
        """The user box, the accounts table and the referrals, once: at the first case."""
        if self._case_area_built:
            return
        self._case_area_built = True
        # Qt's item-view classes are set up by PySide at their first import: here, not at start.
        from PySide6.QtCore import Qt
        from PySide6.QtGui import QKeySequence, QShortcut
        from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QSplitter, QTableView

        from ctrader_admin.ui import table_state
        from ctrader_admin.ui.lookup_accounts import AccountsModel

        self.user_box = QGroupBox("User")
        user_form = form()
        self.user_id = CopyableId()
        self.user_id.setObjectName("caseUserId")
        self.email = CopyableId()
        self.user_wl = QLabel()
        self.user_wl.setObjectName("caseUserWhiteLabel")
        self.user_partner = QLabel()
        self.user_partner.setObjectName("caseUserPartner")
        user_form.addRow("userId:", self.user_id)
        user_form.addRow("Email:", self.email)
        user_form.addRow("White Label:", self.user_wl)
        user_form.addRow("partnerId (user):", self.user_partner)
        user_buttons = QHBoxLayout()
        self.set_user_partner = QPushButton("Set partnerId…")
        self.delete_user_partner = QPushButton("Delete partnerId…")
        self.link_more = QPushButton("Link another account…")
        self.register_partner = QPushButton("Register as partner…")
        self.register_partner.setObjectName("caseRegisterPartner")
        self.register_partner.setToolTip(
            "Guided: choose the user level or one of the accounts, check the code, set it and "
            "read it back"
        )
        self.evidence_button = QPushButton("&Evidence pack…")
        self.evidence_button.setObjectName("caseEvidence")
        self.evidence_button.setToolTip(
            "PDF (and CSV) of this client's or partner's case: who it is attributed to, every "
            "source row, the journal entries and the journal's verification"
        )
        for button in (
            self.set_user_partner,
            self.delete_user_partner,
            self.link_more,
            self.register_partner,
            self.evidence_button,
        ):
            user_buttons.addWidget(button)
        user_buttons.addStretch(1)
        user_form.addRow(user_buttons)
        self.user_box.setLayout(user_form)
        self.body.addWidget(self.user_box)

        self.accounts_box = QGroupBox("Linked accounts")
        accounts_layout = form()
        self.unlinked_note = hint(
            "No cTID user is known here for this account. If it is not linked yet, link it to "
            "its user; if it is, import the CRM export that lists it."
        )
        self.unlinked_note.setObjectName("unlinkedNote")
        accounts_layout.addRow(self.unlinked_note)
        self.model = AccountsModel()
        self.table = QTableView()
        self.table.setObjectName("caseAccounts")
        self.table.setModel(self.model)
        table_state.remember_columns(self.table)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        accounts_layout.addRow(self.table)
        account_buttons = QHBoxLayout()
        self.link_account = QPushButton("Link to a cTID user…")
        self.link_account.setObjectName("linkUnlinked")
        self.copy_login = QPushButton("Copy login")
        self.copy_ctid = QPushButton("Copy ctidTraderAccountId")
        self.set_account_partner = QPushButton("Set partnerId…")
        self.delete_account_partner = QPushButton("Delete partnerId…")
        self.move_wl = QPushButton("Move to White Label…")
        for button in (
            self.link_account,
            self.copy_login,
            self.copy_ctid,
            self.set_account_partner,
            self.delete_account_partner,
            self.move_wl,
        ):
            account_buttons.addWidget(button)
        account_buttons.addStretch(1)
        accounts_layout.addRow(account_buttons)
        self.accounts_box.setLayout(accounts_layout)

        # A partner's referrals (the Partners tab's widget), built at the first partner case:
        # it reads the ledger, which the first window does without (app.py).
        self.referrals_box = QGroupBox("Referrals")
        self.referrals_box.setObjectName("caseReferrals")
        self.referrals_layout = QVBoxLayout(self.referrals_box)
        self.referrals: ReferralsView | None = None
        # The operator drags the line between accounts and referrals to see more of either.
        self.case_split = QSplitter(Qt.Orientation.Vertical)
        self.case_split.setChildrenCollapsible(False)
        self.case_split.addWidget(self.accounts_box)
        self.case_split.addWidget(self.referrals_box)
        self.body.addWidget(self.case_split, 1)

        self.set_user_partner.clicked.connect(self._set_user_partner)
        self.delete_user_partner.clicked.connect(self._delete_user_partner)
        self.link_more.clicked.connect(self._link_more)
        self.register_partner.clicked.connect(self._register_partner)
        self.evidence_button.clicked.connect(self._evidence)
        self.link_account.clicked.connect(self._link_unlinked)
        self.copy_login.clicked.connect(lambda: self._copy_selected(0))
        self.copy_ctid.clicked.connect(lambda: self._copy_selected(2))
        self.set_account_partner.clicked.connect(self._set_account_partner)
        self.delete_account_partner.clicked.connect(self._delete_account_partner)
        self.move_wl.clicked.connect(self._move_wl)
        self.table.selectionModel().selectionChanged.connect(self._refresh_buttons)
        copy = QShortcut(QKeySequence.StandardKey.Copy, self.table)
        copy.activated.connect(self._copy_cell)

    # --- entry points --------------------------------------------------------------------------

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def search_for(self, text: str) -> None:
        self.search.setText(text)
        self._search()

    # --- search --------------------------------------------------------------------------------

    @async_slot()
    async def _search(self, kind: Kind | None = None) -> None:
        from ctrader_admin.services.lookup import lookup

        text = self.search.text()
        chosen = kind or self.kind.currentData()
        self._detecting = chosen is None
        self.detected.setText("")
        self.notes.setText("")

        async def find() -> LookupResult:
            # Typed while the app is still opening its first profile: wait for it.
            return await lookup(await self.ctx.open_session(), text, chosen)

        done = await self.runner.run("Looking up", find, controls=[self.search_button])
        self._clear_choices()
        if done is None:
            self.show_case(None)  # no old case under the new error: it answers another search
        else:
            self._show_result(done.value)

    def _show_result(self, result: LookupResult, keep: _RowKey | None = None) -> None:
        from ctrader_admin.services.lookup import Ambiguous, NothingFound

        if isinstance(result, Ambiguous):
            self._offer_choices(result)
        elif isinstance(result, NothingFound):
            self.show_case(None)
            self.bar.show_message(Level.INFO, " ".join(result.notes) or "Nothing found.")
        else:
            self.show_case(result, keep=keep)
            self._remember(result)

    def _offer_choices(self, result: Ambiguous) -> None:
        self.choice_label.setText(f"{result.number} matches several kinds of id. It is a:")
        for kind in result.kinds:
            button = QPushButton(kind.value)
            button.setObjectName(f"choose-{kind.name.lower()}")
            button.clicked.connect(lambda _=False, k=kind: self._search(k))
            self.choice_row.insertWidget(self.choice_row.count() - 1, button)
            self.choice_buttons.append(button)

    def _clear_choices(self) -> None:
        self.choice_label.setText("")
        for button in self.choice_buttons:
            button.deleteLater()
        self.choice_buttons.clear()

    async def _reload(self) -> None:
        """Show the case again after a write, from fresh reads, the same account selected."""
        from ctrader_admin.services.lookup import lookup

        case = self.case
        if case is None:
            return
        row = self._selected()
        keep = (row.login, row.ctid_trader_account_id, row.environment) if row else None
        session = self.ctx.session
        done = await self.runner.run("Refreshing", lambda: lookup(session, case.query, case.kind))
        if done is not None:
            self._show_result(done.value, keep=keep)

    def _remember(self, case: Case) -> None:
        """The case goes first in the profile's recent cases, as a query that finds it again."""
        session = self.ctx.current_session
        if session is None or case.kind is None:
            return
        prefix = _PREFIX.get(case.kind)
        searched = case.searched_id
        query = f"{prefix}:{searched}" if prefix and searched is not None else case.query
        if case.user_id is not None:
            who = case.email or f"userId {case.user_id}"
            label = f"{who} · {len(case.accounts)} account(s)"
        else:
            label = "an account no cTID user is known for here"
        self.recent.add(session.profile.id, query, label)

    def _refresh_home(self) -> None:
        session = self.ctx.current_session
        if session is None:
            self.home.show_cases([], [])
            return
        profile_id = session.profile.id
        starting = self.ctx.backoffice.starting_cases.get(profile_id, ())
        self.home.show_cases(self.recent.entries(profile_id), starting)

    # --- display -------------------------------------------------------------------------------

    def show_case(self, case: Case | None, *, keep: _RowKey | None = None) -> None:
        self.case = case
        self.home.setVisible(case is None)
        if case is None and not self._case_area_built:
            self._refresh_home()
            return
        self._build_case_area()
        self.user_box.setVisible(case is not None and case.user_id is not None)
        self.accounts_box.setVisible(case is not None)
        self.case_split.setVisible(case is not None)  # empty, it would take the home's room
        self._show_referrals(case)
        if case is None:
            self.model.set_rows([])
            self._refresh_home()
            self._refresh_buttons()
            return
        if case.kind is not None:
            said = "Detected" if self._detecting else "Searched as"
            self.detected.setText(f"{said}: {case.kind.value}")
        self.user_id.set_value(str(case.user_id or ""))
        self.email.set_value(case.email or "")
        self.user_wl.setText(case.broker_name or "(not known here)")
        if case.partner_error:
            partner = f"(could not be read: {case.partner_error})"
        else:
            partner = case.partner_id or "(none)"
        if case.user_flags:
            partner += "   ⚠ " + "; ".join(case.user_flags)
        self.user_partner.setText(partner)
        unlinked = case.user_id is None
        self.accounts_box.setTitle(
            "Account — no cTID user known here" if unlinked else "Linked accounts"
        )
        self.unlinked_note.setVisible(unlinked)
        self.link_account.setVisible(unlinked)
        self.model.set_rows(list(case.accounts))
        self._select(self._row_to_select(case, keep))
        problems = case.problem_count
        lines = list(case.notes)
        if problems:
            lines.insert(
                0, f"⚠ {problems} account(s) carry a partnerId that differs from the user's."
            )
        self.notes.setText("\n".join(lines))
        self._refresh_buttons()

    def _show_referrals(self, case: Case | None) -> None:
        partner = case.user_id if case is not None and case.is_partner else None
        self.referrals_box.setVisible(partner is not None)
        if partner is None:
            if self.referrals is not None:
                self.referrals.clear()
            return
        if self.referrals is None:
            from ctrader_admin.ui.referrals_view import ReferralsView

            self.referrals = ReferralsView(self)
            self.referrals_layout.addWidget(self.referrals)
        self.referrals.show_partner(partner)

    @staticmethod
    def _row_to_select(case: Case, keep: _RowKey | None) -> int | None:
        """The account selected before a reload; else the one searched for; else none (an
        account-level action must never land on an account the operator did not pick)."""
        if keep is not None:
            for index, row in enumerate(case.accounts):
                if (row.login, row.ctid_trader_account_id, row.environment) == keep:
                    return index
        if len(case.accounts) == 1 and case.user_id is None:
            return 0  # the one account searched for by login
        return case.searched_row()

    def _select(self, index: int | None) -> None:
        self.table.clearSelection()
        if index is not None:
            self.table.selectRow(index)
            self.table.scrollTo(self.model.index(index, 0))

    def _selected(self) -> AccountRow | None:
        if not self._case_area_built:
            return None
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.model.rows[rows[0].row()]

    def _refresh_buttons(self) -> None:
        if not self._case_area_built:
            return
        row = self._selected()
        write = self.writable()
        has_user = self.case is not None and self.case.user_id is not None
        for button in (
            self.set_user_partner,
            self.delete_user_partner,
            self.link_more,
            self.register_partner,
        ):
            button.setEnabled(write and has_user)
        self.evidence_button.setEnabled(has_user)  # a read: read-only connections export too
        self.link_account.setEnabled(write and row is not None and row.login is not None)
        self.copy_login.setEnabled(row is not None and row.login is not None)
        self.copy_ctid.setEnabled(row is not None and row.linked)
        linked = row is not None and row.linked
        self.set_account_partner.setEnabled(write and linked)
        self.delete_account_partner.setEnabled(write and linked)
        self.move_wl.setEnabled(write and row is not None and row.login is not None)

    def on_session_changed(self) -> None:
        self.bar.hide()  # what was said was about the other profile's case
        self.detected.setText("")
        self.notes.setText("")
        self.show_case(None)

    def _copy_selected(self, column: int) -> None:
        row = self._selected()
        if row is not None:
            QGuiApplication.clipboard().setText(self.model.text(row, column))

    def _copy_cell(self) -> None:
        index = self.table.currentIndex()
        if index.isValid():
            QGuiApplication.clipboard().setText(str(self.model.data(index) or ""))

    # --- actions in place ----------------------------------------------------------------------

    def _account_target(self) -> PartnerTarget | None:
        from ctrader_admin.services.writes import LinkTarget

        row = self._selected()
        if row is None or row.ctid_trader_account_id is None or self.case is None:
            return None
        return LinkTarget(
            row.ctid_trader_account_id,
            self.case.user_id,
            login=row.login,
            environment=row.environment,
        )

    def _user_target(self) -> PartnerTarget | None:
        from ctrader_admin.services.writes import UserTarget

        if self.case is None or self.case.user_id is None:
            return None
        return UserTarget(self.case.user_id)

    @async_slot()
    async def _set_user_partner(self) -> None:
        await self._set_partner(self._user_target())

    @async_slot()
    async def _delete_user_partner(self) -> None:
        await self._delete_partner(self._user_target())

    @async_slot()
    async def _set_account_partner(self) -> None:
        await self._set_partner(self._account_target())

    @async_slot()
    async def _delete_account_partner(self) -> None:
        await self._delete_partner(self._account_target())

    async def _set_partner(self, target: PartnerTarget | None) -> None:
        from ctrader_admin.ui import actions

        if target is not None and await actions.set_partner(self.ctx, self.runner, target):
            await self._reload_keeping_message()

    async def _delete_partner(self, target: PartnerTarget | None) -> None:
        from ctrader_admin.ui import actions

        if target is not None and await actions.delete_partner(self.ctx, self.runner, target):
            await self._reload_keeping_message()

    async def _reload_keeping_message(self) -> None:
        """The write's outcome stays on screen over the refreshed case."""
        level, message = self.bar.level, self.bar.label.text()
        await self._reload()
        if self.bar.isHidden():
            self.bar.show_message(level, message)

    @async_slot()
    async def _move_wl(self) -> None:
        from ctrader_admin.ui import actions

        row = self._selected()
        if row is None or row.login is None:
            return
        environments = self.ctx.session.profile.environments
        environment = row.environment or (environments[0] if len(environments) == 1 else None)
        if environment is None:
            self.bar.show_message(
                Level.ERROR,
                f"The environment of account {row.login} is not known here: move it from the "
                "White Label tab, where you choose the environment.",
            )
            return
        move = await actions.move_account(
            self.ctx, self.runner, login=row.login, environment=environment
        )
        if move is not None:
            await self._reload_keeping_message()

    @async_slot()
    async def _register_partner(self) -> None:
        from ctrader_admin.ui.register_partner_dialog import open_register_dialog

        case = self.case
        if case is None or case.user_id is None:
            return
        done = await open_register_dialog(self.ctx, query=f"user:{case.user_id}")
        if done is not None:
            self.bar.show_message(Level.SUCCESS if done.matches else Level.WARNING, done.message())
            await self._reload_keeping_message()

    @async_slot()
    async def _evidence(self) -> None:
        # Here, not at the top: the first window loads none of the services (tests/ui/test_start).
        from ctrader_admin.ui.evidence_export import export_evidence

        case = self.case
        if case is None or case.user_id is None:
            return
        if case.is_partner:
            await export_evidence(self, self, partner=case.user_id)
        else:
            await export_evidence(self, self, client=case.user_id)

    def _link_more(self) -> None:
        if self.case is None or self.case.user_id is None:
            return
        self.ctx.link_requested.emit(LinkRequest(user_id=self.case.user_id))

    def _link_unlinked(self) -> None:
        """An account no user is known for: the Accounts tab with what is known of it."""
        row = self._selected()
        if row is None or row.login is None:
            return
        self.ctx.link_requested.emit(
            LinkRequest(login=row.login, environment=row.environment, white_label=row.broker_name)
        )
