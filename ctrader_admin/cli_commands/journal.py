"""``journal verify`` and ``journal export``: no connection needed, only this computer's journal."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from ctrader_admin.cli_commands.context import EXIT_OK, EXIT_ROWS, CliError, stores
from ctrader_admin.cli_commands.output import Output
from ctrader_admin.services.journal_ops import export_csv
from ctrader_admin.store.journal import JournalFilter


async def verify_command(args: argparse.Namespace, out: Output) -> int:
    async with stores() as st:
        report = st.office.journal.verify()
    out.document(
        {
            "ok": report.ok,
            "checked": report.checked,
            "first_bad_id": report.first_bad_id,
            "message": report.message,
        }
    )
    out.line(report.message)
    return EXIT_OK if report.ok else EXIT_ROWS


async def export_command(args: argparse.Namespace, out: Output) -> int:
    flt = JournalFilter(
        batch_id=args.batch or None,
        profile_id=args.only_profile or None,
        since=_when(args.since, "--since"),
        until=_when(args.until, "--until"),
    )
    async with stores() as st:
        # Complete or not written at all; a failure is said in words (exit code 2).
        count = export_csv(st.office.journal, flt, Path(args.output))
    out.document({"file": args.output, "entries": count})
    out.line(f"{count} journal entries written to {args.output}")
    return EXIT_OK


def _when(text: str | None, option: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CliError(
            f"{option}: {text!r} is not a date (2024-05-01 or 2024-05-01T12:00)"
        ) from None
    return moment if moment.tzinfo else moment.astimezone()
