"""Lookup: one box → the whole case: the user, every known linked account with its live
details, and the partnerId at user level and per account side by side, mismatches flagged."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QWidget,
)

from ctrader_admin.services.id_kinds import Kind
from ctrader_admin.ui import table_state, theme
from ctrader_admin.ui.context import UiContext
from ctrader_admin.ui.notify import Level
from ctrader_admin.ui.slots import async_slot
from ctrader_admin.ui.tab import Tab
from ctrader_admin.ui.widgets import CopyableId, form

if TYPE_CHECKING:
    from ctrader_admin.services.lookup import AccountRow, Ambiguous, Case
    from ctrader_admin.services.partners import PartnerTarget

# Lookup is the first screen, shown before the back office is loaded (app.py): the services it
# calls (and ui.actions, which uses them) are imported by the handlers, when a search or an
# action runs, never with the tab.

_Index = QModelIndex | QPersistentModelIndex


def money_text(row: AccountRow, field: str) -> str:
    trader = row.trader
    if trader is None:
        return ""
    value = trader.money(field)
    if value is None:
        return ""
    return f"{value:,.{trader.money_digits}f} {trader.deposit_currency or ''}".strip()


class AccountsModel(QAbstractTableModel):
    COLUMNS = (
        "Login",
        "Env",
        "ctidTraderAccountId",
        "White Label",
        "Group",
        "Balance",
        "Access",
        "partnerId (account)",
        "Attribution",
    )

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[AccountRow] = []

    def set_rows(self, rows: list[AccountRow]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

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
            return self.text(row, column)
        if role == Qt.ItemDataRole.BackgroundRole and row.flags and column in (7, 8):
            return QBrush(theme.colours(theme.Tone.ERROR)[0])
        if role == Qt.ItemDataRole.DecorationRole and column == 1 and row.environment:
            # Live or demo on every row, in a picture as well as in words.
            return theme.environment_icon(theme.is_live_environment(row.environment))
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == 1 or column == 3:
                return row.trader_error
            if column in (7, 8):
                return row.partner_error or "; ".join(row.flags) or None
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 5:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def text(row: AccountRow, column: int) -> str:
        trader = row.trader
        if column == 0:
            return str(row.login or "")
        if column == 1:
            return row.environment or ""
        if column == 2:
            return str(row.ctid_trader_account_id or "")
        if column == 3:
            return row.broker_name or ("(unreadable)" if row.trader_error else "")
        if column == 4:
            return (trader.group_name or "") if trader else ""
        if column == 5:
            return money_text(row, "balance")
        if column == 6:
            return (trader.access_rights or "") if trader else ""
        if column == 7:
            if row.partner_error:
                return "(unreadable)"
            return row.partner_id or ("—" if row.ctid_trader_account_id else "")
        if column == 8:
            return "⚠ " + "; ".join(row.flags) if row.flags else ""
        return ""


class LookupTab(Tab):
    title = "Lookup"
    help_text = (
        "Type an email, userId, login or ctidTraderAccountId (Ctrl+K from anywhere). "
        "Prefixes force the kind: user:123, login:123, ctid:123."
    )

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.case: Case | None = None
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
        self.choice_label = QLabel()
        self.choice_row.addWidget(self.choice_label)
        self.choice_buttons: list[QPushButton] = []
        self.choice_row.addStretch(1)
        self.body.addLayout(self.choice_row)

        self.user_box = QGroupBox("User")
        user_form = form()
        self.user_id = CopyableId()
        self.user_id.setObjectName("caseUserId")
        self.email = CopyableId()
        self.user_wl = QLabel()
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
        for button in (self.set_user_partner, self.delete_user_partner, self.link_more):
            user_buttons.addWidget(button)
        user_buttons.addStretch(1)
        user_form.addRow(user_buttons)
        self.user_box.setLayout(user_form)
        self.body.addWidget(self.user_box)

        self.accounts_box = QGroupBox("Linked accounts")
        accounts_layout = form()
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
        self.copy_login = QPushButton("Copy login")
        self.copy_ctid = QPushButton("Copy ctidTraderAccountId")
        self.set_account_partner = QPushButton("Set partnerId…")
        self.delete_account_partner = QPushButton("Delete partnerId…")
        self.move_wl = QPushButton("Move to White Label…")
        for button in (
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
        self.body.addWidget(self.accounts_box, 1)
        self.notes = QLabel()
        self.notes.setObjectName("caseNotes")
        self.notes.setWordWrap(True)
        self.body.addWidget(self.notes)

        self.search.returnPressed.connect(self._search)
        self.search_button.clicked.connect(self._search)
        self.set_user_partner.clicked.connect(self._set_user_partner)
        self.delete_user_partner.clicked.connect(self._delete_user_partner)
        self.link_more.clicked.connect(self._link_more)
        self.copy_login.clicked.connect(lambda: self._copy_selected(0))
        self.copy_ctid.clicked.connect(lambda: self._copy_selected(2))
        self.set_account_partner.clicked.connect(self._set_account_partner)
        self.delete_account_partner.clicked.connect(self._delete_account_partner)
        self.move_wl.clicked.connect(self._move_wl)
        self.table.selectionModel().selectionChanged.connect(self._refresh_buttons)
        copy = QShortcut(QKeySequence.StandardKey.Copy, self.table)
        copy.activated.connect(self._copy_cell)
        self.show_case(None)

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
        from ctrader_admin.services.lookup import Ambiguous, LookupResult, NothingFound, lookup

        text = self.search.text()
        chosen = kind or self.kind.currentData()

        async def find() -> LookupResult:
            # Typed while the app is still opening its first profile: wait for it.
            return await lookup(await self.ctx.open_session(), text, chosen)

        done = await self.runner.run("Looking up", find, controls=[self.search_button])
        self._clear_choices()
        if done is None:
            return
        result = done.value
        if isinstance(result, Ambiguous):
            self._offer_choices(result)
        elif isinstance(result, NothingFound):
            self.show_case(None)
            self.bar.show_message(Level.INFO, " ".join(result.notes) or "Nothing found.")
        else:
            self.show_case(result)

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
        """Show the case again after a write, from fresh reads."""
        from ctrader_admin.services.lookup import user_case

        if self.case is not None and self.case.user_id is not None:
            session = self.ctx.session
            user_id = self.case.user_id
            done = await self.runner.run("Refreshing", lambda: user_case(session, user_id))
            if done is not None:
                self.show_case(done.value)

    # --- display -------------------------------------------------------------------------------

    def show_case(self, case: Case | None) -> None:
        self.case = case
        self.user_box.setVisible(case is not None and case.user_id is not None)
        self.accounts_box.setVisible(case is not None)
        if case is None:
            self.model.set_rows([])
            self.notes.setText("")
            self._refresh_buttons()
            return
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
        self.model.set_rows(list(case.accounts))
        if case.accounts:
            self.table.selectRow(0)
        problems = case.problem_count
        lines = list(case.notes)
        if problems:
            lines.insert(0, f"⚠ {problems} attribution problem(s) to check.")
        self.notes.setText("\n".join(lines))
        self._refresh_buttons()

    def _selected(self) -> AccountRow | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.model.rows[rows[0].row()]

    def _refresh_buttons(self) -> None:
        row = self._selected()
        write = self.writable()
        has_user = self.case is not None and self.case.user_id is not None
        for button in (self.set_user_partner, self.delete_user_partner, self.link_more):
            button.setEnabled(write and has_user)
        self.copy_login.setEnabled(row is not None and row.login is not None)
        self.copy_ctid.setEnabled(row is not None and row.ctid_trader_account_id is not None)
        linked = row is not None and row.ctid_trader_account_id is not None
        self.set_account_partner.setEnabled(write and linked)
        self.delete_account_partner.setEnabled(write and linked)
        self.move_wl.setEnabled(write and row is not None and row.login is not None)

    def on_session_changed(self) -> None:
        self.show_case(None)

    def _copy_selected(self, column: int) -> None:
        row = self._selected()
        if row is not None:
            QGuiApplication.clipboard().setText(AccountsModel.text(row, column))

    def _copy_cell(self) -> None:
        index = self.table.currentIndex()
        if index.isValid():
            QGuiApplication.clipboard().setText(str(self.model.data(index) or ""))

    # --- actions in place ----------------------------------------------------------------------

    def _account_target(self) -> PartnerTarget | None:
        from ctrader_admin.services.partners import PartnerTarget

        row = self._selected()
        if row is None or row.ctid_trader_account_id is None or self.case is None:
            return None
        return PartnerTarget.account(row.ctid_trader_account_id, self.case.user_id)

    def _user_target(self) -> PartnerTarget | None:
        from ctrader_admin.services.partners import PartnerTarget

        if self.case is None or self.case.user_id is None:
            return None
        return PartnerTarget.user(self.case.user_id)

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
            await self._reload()

    async def _delete_partner(self, target: PartnerTarget | None) -> None:
        from ctrader_admin.ui import actions

        if target is not None and await actions.delete_partner(self.ctx, self.runner, target):
            await self._reload()

    @async_slot()
    async def _move_wl(self) -> None:
        from ctrader_admin.ui import actions

        row = self._selected()
        if row is None or row.login is None:
            return
        environment = row.environment or self.ctx.session.profile.environments[0]
        move = await actions.move_account(
            self.ctx, self.runner, login=row.login, environment=environment
        )
        if move is not None:
            message = self.bar.label.text()
            await self._reload()
            self.bar.show_message(self.bar.level, message)

    def _link_more(self) -> None:
        if self.case is None or self.case.user_id is None:
            return
        window = self.ctx.window
        prefill = getattr(window, "prefill_link", None)
        if callable(prefill):
            prefill(self.case.user_id)
