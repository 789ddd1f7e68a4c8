"""Save an evidence pack (services/evidence.py) from wherever a case is shown — the Partners
tab and a case in Lookup: one path, so both packs are the same files with the same words."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QWidget

from ctrader_admin.services import attribution, evidence
from ctrader_admin.store.atomic import write_private_text
from ctrader_admin.ui.dialogs import choose_save_path
from ctrader_admin.ui.evidence_pdf import write_pdf
from ctrader_admin.ui.notify import Level
from ctrader_admin.ui.widgets import plural

if TYPE_CHECKING:
    from ctrader_admin.ui.tab import Tab


async def export_evidence(
    tab: Tab, parent: QWidget, *, client: int | None = None, partner: int | None = None
) -> None:
    """Ask where, then write the PDF and its two CSVs (rows, journal) of a client or a partner;
    the tab's bar says what was written, or why not."""
    session = tab.ctx.backoffice.session
    if session is None:
        return
    who = f"client-{client}" if client else f"partner-{partner}"
    path = await choose_save_path(
        parent, "Save the evidence pack", f"evidence-{who}.pdf", "PDF files (*.pdf)"
    )
    if path is None:
        return
    office = tab.ctx.backoffice
    pack = await asyncio.to_thread(
        evidence.build_evidence, office, session.profile.id, client=client, partner=partner
    )
    target = Path(path)
    rows_csv, journal_csv = target.with_suffix(".rows.csv"), target.with_suffix(".journal.csv")
    try:
        write_pdf(pack, target)  # Qt lays the text out on this thread
        await asyncio.to_thread(
            write_private_text, rows_csv, attribution.export_rows_csv(pack.rows)
        )
        await asyncio.to_thread(write_private_text, journal_csv, evidence.journal_csv(pack.journal))
    except OSError as exc:
        tab.bar.show_message(Level.ERROR, f"Cannot write {path}: {exc.strerror or exc}.")
        return
    tab.bar.show_message(
        Level.SUCCESS,
        f"Evidence pack of {pack.title.lower()} written to {target.name} "
        f"({plural(len(pack.rows), 'source row')}, "
        f"{plural(len(pack.journal), 'journal entry', 'journal entries')}), "
        f"with {rows_csv.name} and {journal_csv.name}.",
    )
