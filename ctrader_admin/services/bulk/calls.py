"""A bulk row as a change of the write model (``services/writes``): planning prepares it, the
runner applies it. The same functions serve both, so the call a plan shows is the call sent."""

from __future__ import annotations

import logging
from typing import Protocol

from ctrader_admin.services.bulk.model import Level, Op
from ctrader_admin.services.errors import ServiceError
from ctrader_admin.services.session import Session
from ctrader_admin.services.writes import (
    AccountTarget,
    Current,
    LinkTarget,
    PartnerCode,
    Prepared,
    UserTarget,
    ValueChange,
    WhiteLabel,
    WriteDrift,
    apply,
    judged,
)

log = logging.getLogger(__name__)


class RowFields(Protocol):
    """What an input row and a plan row both say about their change."""

    @property
    def op(self) -> Op | None: ...
    @property
    def level(self) -> Level | None: ...
    @property
    def user_id(self) -> int | None: ...
    @property
    def ctid(self) -> int | None: ...
    @property
    def login(self) -> int | None: ...
    @property
    def environment(self) -> str | None: ...
    @property
    def proposed(self) -> str | None: ...


def change_of(row: RowFields) -> ValueChange:
    """The change a usable row asks for (an account-level row's userId is the link's owner)."""
    assert row.op is not None
    if row.op == "move_wl":
        assert row.login is not None
        return WhiteLabel(AccountTarget(row.login, row.environment or ""), row.proposed or "")
    if row.level == "user":
        assert row.user_id is not None
        return PartnerCode(UserTarget(row.user_id), row.proposed)
    assert row.ctid is not None
    return PartnerCode(LinkTarget(row.ctid, row.user_id), row.proposed)


def prepared_row(session: Session, row: RowFields, current: Current) -> Prepared:
    """A planned row prepared again without a read: ``current`` is what a re-check just read
    (the runner only writes a row whose target still has the value the plan showed). A link's
    owner is the one the re-check read, else the one the plan resolved."""
    change = change_of(row)
    if isinstance(change, PartnerCode) and isinstance(change.target, LinkTarget):
        change = PartnerCode(LinkTarget(change.target.ctid), change.code)
        current = Current(current.value, current.owner or row.user_id)
    return judged(session, change, current)


async def journal_drift(
    session: Session,
    row: RowFields,
    planned: Current,
    now: Current,
    *,
    reason: str,
    ticket: str,
    batch_id: str,
    reverts_id: int | None,
) -> int | None:
    """A row whose target changed since planning, handed to ``apply`` with the re-check's read:
    it sends nothing and journals the refusal. The journal entry's id, or None when there is
    none to write (the plan's own value was already the proposed one)."""
    try:
        await apply(
            session,
            prepared_row(session, row, planned),
            reason=reason,
            ticket=ticket,
            batch_id=batch_id,
            reverts_id=reverts_id,
            checked=now,
        )
    except WriteDrift as drift:
        return drift.journal_id
    except ServiceError as exc:  # the row's refusal stands even if it cannot be journaled
        log.warning("The drift of a row of batch %s was not journaled: %s", batch_id, exc)
    return None
