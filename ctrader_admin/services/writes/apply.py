"""``apply(session, prepared, …)``: send a prepared write through the session's gate, on one
condition: the target still holds the value the operator confirmed. If it changed since
``prepare``, nothing is sent, the journal records the refusal, and ``WriteDrift`` says so."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TypeVar

from ctrader_admin.services.budget import Reservation
from ctrader_admin.services.errors import ApprovalRequired, ServiceError
from ctrader_admin.services.session import (
    ReadBack,
    ReadBackCheck,
    ReadBackProof,
    Session,
    WriteIntent,
)
from ctrader_admin.services.writes.changes import LinkAccount
from ctrader_admin.services.writes.prepared import Prepared, show
from ctrader_admin.services.writes.reading import Current, read_current
from ctrader_admin.services.writes.requests import send
from ctrader_admin.services.writes.targets import EmailTarget, target_key
from ctrader_admin.store.journal import JournalEntry

T = TypeVar("T")
Slot = Callable[[], AbstractAsyncContextManager[object]]


class WriteDrift(ServiceError):
    """The target changed between confirm and send: nothing was sent."""

    def __init__(self, prepared: Prepared, now: str | None, journal_id: int) -> None:
        super().__init__(
            f"Not sent: the {prepared.field_label} of {prepared.target.describe()} changed "
            f"since it was confirmed — was {show(prepared.current)}, now {show(now)}. "
            "Look it up again and decide on the value it has now."
        )
        self.before = prepared.current
        self.now = now
        self.journal_id = journal_id


@dataclass(frozen=True)
class Applied:
    prepared: Prepared
    entry: JournalEntry | None  # None: nothing was sent (the value was already as asked)
    result: object = None  # the backend's answer, or the ReadBackProof of a lost one
    check: ReadBackCheck | None = None  # the read-back after the answer (``confirm``)

    @property
    def sent(self) -> bool:
        return self.entry is not None

    @property
    def proof(self) -> ReadBackProof | None:
        return self.result if isinstance(self.result, ReadBackProof) else None


def intent_of(
    prepared: Prepared,
    *,
    reason: str,
    ticket: str,
    batch_id: str | None = None,
    reverts_id: int | None = None,
    approval_id: int | None = None,
) -> WriteIntent:
    """What the journal records before the write leaves."""
    assert prepared.request is not None
    return WriteIntent(
        action=prepared.action.value,
        target=target_key(prepared.target),
        before=prepared.current,
        after=prepared.proposed,
        reason=reason,
        ticket=ticket,
        environment=prepared.environment,
        broker_name=prepared.broker_name,
        request=prepared.request.wire(),
        batch_id=batch_id,
        reverts_id=reverts_id,
        approval_id=approval_id,
    )


async def _in_slot(call: Callable[[], Awaitable[T]], slot: Slot | None) -> T:
    # The request is made only once the slot is held: a write cancelled while it waits for one
    # leaves no coroutine behind that was never awaited.
    if slot is None:
        return await call()
    async with slot():
        return await call()


async def apply(
    session: Session,
    prepared: Prepared,
    *,
    reason: str = "",
    ticket: str = "",
    batch_id: str | None = None,
    reverts_id: int | None = None,
    reserved: Reservation | None = None,
    slot: Slot | None = None,
    checked: Current | None = None,
    confirm: bool = False,
    approval_id: int | None = None,
) -> Applied:
    """Send ``prepared`` if its target still has the value ``prepare`` read (re-read here, or
    ``checked``: a read the caller made just now). A bulk job brings the budget slot it took
    (``reserved``: spent only if the write is journaled) and holds ``slot`` only while the
    request is out. ``confirm``: read
    the target back after the answer and record it in the write's journal entry."""
    prepared.check()
    session.check_can_write(reason, ticket)
    if prepared.verdict == "skip":
        return Applied(prepared, None)
    intent = intent_of(
        prepared,
        reason=reason,
        ticket=ticket,
        batch_id=batch_id,
        reverts_id=reverts_id,
        approval_id=approval_id,
    )
    target = prepared.target
    read_back: ReadBack | None = None
    if not isinstance(target, EmailTarget) and not isinstance(prepared.change, LinkAccount):
        value_target = target
        now = checked if checked is not None else await read_current(session, value_target)
        if now.value != prepared.current:
            why = (
                f"not sent: the value changed since it was confirmed — was "
                f"{show(prepared.current)}, now {show(now.value)}"
            )
            entry = await session.refuse(intent, why)
            raise WriteDrift(prepared, now.value, entry.id)

        async def read_value() -> str | None:
            return (await read_current(session, value_target)).value

        read_back = read_value
    request = prepared.request
    assert request is not None
    try:
        written = await session.write(
            intent,
            lambda: _in_slot(lambda: send(session.client, request), slot),
            reserved=reserved,
            read_back=read_back,
            confirm=confirm,
        )
    except ApprovalRequired as exc:
        # The change as prepared, so the operator can submit it for approval as it is.
        from ctrader_admin.services.approved_write import body_of

        exc.change = body_of(prepared, session.profile.id, "")
        raise
    return Applied(prepared, written.entry, written.result, written.check)
