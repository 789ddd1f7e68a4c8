"""The team's policies and four-eyes approvals on PostgreSQL (store/pg/migrations.py, step 2).

The rules live in the database: only the administrators' group writes ``team_policies``; the
triggers refuse self-approval, a second decision, a decision or an apply on a body that no longer
matches its hash, and a second apply; who submitted, decided and applied is the server's
``session_user``. This module only reads and inserts; services/approvals.py puts it in words.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Literal

from ctrader_admin.store.pg.database import PgDatabase
from ctrader_admin.store.pg.watch import ChannelWatcher

# What every change to the approvals notifies (the trigger in store/pg/migrations.py, step 2).
APPROVALS_CHANNEL = "ctrader_approvals"
ApprovalKind = Literal["write", "plan"]
Decision = Literal["approved", "rejected"]
ApprovalState = Literal["pending", "decided", "all"]


@dataclass(frozen=True, slots=True)
class TeamPolicy:
    """What the team administrator decided for one profile (None: no rule of that kind)."""

    profile_id: str
    read_only: bool = False
    budget_per_hour: int | None = None
    require_reason: bool = True
    require_ticket: bool = False
    approve_writes: bool = False
    approve_plans: bool = False
    approve_plans_over: int | None = None
    approve_wl_moves: bool = False
    approve_live_only: bool = False


_POLICY_COLUMNS = tuple(f.name for f in fields(TeamPolicy))
# Built once from the dataclass's own field names (no input reaches them).
_SELECT_POLICY = f"SELECT {', '.join(_POLICY_COLUMNS)} FROM team_policies WHERE profile_id = ?"  # noqa: S608
_UPSERT_POLICY = (
    f"INSERT INTO team_policies ({', '.join(_POLICY_COLUMNS)}) "  # noqa: S608
    f"VALUES ({', '.join('?' for _ in _POLICY_COLUMNS)}) ON CONFLICT (profile_id) DO UPDATE SET "
    + ", ".join(f"{name} = EXCLUDED.{name}" for name in _POLICY_COLUMNS[1:])
)


@dataclass(frozen=True, slots=True)
class ApprovalRecord:
    id: int
    kind: ApprovalKind
    profile_id: str
    environment: str
    summary: str
    body: str
    body_hash: str
    reason: str
    ticket: str
    submitted_by: str
    submitted_at: datetime
    decision: Decision | None
    comment: str | None
    decided_by: str | None
    decided_at: datetime | None
    used_by: str | None
    used_at: datetime | None
    journal_id: int | None

    @property
    def state(self) -> str:
        """pending, approved, rejected or applied."""
        if self.used_by is not None:
            return "applied"
        return self.decision or "pending"


_SELECT = """
SELECT a.id, a.kind, a.profile_id, a.environment, a.summary, a.body, a.body_hash, a.reason,
       a.ticket, a.submitted_by, a.submitted_at, d.decision, d.comment, d.decided_by,
       d.decided_at, u.used_by, u.used_at, u.journal_id
FROM approvals a
LEFT JOIN approval_decisions d ON d.approval_id = a.id
LEFT JOIN approval_uses u ON u.approval_id = a.id
"""


def _record(row: Any) -> ApprovalRecord:
    return ApprovalRecord(*row)


class ApprovalStore:
    def __init__(self, database: PgDatabase) -> None:
        self._db = database

    @property
    def database(self) -> PgDatabase:
        return self._db

    def watch(self) -> ChannelWatcher:
        """Told (on a connection of its own) whenever any approval is submitted or decided."""
        return ChannelWatcher(self._db, APPROVALS_CHANNEL)

    def me(self) -> str:
        """This connection's login role: the name the triggers record."""
        with self._db.read() as conn:
            return str(conn.execute("SELECT session_user").fetchone()[0])

    def policy(self, profile_id: str) -> TeamPolicy | None:
        with self._db.read() as conn:
            row = conn.execute(_SELECT_POLICY, (profile_id,)).fetchone()
        return None if row is None else TeamPolicy(*row)

    def set_policy(self, policy: TeamPolicy) -> None:
        """Insert or replace a profile's policy (the administrators' right only)."""
        values = tuple(getattr(policy, name) for name in _POLICY_COLUMNS)
        with self._db.transaction() as conn:
            conn.execute(_UPSERT_POLICY, values)

    def submit(
        self,
        *,
        kind: ApprovalKind,
        profile_id: str,
        environment: str,
        summary: str,
        body: str,
        body_hash: str,
        reason: str,
        ticket: str,
    ) -> int:
        with self._db.transaction() as conn:
            row = conn.execute(
                "INSERT INTO approvals (kind, profile_id, environment, summary, body, body_hash, "
                "reason, ticket) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (kind, profile_id, environment, summary, body, body_hash, reason, ticket),
            ).fetchone()
        return int(row[0])

    def get(self, approval_id: int) -> ApprovalRecord | None:
        with self._db.read() as conn:
            row = conn.execute(_SELECT + "WHERE a.id = ?", (approval_id,)).fetchone()
        return None if row is None else _record(row)

    def list(
        self, state: ApprovalState = "all", *, profile_id: str | None = None, limit: int = 500
    ) -> list[ApprovalRecord]:
        """Newest first."""
        where: list[str] = []
        params: list[Any] = []
        if state == "pending":
            where.append("d.approval_id IS NULL")
        elif state == "decided":
            where.append("d.approval_id IS NOT NULL")
        if profile_id is not None:
            where.append("a.profile_id = ?")
            params.append(profile_id)
        sql = _SELECT + (f"WHERE {' AND '.join(where)} " if where else "")
        with self._db.read() as conn:
            rows = conn.execute(sql + "ORDER BY a.id DESC LIMIT ?", (*params, limit)).fetchall()
        return [_record(row) for row in rows]

    def for_journal_entry(self, journal_id: int) -> ApprovalRecord | None:
        """The approval a journal entry was applied under (who submitted, who approved)."""
        with self._db.read() as conn:
            row = conn.execute(_SELECT + "WHERE u.journal_id = ?", (journal_id,)).fetchone()
        return None if row is None else _record(row)

    def applied_plans(self, profile_id: str, plan_sha256: str) -> tuple[ApprovalRecord, ...]:
        """Approvals of this plan (by its seal) on this profile that were used to apply it."""
        sql = (
            _SELECT + "WHERE a.kind = 'plan' AND a.profile_id = ? AND u.approval_id IS NOT NULL "
            "AND a.body::jsonb ->> 'plan_sha256' = ? ORDER BY a.id DESC"
        )
        with self._db.read() as conn:
            rows = conn.execute(sql, (profile_id, plan_sha256)).fetchall()
        return tuple(_record(row) for row in rows)

    def decide(self, approval_id: int, decision: Decision, comment: str, body_hash: str) -> None:
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO approval_decisions (approval_id, decision, comment, body_hash) "
                "VALUES (?, ?, ?, ?)",
                (approval_id, decision, comment, body_hash),
            )

    def use(self, approval_id: int, body_hash: str) -> None:
        """Mark an approved change used (once): the trigger refuses anything else."""
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO approval_uses (approval_id, body_hash) VALUES (?, ?)",
                (approval_id, body_hash),
            )

    def record_journal_entry(self, approval_id: int, journal_id: int) -> None:
        with self._db.transaction() as conn:
            conn.execute(
                "UPDATE approval_uses SET journal_id = ? WHERE approval_id = ?",
                (journal_id, approval_id),
            )
