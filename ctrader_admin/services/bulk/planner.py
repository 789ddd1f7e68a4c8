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

from ctrader_admin.api import ApiError, Forbidden, NotFound, NotLoggedIn
from ctrader_admin.services.bulk.calls import Current, RowTarget, call_for, read_current
from ctrader_admin.services.bulk.csv_input import InputRow, parse_csv
from ctrader_admin.services.bulk.model import Plan, PlanKind, PlanRow, Problem, show
from ctrader_admin.services.bulk.plan_file import seal
from ctrader_admin.services.errors import InvalidInput
from ctrader_admin.services.session import Session
from ctrader_admin.services.validation import environment_of, one_line, white_label_of
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
    for index, problem, message in _static_problems(session, rows):
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
    plan_rows_ = [
        _plan_row(session, n, row, verdicts[n - 1]) for n, row in enumerate(rows, start=1)
    ]
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


def row_target(row: InputRow | PlanRow) -> RowTarget:
    assert row.op is not None
    return RowTarget(
        op=row.op,
        level=row.level,
        user_id=row.user_id,
        ctid=row.ctid,
        login=row.login,
        environment=row.environment,
        proposed=row.proposed,
    )


def _static_problems(session: Session, rows: Sequence[InputRow]) -> list[tuple[int, Problem, str]]:
    """What is wrong without asking the backend: bad lines, duplicates, conflicts, and values
    this connection cannot take."""
    found: list[tuple[int, Problem, str]] = []
    by_target: dict[str, list[int]] = defaultdict(list)
    profile = session.profile
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
    for index, row in enumerate(rows):
        if index in bad or row.op != "move_wl":
            continue
        try:
            environment_of(profile, row.environment or "")
        except InvalidInput as exc:
            found.append((index, "invalid", one_line(exc)))
            continue
        try:
            white_label_of(profile, row.proposed or "")
        except InvalidInput as exc:
            found.append((index, "no_rights", one_line(exc)))
    return found


async def _check(session: Session, row: InputRow) -> _Verdict:
    target = row_target(row)
    try:
        current = await read_current(session, target)
    except NotFound as exc:
        return _Verdict("not_found", exc.message)
    except Forbidden as exc:
        return _Verdict("no_rights", exc.message)
    except ApiError as exc:
        if exc.needs_login:
            raise
        return _Verdict("read_failed", exc.message)
    return _judge(session, row, current)


def _judge(session: Session, row: InputRow, current: Current) -> _Verdict:
    value = current.value
    if row.level == "account":
        owner = current.owner
        if owner is None and row.ctid is not None:
            link = session.directory.link_by_ctid(session.profile.id, row.ctid)
            owner = link.user_id if link else None
        if row.user_id is not None and owner is not None and owner != row.user_id:
            return _Verdict(
                "mismatch",
                f"account link {row.ctid} belongs to user {owner}, not {row.user_id}",
                value,
            )
        owner = row.user_id or owner
        if row.op == "delete_partner" and value is not None and owner is None:
            return _Verdict(
                "invalid", "the owner (userId) of this account link is not known; add it", value
            )
    else:
        owner = row.user_id
    if row.check_expected and value != row.expected and value != row.proposed:
        return _Verdict(
            "changed",
            f"changed since the batch: it left {show(row.expected)}, now {show(value)}",
            value,
            owner,
        )
    if value == row.proposed:
        return _Verdict(None, "already as proposed", value, owner, skip=True)
    return _Verdict(None, "", value, owner)


def _plan_row(session: Session, n: int, row: InputRow, verdict: _Verdict) -> PlanRow:
    owner = verdict.owner if row.level == "account" else row.user_id
    plan_row = PlanRow(
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
        reverts_id=row.reverts_id,
        source=list(row.cells),
    )
    if plan_row.status != "write":
        return plan_row
    try:
        call = call_for(session.profile.broker_crm_name, row_target(plan_row))
    except InvalidInput as exc:
        return plan_row.model_copy(
            update={"status": "error", "problem": "invalid", "message": one_line(exc)}
        )
    return plan_row.model_copy(update={"call": call})
