"""An evidence pack (services/evidence.py) as a PDF: Qt lays the text out (QTextDocument) and
writes the pages (QPdfWriter). Every value is escaped; nothing is fetched."""

from __future__ import annotations

import html
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from ctrader_admin.services import attribution
from ctrader_admin.services.evidence import EvidencePack


def write_pdf(pack: EvidencePack, target: Path) -> None:
    """Write the pack to ``target``; the file appears complete or not at all."""
    from PySide6.QtGui import QGuiApplication, QPageSize, QPdfWriter, QTextDocument

    if QGuiApplication.instance() is None:  # the CLI: a PDF needs fonts, not a screen
        QGuiApplication([])
    partial = target.with_name(f".{target.name}.partial")
    writer = QPdfWriter(str(partial))
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setTitle(f"Evidence: {pack.title}")
    writer.setCreator("ctrader-admin")
    document = QTextDocument()
    document.setHtml(to_html(pack))
    document.print_(writer)
    del writer  # the file is complete once the writer is gone
    partial.chmod(0o600)  # like every file the app writes: the owner's only
    os.replace(partial, target)


def to_html(pack: EvidencePack) -> str:
    rows = [
        (
            attribution.SOURCE_NAMES[r.source],
            r.client_user_id,
            r.client_login,
            r.partner_code,
            r.partner_user_id,
            _when(r.attributed_at),
            _when(r.read_at),
        )
        for r in pack.rows
    ]
    entries = [
        (
            e.id,
            _when(e.at_utc),
            e.operator,
            e.action,
            e.target,
            f"{e.before or '—'} → {e.after or '—'}",
            e.reason,
            e.ticket,
            e.outcome,
        )
        for e in pack.journal
    ]
    verified = "intact" if pack.verification.ok else "NOT intact"
    parts = [
        f"<h1>Evidence: {_e(pack.title)}</h1>",
        f"<p>Connection {_e(pack.profile)} · generated {_e(pack.generated_at)}"
        + (f" by manager {_e(pack.generated_by)}" if pack.generated_by else "")
        + " with ctrader-admin.</p>",
        "<h2>The case</h2>",
        "<ul>" + "".join(f"<li>{_e(line)}</li>" for line in pack.summary) + "</ul>",
    ]
    if pack.codes:
        parts += [
            "<h2>Partner codes</h2>",
            _table(
                ("Source", "Level", "Account link", "Code", "Read"),
                (
                    (c.source, c.level, c.ctid_trader_account_id or "", c.code, _when(c.read_at))
                    for c in pack.codes
                ),
            ),
        ]
    if pack.conflicts:
        parts += [
            "<h2>Conflicts</h2>",
            _table(
                ("Conflict", "Period", "Details"),
                (
                    (attribution.CONFLICT_NAMES[c.kind], c.period or "", c.detail)
                    for c in pack.conflicts
                ),
            ),
        ]
    parts += [
        f"<h2>Attribution rows ({len(rows):,}), with their sources</h2>",
        _table(("Source", "Client", "Login", "Code", "Partner", "Attributed", "Read"), rows),
        f"<h2>Journal entries ({len(entries):,})</h2>",
        _table(JOURNAL_HEADERS, entries)
        if entries
        else "<p>No write of this app touched them.</p>",
        "<h2>Journal verification</h2>",
        f"<p>The journal's hash chain is {verified}: {_e(pack.verification.message)}</p>",
    ]
    return "<html><body style='font-size:9pt'>" + "".join(parts) + "</body></html>"


JOURNAL_HEADERS = (
    "#",
    "When (UTC)",
    "Operator",
    "Action",
    "Target",
    "Before → after",
    "Reason",
    "Ticket",
    "Outcome",
)


def _table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    head = "".join(f"<th align='left'>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_e(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table border='1' cellspacing='0' cellpadding='3'><tr>{head}</tr>{body}</table>"


def _when(iso: str | None) -> str:
    """``2026-11-16T00:15:28.000Z`` → ``2026-11-16 00:15`` (UTC), short enough for a cell."""
    return (iso or "")[:16].replace("T", " ")


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))
