"""The Lookup case's accounts table: one row per account, live details and the partnerId at
account level beside the user's, a differing code flagged."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush

from ctrader_admin.ui import theme

if TYPE_CHECKING:
    from ctrader_admin.services.lookup import AccountRow

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
        "Check",
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
        if role == Qt.ItemDataRole.ForegroundRole and row.flags and column in (7, 8):
            return QBrush(theme.colours(theme.Tone.ERROR)[1])  # readable on that background
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
            return str(row.login or "not known here")
        if column == 1:
            return row.environment or "not known"
        if column == 2:
            return str(row.ctid_trader_account_id or "no link known")
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
