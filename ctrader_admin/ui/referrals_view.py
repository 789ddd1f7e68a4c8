"""A partner's referrals: every client a source attributes to them, with the counts per source,
a filter (source, conflicts only, text) and export to CSV. One widget for the Partners tab's
browser and a partner's case in Lookup. Read from the ledger a page at a time
(services/attribution.py), so a partner with tens of thousands of referrals opens at once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ctrader_admin.services import attribution
from ctrader_admin.services.attribution import PartnerCase, ReferralFilter
from ctrader_admin.store.atomic import write_private_text
from ctrader_admin.store.attribution import SOURCES, Attribution, ReferralKey
from ctrader_admin.ui.dialogs import CSV_ONLY, choose_save_path
from ctrader_admin.ui.notify import Level, is_expected
from ctrader_admin.ui.rows_model import Column, PagedRowsModel
from ctrader_admin.ui.slots import async_slot, cancel_on_destroy
from ctrader_admin.ui.table_state import remember_columns
from ctrader_admin.ui.widgets import plural

if TYPE_CHECKING:
    from ctrader_admin.ui.tab import Tab

PAGE = 200  # rows per read: a first screen and then some
EXPORT_PAGE = 5_000

REFERRAL_COLUMNS: list[Column[Attribution]] = [
    Column("Client userId", lambda r: r.client_user_id or "?"),
    Column("Login", lambda r: r.client_login or ""),
    Column("Source", lambda r: attribution.SOURCE_NAMES[r.source]),
    Column("Code", lambda r: r.partner_code or ""),
    Column("Since", lambda r: (r.attributed_at or "")[:10]),
    Column("Read", lambda r: r.read_at[:16].replace("T", " ")),
]


class ReferralsView(QWidget):
    def __init__(self, tab: Tab) -> None:
        super().__init__()
        self.setObjectName("referralsView")
        cancel_on_destroy(self)
        self.tab = tab
        self.case: PartnerCase | None = None
        self._partner: tuple[int | None, str | None] | None = None  # (userId, code) shown
        self._shown = 0  # which reload's answer is on screen: older answers are dropped
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.title = QLabel("Select a partner to see its referrals.")
        self.title.setObjectName("referralsTitle")
        self.title.setWordWrap(True)
        layout.addWidget(self.title)

        filters = QHBoxLayout()
        self.source = QComboBox()
        self.source.setObjectName("referralsSource")
        self.source.addItem("Every source", None)
        for source in SOURCES:
            self.source.addItem(attribution.SOURCE_NAMES[source], source)
        self.conflicts_only = QCheckBox("Conflicts only")
        self.conflicts_only.setObjectName("referralsConflictsOnly")
        self.conflicts_only.setToolTip("Only clients the conflict report names")
        self.text = QLineEdit()
        self.text.setObjectName("referralsText")
        self.text.setPlaceholderText("Client userId, login or code")
        self.text.setClearButtonEnabled(True)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setObjectName("referralsExport")
        self.export_button.setToolTip("Every referral the filter keeps, with its source")
        filters.addWidget(self.source)
        filters.addWidget(self.conflicts_only)
        filters.addWidget(self.text, 1)
        filters.addWidget(self.export_button)
        layout.addLayout(filters)

        self.model: PagedRowsModel[Attribution] = PagedRowsModel(REFERRAL_COLUMNS)
        self.table = QTableView()
        self.table.setObjectName("referralsTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        remember_columns(self.table)
        # Its height comes from the layout it is put in (stretch, splitter), not from the
        # rows: next to the partners list or a case's accounts it takes its share, no more.
        self.table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
        self.table.setMinimumHeight(self.table.verticalHeader().defaultSectionSize() * 3)
        layout.addWidget(self.table, 1)

        self.source.currentIndexChanged.connect(self._reload)
        self.conflicts_only.toggled.connect(self._reload)
        self.text.textChanged.connect(self._reload)
        self.export_button.clicked.connect(self._export)
        self._set_enabled(False)

    @property
    def wanted(self) -> ReferralFilter:
        return ReferralFilter(
            source=self.source.currentData(),
            text=self.text.text(),
            conflicts_only=self.conflicts_only.isChecked(),
        )

    def clear(self) -> None:
        self.case = None
        self._partner = None
        self._shown += 1
        self.model.set_first_page([], None)
        self.title.setText("Select a partner to see its referrals.")
        self._set_enabled(False)

    def show_partner(self, user_id: int | None, code: str | None = None) -> None:
        """The referrals of the partner with this cTID user (or carrying this code)."""
        self.case = None
        self._partner = (user_id, code)
        self._reload()

    def _set_enabled(self, enabled: bool) -> None:
        for widget in (self.source, self.conflicts_only, self.text, self.export_button):
            widget.setEnabled(enabled)

    @async_slot()
    async def _reload(self) -> None:
        """The counts and the first page, read off the loop; then pages as the table scrolls."""
        office = self.tab.ctx.backoffice
        session = office.session
        partner = self._partner
        if session is None or partner is None:
            return
        self._shown += 1
        mine = self._shown
        user_id, code = partner
        profile_id = session.profile.id
        wanted = self.wanted
        ledger = office.ledger

        def read() -> tuple[PartnerCase, list[Attribution], ReferralKey | None]:
            case = attribution.partner_case(ledger, profile_id, user_id=user_id, code=code, limit=0)
            page = attribution.more_referrals(ledger, profile_id, case, wanted, limit=PAGE)
            return case, page.rows, page.after

        try:
            case, rows, after = await asyncio.to_thread(read)
        except Exception as exc:
            if not is_expected(exc):
                raise
            self.tab.bar.show_error(exc)
            return
        if mine != self._shown:
            return  # a newer filter or partner was asked for meanwhile
        self.case = case
        self.model.set_first_page(rows, self._pager(case, wanted, after))
        who = f"user {case.partner_user_id}" if case.partner_user_id else f"code {code}"
        total = sum(case.counts.values())
        per_source = " · ".join(
            f"{attribution.SOURCE_NAMES[s]} {n:,}" for s, n in case.counts.items()
        )
        self.title.setText(f"Referrals of {who}: {total:,} ({per_source})")
        self._set_enabled(True)

    def _pager(
        self, case: PartnerCase, wanted: ReferralFilter, after: ReferralKey | None
    ) -> Callable[[], tuple[Sequence[Attribution], bool]] | None:
        """The next pages of this list: a read of one page along the index (a few ms)."""
        if after is None:
            return None
        ledger = self.tab.ctx.backoffice.ledger
        profile_id = self.tab.ctx.session.profile.id

        def more() -> tuple[Sequence[Attribution], bool]:
            nonlocal after
            page = attribution.more_referrals(
                ledger, profile_id, case, wanted, after=after, limit=PAGE
            )
            after = page.after
            return page.rows, after is not None

        return more

    @async_slot()
    async def _export(self) -> None:
        case = self.case
        session = self.tab.ctx.backoffice.session
        if case is None or session is None:
            return
        who = case.partner_user_id or "-".join(case.names) or "partner"
        path = await choose_save_path(
            self, "Export the referrals", f"referrals-{who}.csv", CSV_ONLY
        )
        if path is None:
            return
        ledger = self.tab.ctx.backoffice.ledger
        profile_id = session.profile.id
        wanted = self.wanted

        def write() -> int:
            rows: list[Attribution] = []
            after: ReferralKey | None = None
            while True:
                page = attribution.more_referrals(
                    ledger, profile_id, case, wanted, after=after, limit=EXPORT_PAGE
                )
                rows += page.rows
                after = page.after
                if after is None:
                    break
            write_private_text(Path(path), attribution.export_rows_csv(rows))
            return len(rows)

        try:
            count = await asyncio.to_thread(write)
        except OSError as exc:
            self.tab.bar.show_message(Level.ERROR, f"Cannot write {path}: {exc.strerror or exc}.")
            return
        self.tab.bar.show_message(
            Level.SUCCESS, f"{plural(count, 'referral')} written to {Path(path).name}."
        )
