"""The Partners tab's browser: every partner known here with its codes and referral counts, the
referrals of the one selected, and the conflict report — all read from the local attribution
ledger (services/attribution.py), which the buttons here fill from cTrader Invite, the CRM's
export and cTrader's referral records."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
)

from ctrader_admin.services import attribution
from ctrader_admin.services.attribution import Conflict, PartnerSummary
from ctrader_admin.ui.dialogs import CSV_FILTER, choose_open_path
from ctrader_admin.ui.evidence_export import export_evidence
from ctrader_admin.ui.notify import Level, is_expected
from ctrader_admin.ui.referrals_view import ReferralsView
from ctrader_admin.ui.rows_model import Column, PagedRowsModel, RowsModel
from ctrader_admin.ui.slots import async_slot, cancel_on_destroy
from ctrader_admin.ui.table_state import remember_columns
from ctrader_admin.ui.widgets import hint, plural

if TYPE_CHECKING:
    from ctrader_admin.ui.tab import Tab


def _codes(codes: tuple[str, ...]) -> str:
    return ", ".join(codes) or "—"


PARTNER_COLUMNS: list[Column[PartnerSummary]] = [
    Column("Partner userId", lambda p: p.partner_user_id),
    Column("Code in cTrader", lambda p: _codes(p.ctrader_codes), "registered on the user or links"),
    Column("Code in the CRM", lambda p: _codes(p.crm_codes)),
    Column("Invite", lambda p: p.counts["invite"], "clients cTrader Invite attributes to them"),
    Column("IB labels", lambda p: p.counts["ib_label"], "accounts whose IB label names a code"),
    Column("CRM", lambda p: p.counts["crm"], "clients the CRM attributes to them"),
]
CONFLICT_COLUMNS: list[Column[Conflict]] = [
    Column("Conflict", lambda c: attribution.CONFLICT_NAMES[c.kind]),
    Column("Period", lambda c: c.period or "", "inside or past the guaranteed period"),
    Column("Details", lambda c: c.detail),
]


def _table(name: str) -> QTableView:
    view = QTableView()
    view.setObjectName(name)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.verticalHeader().hide()
    view.horizontalHeader().setStretchLastSection(True)
    return view


class PartnerRegistryView(QGroupBox):
    def __init__(self, tab: Tab) -> None:
        super().__init__("Partners and referrals")
        self.setObjectName("partnerRegistry")
        cancel_on_destroy(self)  # a reload still reading must not outlive the view
        self.tab = tab
        layout = QVBoxLayout(self)
        buttons = QHBoxLayout()
        self.pull_button = QPushButton("Pull cTrader Invi&te")
        self.pull_button.setToolTip("Read what cTrader Invite recorded since the last pull")
        self.import_button = QPushButton("Import CRM e&xport…")
        self.import_button.setToolTip("The CRM's client → partner code export (CSV)")
        self.refresh_button = QPushButton("Read partner &codes")
        self.refresh_button.setToolTip(
            "Read the codes registered in cTrader on every partner a source names"
        )
        self.search = QLineEdit()
        self.search.setObjectName("partnerSearch")
        self.search.setPlaceholderText("Search userId or code")
        self.search.setClearButtonEnabled(True)
        self.evidence_button = QPushButton("&Evidence pack…")
        self.evidence_button.setObjectName("evidenceButton")
        self.evidence_button.setToolTip(
            "PDF (and CSV) of the selected partner, or of the selected conflict's client: the "
            "case, every source row, the journal entries and the journal's verification"
        )
        for widget in (self.pull_button, self.import_button, self.refresh_button):
            buttons.addWidget(widget)
        buttons.addWidget(self.search, 1)
        buttons.addWidget(self.evidence_button)
        layout.addLayout(buttons)
        self.status = hint("")
        self.status.setObjectName("ledgerStatus")
        layout.addWidget(self.status)

        self.partners_model: RowsModel[PartnerSummary] = RowsModel(PARTNER_COLUMNS)
        self.partners = _table("partnersTable")
        self.partners.setModel(self.partners_model)
        self.referrals = ReferralsView(tab)
        self.conflicts_model: PagedRowsModel[Conflict] = PagedRowsModel(CONFLICT_COLUMNS)
        self.conflicts = _table("conflictsTable")
        self.conflicts.setModel(self.conflicts_model)
        for view in (self.partners, self.conflicts):
            remember_columns(view)

        # The operator drags the line between the partners and the selected one's referrals.
        browse = QSplitter(Qt.Orientation.Vertical)
        browse.setChildrenCollapsible(False)
        browse.addWidget(self.partners)
        browse.addWidget(self.referrals)
        browse.setStretchFactor(0, 3)
        browse.setStretchFactor(1, 2)
        self.partners.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
        self.partners.setMinimumHeight(self.partners.verticalHeader().defaultSectionSize() * 3)
        self.pages = QTabWidget()
        self.pages.addTab(browse, "Partners")
        self.pages.addTab(self.conflicts, "Conflicts")
        layout.addWidget(self.pages, 1)

        self.pull_button.clicked.connect(self._pull)
        self.import_button.clicked.connect(self._import)
        self.refresh_button.clicked.connect(self._refresh_codes)
        self.evidence_button.clicked.connect(self._evidence)
        self.search.textChanged.connect(self._reload_soon)
        self.partners.selectionModel().currentRowChanged.connect(self._partner_chosen)
        self._reload_task: asyncio.Future[None] | None = None

    # --- what is shown -----------------------------------------------------------------------

    @property
    def selected(self) -> PartnerSummary | None:
        return self.partners_model.row(self.partners.currentIndex())

    def on_session_changed(self) -> None:
        session = self.tab.ctx.backoffice.session
        for button in (self.pull_button, self.refresh_button):
            button.setEnabled(session is not None)
        self._reload_soon()

    def _reload_soon(self) -> None:
        if self.tab.ctx.backoffice.session is None:
            return
        self._reload()

    @async_slot()
    async def _reload(self) -> None:
        """The lists, read off the loop (a big ledger takes a moment)."""
        office = self.tab.ctx.backoffice
        session = office.session
        if session is None:
            return
        profile = session.profile
        search = self.search.text()

        ledger = office.ledger
        period = profile.attribution_period_days

        def read() -> tuple[list[PartnerSummary], attribution.ConflictPage, int]:
            return (
                attribution.partner_summaries(ledger, profile.id, search),
                attribution.conflict_page(ledger, profile.id, period_days=period),
                ledger.count(profile.id),
            )

        try:
            summaries, found, rows = await asyncio.to_thread(read)
        except Exception as exc:
            if not is_expected(exc):
                raise
            self.tab.bar.show_error(exc)
            return
        keep = self.selected.partner_user_id if self.selected else None
        self.partners_model.set_rows(summaries)
        after = found.after

        def more() -> tuple[list[Conflict], bool]:
            nonlocal after
            page = attribution.conflict_page(ledger, profile.id, period_days=period, after=after)
            after = page.after
            return page.conflicts, after is not None

        self.conflicts_model.set_first_page(found.conflicts, more if after else None)
        self.pages.setTabText(1, f"Conflicts ({found.total:,})")
        self.status.setText(
            f"{plural(len(summaries), 'partner')} · {plural(rows, 'ledger row')} "
            f"(cTrader Invite, IB labels, CRM export) · guaranteed period "
            f"{profile.attribution_period_days} days"
        )
        for n, summary in enumerate(summaries):
            if summary.partner_user_id == keep:
                self.partners.selectRow(n)
                break
        else:
            self.referrals.clear()

    def _partner_chosen(self) -> None:
        summary = self.selected
        if summary is not None:
            self.referrals.show_partner(summary.partner_user_id)

    # --- actions -----------------------------------------------------------------------------

    @async_slot()
    async def _pull(self) -> None:
        session = self.tab.ctx.session
        office = self.tab.ctx.backoffice

        def progress(rows: int) -> None:
            self.status.setText(f"… {rows:,} Invite rows read")

        done = await self.tab.runner.run(
            "Pulling cTrader Invite",
            lambda: attribution.pull_invite(session, office.ledger, on_page=progress),
            controls=[self.pull_button],
        )
        await self._reload()
        if done is None:
            return
        result = done.value
        if not result.enabled:
            self.tab.bar.show_message(
                Level.WARNING,
                "cTrader Invite is not enabled for this broker: attributions come from the IB "
                "labels and the CRM export only.",
            )
        else:
            self.tab.bar.show_message(
                Level.SUCCESS,
                f"cTrader Invite: {plural(result.fetched, 'new row')} ({result.total:,} in all).",
            )

    @async_slot()
    async def _import(self) -> None:
        path = await choose_open_path(self, "Import the CRM's attribution export", CSV_FILTER)
        if path is None:
            return
        session = self.tab.ctx.session
        office = self.tab.ctx.backoffice
        try:
            text = await asyncio.to_thread(Path(path).read_text, encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            self.tab.bar.show_message(Level.ERROR, f"Cannot read {path}: {exc}.")
            return
        preview = await asyncio.to_thread(attribution.preview_crm, text)
        await asyncio.to_thread(attribution.import_crm, office.ledger, session.profile.id, preview)
        await self._reload()
        message = (
            f"Imported {plural(len(preview.attributions), 'client attribution')} and "
            f"{plural(len(preview.codes), 'partner code')} from {Path(path).name}"
        )
        if preview.problems:
            first = "; ".join(f"line {n}: {p}" for n, p in preview.problems[:3])
            self.tab.bar.show_message(
                Level.WARNING,
                f"{message}; {plural(len(preview.problems), 'line')} skipped ({first}).",
            )
        else:
            self.tab.bar.show_message(Level.SUCCESS, message + ".")

    @async_slot()
    async def _refresh_codes(self) -> None:
        session = self.tab.ctx.session
        ledger = self.tab.ctx.backoffice.ledger
        partners = await asyncio.to_thread(attribution.known_partners, ledger, session.profile.id)
        done = await self.tab.runner.run(
            "Reading partner codes",
            lambda: attribution.refresh_registry(session, ledger, partners),
            controls=[self.refresh_button],
        )
        await self._reload()
        if done is not None:
            refresh = done.value
            skipped = (
                f"; {plural(len(refresh.skipped), 'partner')} not readable by this manager"
                if refresh.skipped
                else ""
            )
            self.tab.bar.show_message(
                Level.SUCCESS,
                f"{plural(refresh.codes, 'code')} on {plural(refresh.read, 'partner')}{skipped}.",
            )

    @async_slot()
    async def _evidence(self) -> None:
        """The evidence pack of what is selected: the partner on the Partners page, the
        conflict's client (else its partner) on the Conflicts page."""
        if self.tab.ctx.backoffice.session is None:
            return
        client = partner = None
        if self.pages.currentIndex() == 1:
            conflict = self.conflicts_model.row(self.conflicts.currentIndex())
            if conflict is not None:
                client = conflict.client_user_id
                partner = None if client else conflict.partner_user_id
        elif self.selected is not None:
            partner = self.selected.partner_user_id
        if client is None and partner is None:
            self.tab.bar.show_message(Level.INFO, "Select a partner or a conflict first.")
            return
        await export_evidence(self.tab, self, client=client, partner=partner)
