"""What a bulk plan is made of: rows (current → proposed, the exact call, the pre-flight verdict)
and the plan around them (profile, author, time, content hash). Plans are saved as JSON and read
back strictly: a file that does not validate is refused like one whose hash does not match."""

from __future__ import annotations

from collections import Counter
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Op = Literal["set_partner", "delete_partner", "move_wl"]
Level = Literal["user", "account"]
PlanKind = Literal["partner", "white_label", "revert"]
# write: will be sent; skip: already as proposed, nothing to send; error: nothing will be sent.
PlanStatus = Literal["write", "skip", "error"]
Problem = Literal[
    "invalid",  # wrong type, missing or extra cell, bad value
    "duplicate",  # the same change is asked by an earlier line: only that one counts
    "conflict",  # two lines ask different values for the same target
    "not_found",  # the user, account link or trading account does not exist
    "no_rights",  # this manager/connection may not act on that White Label
    "mismatch",  # the account link does not belong to the given user
    "read_failed",  # the current value could not be read
    "changed",  # revert: the target no longer has the value the batch left
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Call(_Frozen):
    """The request a row will send, as the backend will see it, without the token."""

    method: Literal["PUT", "DELETE", "POST"]
    path: str
    body: dict[str, Any] | None = None
    query: dict[str, Any] | None = None

    def describe(self) -> str:
        params = self.query or self.body or {}
        inner = ", ".join(f"{key}={value}" for key, value in params.items())
        return f"{self.method} {self.path} {{{inner}}}"


class PlanRow(_Frozen):
    n: int = Field(ge=1)  # row number in the plan
    line: int = Field(ge=0)  # line of the source file; 0 for rows not read from a file
    op: Op | None  # None: the line could not be understood
    target: str  # as in the journal: user:N, account:N, login:N@environment
    level: Level | None = None
    user_id: int | None = None  # user level: the user; account level: the link's owner
    ctid: int | None = None
    login: int | None = None
    environment: str | None = None
    current: str | None = None  # read while planning (None: none recorded, or not read)
    proposed: str | None = None  # partnerId (None = delete) or target White Label
    status: PlanStatus
    problem: Problem | None = None
    message: str = ""
    call: Call | None = None
    reverts_id: int | None = None  # revert plans: the journal entry this row undoes
    source: list[str] = Field(default_factory=list)  # the cells as the file gave them

    @property
    def field_label(self) -> str:
        return "White Label" if self.op == "move_wl" else "partnerId"


class Plan(_Frozen):
    format: Literal["ctrader-admin.bulk-plan"] = "ctrader-admin.bulk-plan"
    version: Literal[1] = 1
    kind: PlanKind
    profile_id: str
    profile_name: str
    broker_crm_name: str
    created_by: str  # the manager login that planned it
    created_at: str  # UTC, ISO 8601
    workstation: str
    source: str  # the input file's name, or what the plan was derived from
    reverts_batch: str | None = None
    rows: list[PlanRow]
    content_hash: str = ""

    def counts(self) -> dict[str, int]:
        """Rows per status (write / skip / error) and per problem (``error:duplicate``…)."""
        counts: Counter[str] = Counter({"write": 0, "skip": 0, "error": 0})
        for row in self.rows:
            counts[row.status] += 1
            if row.problem is not None:
                counts[f"error:{row.problem}"] += 1
        return dict(counts)

    @property
    def to_write(self) -> int:
        return sum(1 for row in self.rows if row.status == "write")


def show(value: str | None) -> str:
    """A value as the operator reads it: ``(none)`` for no partnerId."""
    return "(none)" if value is None else value
