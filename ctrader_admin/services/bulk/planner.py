"""Dry run: turn input rows into a plan. Nothing is written here.

Every usable row's current value is read from the backend, many at once (GETs are not
rate-limited; the concurrency is bounded so a big file does not flood the server). Each row then
gets its verdict: write (current → proposed, with the exact call), skip (already as proposed) or
error (why nothing will be sent)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from ctrader_admin.api import NotLoggedIn
from ctrader_admin.services.bulk.calls import change_of
from ctrader_admin.services.bulk.csv_input import InputRow, parse_csv
from ctrader_admin.services.bulk.model import Call, Plan, PlanKind, PlanRow, Problem, show
from ctrader_admin.services.bulk.plan_file import seal
from ctrader_admin.services.session import Session
from ctrader_admin.services.writes import LinkTarget, prepare
from ctrader_admin.store.timestamps import utc_iso

# Bounded: a big file must not flood the server, and each open connection costs the HTTP client
# CPU on every request (its pool scans them), so past ~16 more reads in flight go slower.
DEFAULT_READ_CONCURRENCY = 16


@dataclass(frozen=True, slots=True)
class _Verdict:
    problem: Problem | None = None
    message: str = ""
    current: str | None = None
    owner: int | None = None
    skip: bool = False
    call: Call | None = None


async def plan_csv(
    session: Session,
    text: str,
    *,
    source: str,
    read_concurrency: int = DEFAULT_READ_CONCURRENCY,
) -> Plan:
    """Plan the operations of a bulk CSV (see csv_input for the two formats)."""
    parsed = parse_csv(text)
    return await plan_rows(
        session, parsed.kind, parsed.rows, source=source, read_concurrency=read_concurrency
    )


async def plan_rows(
    session: Session,
    kind: PlanKind,
    rows: Sequence[InputRow],
    *,
    source: str,
    reverts_batch: str | None = None,
    read_concurrency: int = DEFAULT_READ_CONCURRENCY,
) -> Plan:
    if not session.logged_in:
        raise NotLoggedIn("Not logged in: log in to this connection first.")
    verdicts: dict[int, _Verdict] = {}
    for index, problem, message in _static_problems(rows):
        verdicts[index] = _Verdict(problem, message)
    # A fixed pool of readers taking the next row in turn, not one task per row: a task per row
    # of a 100 000-row file held ~2 KB each until the last read was done.
    pending = ((i, row) for i, row in enumerate(rows) if i not in verdicts)

    async def reader() -> None:
        for index, row in pending:
            verdicts[index] = await _check(session, row)

    readers = [asyncio.ensure_future(reader()) for _ in range(max(1, read_concurrency))]
    try:
        await asyncio.gather(*readers)
    finally:
        for task in readers:  # one reader's error (a lost log-in) stops the others
            task.cancel()
    plan_rows_ = [_plan_row(n, row, verdicts[n - 1]) for n, row in enumerate(rows, start=1)]
    plan = Plan(
        kind=kind,
        profile_id=session.profile.id,
        profile_name=session.profile.name,
        broker_crm_name=session.profile.broker_crm_name,
        created_by=session.operator,
        created_at=utc_iso(),
        workstation=session.workstation,
        source=source,
        reverts_batch=reverts_batch,
        rows=plan_rows_,
    )
    return seal(plan)


def _static_problems(rows: Sequence[InputRow]) -> list[tuple[int, Problem, str]]:
    """What is wrong before any row is prepared: bad lines, duplicates and conflicts."""
    found: list[tuple[int, Problem, str]] = []
    by_target: dict[str, list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        if row.problem is not None:
            found.append((index, "invalid", row.problem))
            continue
        by_target[row.target].append(index)
    bad = {index for index, _, _ in found}
    for indexes in by_target.values():
        if len(indexes) < 2:
            continue
        values = {rows[i].proposed for i in indexes}
        lines = ", ".join(str(rows[i].line) for i in indexes)
        if len(values) > 1:
            for i in indexes:
                found.append((i, "conflict", f"lines {lines} ask different values"))
                bad.add(i)
        else:
            for i in indexes[1:]:
                found.append((i, "duplicate", f"the same change as line {rows[indexes[0]].line}"))
                bad.add(i)
    return found


async def _check(session: Session, row: InputRow) -> _Verdict:
    """The row prepared by the write model (checked, read once, owner resolved, judged), and
    for a revert row, whether the target still has what the batch left."""
    prepared = await prepare(session, change_of(row))
    value = prepared.current
    if prepared.verdict == "error":
        return _Verdict(prepared.problem, prepared.message, value)
    target = prepared.target
    owner = target.owner if isinstance(target, LinkTarget) else row.user_id
    if row.check_expected and value != row.expected and value != row.proposed:
        return _Verdict(
            "changed",
            f"changed since the batch: it left {show(row.expected)}, now {show(value)}",
            value,
            owner,
        )
    if prepared.verdict == "skip":
        return _Verdict(None, prepared.message, value, owner, skip=True)
    return _Verdict(None, "", value, owner, call=prepared.call())


def _plan_row(n: int, row: InputRow, verdict: _Verdict) -> PlanRow:
    owner = verdict.owner if row.level == "account" else row.user_id
    return PlanRow(
        n=n,
        line=row.line,
        op=row.op,
        target=row.target,
        level=row.level,
        user_id=owner if verdict.problem is None else row.user_id,
        ctid=row.ctid,
        login=row.login,
        environment=row.environment,
        current=verdict.current,
        proposed=row.proposed,
        status="error" if verdict.problem else "skip" if verdict.skip else "write",
        problem=verdict.problem,
        message=verdict.message,
        call=verdict.call,
        reverts_id=row.reverts_id,
        source=list(row.cells),
    )
