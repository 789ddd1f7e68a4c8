"""What a bulk plan is made of: rows (current → proposed, the exact call, the pre-flight verdict)
and the plan around them (profile, author, time, content hash). Plans are saved as JSON and read
back strictly: a file that does not validate is refused like one whose hash does not match."""

from __future__ import annotations

from collections import Counter
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ctrader_admin.services.writes import Call, Problem, Verdict, show

__all__ = ["Call", "Level", "Op", "Plan", "PlanKind", "PlanRow", "PlanStatus", "Problem", "show"]

Op = Literal["set_partner", "delete_partner", "move_wl"]
Level = Literal["user", "account"]
PlanKind = Literal["partner", "white_label", "revert"]
PlanStatus = Verdict  # write / skip / error: the write model's verdict on the row


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PlanRow(_Frozen):
    n: int = Field(ge=1)  # row number in the plan
    line: int = Field(ge=0)  # line of the source file; 0 for rows not read from a file
    op: Op | None  # None: the line could not be understood
    target: str  # the journal's key (writes.target_key): user:N, account:N, login:N@environment
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
