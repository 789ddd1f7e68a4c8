"""``attribution pull|import|conflicts|export`` and ``partner show``: the attribution ledger
from the command line (services/attribution.py)."""

from __future__ import annotations

import argparse
import asyncio
import os
from dataclasses import asdict
from pathlib import Path

from ctrader_admin.cli_commands.context import (
    EXIT_OK,
    EXIT_ROWS,
    CliError,
    open_session,
    profile_id,
    stores,
)
from ctrader_admin.cli_commands.output import Output
from ctrader_admin.services import attribution, evidence
from ctrader_admin.store.atomic import write_private_text


async def attribution_command(args: argparse.Namespace, out: Output) -> int:
    action = {
        "pull": _pull,
        "import": _import,
        "conflicts": _conflicts,
        "export": _export,
    }[args.action]
    return await action(args, out)


async def _pull(args: argparse.Namespace, out: Output) -> int:
    async with stores() as s:
        session = await open_session(s.office, getattr(args, "profile", None))
        ledger = s.office.ledger
        result = await attribution.pull_invite(
            session,
            ledger,
            page_size=args.page_size,
            on_page=lambda n: out.note(f"… {n:,} Invite rows read"),
        )
        document: dict[str, object] = {
            "invite_enabled": result.enabled,
            "fetched": result.fetched,
            "invite_rows": result.total,
        }
        if result.enabled:
            out.line(f"cTrader Invite: {result.fetched:,} new rows ({result.total:,} in all).")
        else:
            out.line("cTrader Invite is not enabled for this broker: nothing to pull.")
        if args.labels:
            logins = session.directory.logins(session.profile.id)
            labels = await attribution.read_ib_labels(session, ledger, logins)
            document["ib_labels"] = asdict(labels)
            out.line(
                f"IB labels: {labels.labels:,} from {labels.read:,} accounts"
                + (f"; {len(labels.skipped)} not readable" if labels.skipped else "")
                + "."
            )
        if args.registry:
            partners = attribution.known_partners(ledger, session.profile.id)
            refresh = await attribution.refresh_registry(session, ledger, partners)
            document["registry"] = asdict(refresh)
            out.line(
                f"Partner codes in cTrader: {refresh.codes:,} on {refresh.read:,} partners"
                + (
                    f"; {len(refresh.skipped)} not readable by this manager"
                    if refresh.skipped
                    else ""
                )
                + "."
            )
    out.document(document)
    return EXIT_OK


async def _import(args: argparse.Namespace, out: Output) -> int:
    path = Path(args.csv)
    try:
        text = await asyncio.to_thread(path.read_text, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"Cannot read {path}: {getattr(exc, 'strerror', None) or exc}.") from None
    preview = attribution.preview_crm(text)
    for number, problem in preview.problems:
        out.note(f"line {number}: {problem}")
    summary = (
        f"{len(preview.attributions):,} client attributions and {len(preview.codes):,} partner "
        f"codes in {preview.lines:,} lines; {len(preview.problems):,} lines with problems"
    )
    stored = 0
    if not args.dry_run:
        async with stores() as s:
            pid = profile_id(s.office, getattr(args, "profile", None))
            stored = attribution.import_crm(s.office.ledger, pid, preview)
        summary += "; imported (the previous CRM export is replaced)."
    else:
        summary += "; nothing imported (--dry-run)."
    out.line(summary)
    out.document(
        {
            "attributions": len(preview.attributions),
            "codes": len(preview.codes),
            "problems": [{"line": n, "problem": p} for n, p in preview.problems],
            "imported": stored,
        }
    )
    return EXIT_ROWS if preview.problems else EXIT_OK


async def _conflicts(args: argparse.Namespace, out: Output) -> int:
    async with stores() as s:
        pid = profile_id(s.office, getattr(args, "profile", None))
        period = s.office.profiles.get(pid).attribution_period_days
        found = attribution.conflicts(
            s.office.ledger, pid, period_days=period, kind=args.kind or None
        )
    for conflict in found:
        period_note = f" [{conflict.period} the {period}-day period]" if conflict.period else ""
        out.line(f"{attribution.CONFLICT_NAMES[conflict.kind]}: {conflict.detail}{period_note}")
    if not found:
        out.line("No conflicts in the ledger.")
    out.document({"conflicts": [asdict(c) for c in found]})
    return EXIT_OK


async def _export(args: argparse.Namespace, out: Output) -> int:
    """The ledger rows of a client or a partner as CSV; with a .pdf target, the whole evidence
    pack as PDF, its rows and journal entries as CSV files beside it."""
    async with stores() as s:
        pid = profile_id(s.office, getattr(args, "profile", None))
        if args.client is not None:
            pack = evidence.build_evidence(s.office, pid, client=args.client)
        else:
            user_id, code = _partner_ref(args.partner)
            pack = evidence.build_evidence(s.office, pid, partner=user_id, code=code)
    target = Path(args.output)
    written = [target]
    try:
        if target.suffix.lower() == ".pdf":
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # a PDF needs no screen
            from ctrader_admin.ui.evidence_pdf import write_pdf

            rows_csv = target.with_suffix(".rows.csv")
            journal_csv = target.with_suffix(".journal.csv")
            write_pdf(pack, target)
            write_private_text(rows_csv, attribution.export_rows_csv(pack.rows))
            write_private_text(journal_csv, evidence.journal_csv(pack.journal))
            written += [rows_csv, journal_csv]
        else:
            write_private_text(target, attribution.export_rows_csv(pack.rows))
    except OSError as exc:
        raise CliError(f"Cannot write {target}: {exc.strerror or exc}.") from None
    out.line(
        f"{pack.title}: {len(pack.rows):,} ledger rows, {len(pack.journal):,} journal entries "
        f"→ {', '.join(str(p) for p in written)}"
    )
    out.document(
        {
            "files": [str(p) for p in written],
            "rows": len(pack.rows),
            "journal_entries": len(pack.journal),
            "journal_intact": pack.verification.ok,
        }
    )
    return EXIT_OK


async def partner_show_command(args: argparse.Namespace, out: Output) -> int:
    user_id, code = _partner_ref(args.partner)
    async with stores() as s:
        pid = profile_id(s.office, getattr(args, "profile", None))
        case = attribution.partner_case(
            s.office.ledger, pid, user_id=user_id, code=code, source=args.source, limit=args.limit
        )
    if case.partner_user_id is None and not case.referrals:
        out.line(f"No partner {args.partner!r} is known here: pull and import first.")
    else:
        # The words of the partner's case in Lookup and of the evidence pack.
        title = attribution.partner_title(case, code)
        for line in attribution.partner_summary(title, case):
            out.line(line)
        for row in case.referrals:
            out.line(
                f"  client {row.client_user_id or '?'}"
                + (f" (login {row.client_login})" if row.client_login else "")
                + f" — {attribution.SOURCE_NAMES[row.source]}"
                + (f", since {row.attributed_at}" if row.attributed_at else "")
            )
    out.document(
        {
            "partner_user_id": case.partner_user_id,
            "codes": [asdict(c) for c in case.codes],
            "counts": case.counts,
            "referrals": [asdict(r) for r in case.referrals],
        }
    )
    return EXIT_OK


def _partner_ref(text: str) -> tuple[int | None, str | None]:
    """A partner named by cTID userId (digits) or by code (anything else)."""
    text = text.strip()
    if text.isascii() and text.isdigit() and len(text) <= 18:
        return int(text), None
    if not text:
        raise CliError("Name the partner by userId or by partner code.")
    return None, text
