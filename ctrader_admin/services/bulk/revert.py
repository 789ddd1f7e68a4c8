"""Undo a batch: the inverse plan, built from the journal, planned and applied like any other.

Each target the batch wrote (outcome ok, or unknown: the re-read decides) gets a row that puts
back the value it had before the batch: set it again, delete it where there was none, move the
account back to its White Label. A target that no longer has the value the batch left was changed
since by someone else; its row is an error, not an overwrite.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from ctrader_admin.services.bulk.csv_input import InputRow
from ctrader_admin.services.bulk.model import Plan, show
from ctrader_admin.services.bulk.planner import DEFAULT_READ_CONCURRENCY, plan_rows
from ctrader_admin.services.bulk.results import job_plan
from ctrader_admin.services.errors import InvalidInput, NotRevertible
from ctrader_admin.services.session import Session
from ctrader_admin.services.writes import Action, LinkTarget, UserTarget, WhiteLabel, inverse
from ctrader_admin.store.checkpoints import CheckpointStore
from ctrader_admin.store.journal import JournalEntry, JournalFilter

_REVERTIBLE = frozenset({Action.SET_PARTNER, Action.DELETE_PARTNER, Action.MOVE_WL})


async def plan_revert(
    session: Session,
    batch_id: str,
    *,
    rows: Collection[int | str] | None = None,
    store: CheckpointStore | None = None,
    read_concurrency: int = DEFAULT_READ_CONCURRENCY,
) -> Plan:
    """The plan that reverts ``batch_id`` (or only the given rows: job row numbers, or targets
    such as ``user:1000001``), its rows in the batch's own order (see ``_ordered``)."""
    entries = _entries_by_target(session, batch_id)
    job = store.job(batch_id) if store is not None else None
    row_of: dict[str, int] = {}
    for row in job_plan(job).rows if job is not None else []:
        row_of.setdefault(row.target, row.n)  # a duplicate row was not written: the first was
    if rows:
        entries = _select(entries, rows, row_of, batch_id)
    inputs = [
        _input_row(n, first, last) for n, (first, last) in enumerate(_ordered(entries, row_of), 1)
    ]
    return await plan_rows(
        session,
        "revert",
        inputs,
        source=f"revert of batch {batch_id}",
        reverts_batch=batch_id,
        read_concurrency=read_concurrency,
    )


def _entries_by_target(
    session: Session, batch_id: str
) -> dict[str, tuple[JournalEntry, JournalEntry]]:
    """Per target, in the order first written: the first entry (its ``before`` is what the
    target had before the batch) and the entry to revert (the last ok one, else the last)."""
    found: dict[str, tuple[JournalEntry, JournalEntry]] = {}
    for entry in session.journal.iter_entries(JournalFilter(batch_id=batch_id)):
        if entry.action not in _REVERTIBLE or entry.outcome in ("failed", "refused"):
            continue
        if entry.profile_id != session.profile.id:
            raise NotRevertible(
                f"Batch {batch_id} was written on the connection {entry.profile_name!r}; "
                "open that connection to revert it."
            )
        first, last = found.get(entry.target, (entry, entry))
        if last.outcome != "ok" or entry.outcome == "ok":
            last = entry
        found[entry.target] = (first, last)
    if not found:
        raise NotRevertible(f"Batch {batch_id} has no applied write to revert in this journal.")
    return found


def _ordered(
    entries: dict[str, tuple[JournalEntry, JournalEntry]], row_of: dict[str, int]
) -> list[tuple[JournalEntry, JournalEntry]]:
    """The batch's own row order when its job is on this computer, else the order its targets
    were first written (journal id): never the order concurrent writers happened to finish."""
    unknown_row = len(row_of) + 1
    return sorted(
        entries.values(),
        key=lambda pair: (row_of.get(pair[0].target, unknown_row), pair[0].id),
    )


def _select(
    entries: dict[str, tuple[JournalEntry, JournalEntry]],
    wanted: Collection[int | str],
    row_of: dict[str, int],
    batch_id: str,
) -> dict[str, tuple[JournalEntry, JournalEntry]]:
    targets: set[str] = set()
    numbers = [item for item in wanted if isinstance(item, int)]
    targets.update(item for item in wanted if isinstance(item, str))
    if numbers:
        if not row_of:
            raise InvalidInput(
                {"Rows": "row numbers need the job's checkpoints on this computer; give targets"}
            )
        by_number = {n: target for target, n in row_of.items()}
        for number in numbers:
            if number not in by_number:
                raise InvalidInput({"Rows": f"job {batch_id} has no row {number}"})
            targets.add(by_number[number])
    chosen = {target: pair for target, pair in entries.items() if target in targets}
    if not chosen:
        raise NotRevertible("None of the chosen rows has an applied write in this batch.")
    return chosen


def _input_row(n: int, first: JournalEntry, last: JournalEntry) -> InputRow:
    """The row that puts back what the target had before the batch: the inverse of the
    batch's first write there (its ``before``), checked against what the last one left."""
    cells = [f"#{last.id}", last.target, f"{show(last.after)} → {show(first.before)}"]
    common: dict[str, Any] = {
        "line": 0,
        "cells": cells,
        "reverts_id": last.id,
        "expected": last.after,
        "check_expected": True,
    }
    try:
        change = inverse(first)
    except NotRevertible:
        return InputRow(problem=f"cannot put {last.target} back automatically", **common)
    if isinstance(change, WhiteLabel):
        account = change.account
        return InputRow(
            op="move_wl",
            login=account.login,
            environment=account.environment,
            proposed=change.broker_name,
            **common,
        )
    target = change.target
    return InputRow(
        op="delete_partner" if change.code is None else "set_partner",
        level="user" if isinstance(target, UserTarget) else "account",
        user_id=target.user_id if isinstance(target, UserTarget) else None,
        ctid=target.ctid if isinstance(target, LinkTarget) else None,
        proposed=change.code,
        **common,
    )
