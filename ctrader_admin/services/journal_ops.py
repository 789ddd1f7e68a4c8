"""Journal use cases: revert one entry, export a filtered view, turn a target into a lookup.

A revert is the entry's inverse change (``writes.inverse``), prepared and applied like any write:
it passes the same gate (read-only check, reason/ticket, budget) and is journaled itself, with
``reverts_id`` pointing at the entry it undoes. Preparing reads the current value: if the target
no longer has the value the entry left (someone changed it since), the revert is refused unless
forced; and applying sends it only if the value is still the one the operator confirmed.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ctrader_admin.services import accounts
from ctrader_admin.services.accounts import WhiteLabelMove
from ctrader_admin.services.errors import NotRevertible, ReadOnlyProfile, ServiceError
from ctrader_admin.services.session import Session
from ctrader_admin.services.writes import Action, Prepared, apply, inverse, lookup_query, prepare
from ctrader_admin.services.writes.targets import ACTION_NAMES, action_name
from ctrader_admin.store.journal import Journal, JournalEntry, JournalFilter

# Re-exported for the Journal tab: a target as a Lookup query, an action in words.
__all__ = ["ACTION_NAMES", "action_name", "lookup_query"]

REVERTIBLE_ACTIONS = frozenset({Action.SET_PARTNER, Action.DELETE_PARTNER, Action.MOVE_WL})
_PAGE = 200

_NOT_REVERTIBLE: dict[str, str] = {
    Action.CREATE_USER: (
        "Creating a cTID user cannot be undone: the API has no call to delete a user."
    ),
    Action.LINK_ACCOUNT: (
        "Linking an account cannot be undone: the API has no call to unlink an account from a "
        "cTID user."
    ),
}


class RevertDrift(NotRevertible):
    """The target changed since the entry: reverting would overwrite someone else's change."""

    def __init__(self, message: str, *, current: str | None, expected: str | None) -> None:
        super().__init__(message)
        self.current = current
        self.expected = expected


class ExportFailed(ServiceError):
    pass


def show_value(value: str | None) -> str:
    return "(none)" if value is None else value


def local_time(at_utc: str) -> str:
    """``2024-05-01T12:34:56.789Z`` as this computer's local time, to the second."""
    try:
        moment = datetime.fromisoformat(at_utc)
    except ValueError:
        return at_utc
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def static_refusal(entry: JournalEntry) -> str | None:
    """Why the entry cannot be reverted whatever the backend says, or None."""
    if entry.action in _NOT_REVERTIBLE:
        return _NOT_REVERTIBLE[entry.action]
    if entry.action not in REVERTIBLE_ACTIONS:
        return f"Entries of the action '{entry.action}' cannot be reverted here."
    if entry.outcome in ("failed", "refused"):
        return (
            f"Entry #{entry.id} is a {entry.outcome} attempt: nothing was changed, so there is "
            "nothing to revert."
        )
    if entry.action == "move_wl" and entry.before is None:
        return (
            f"Entry #{entry.id} does not record the White Label the account was on before, so "
            "it cannot be moved back automatically."
        )
    if entry.action == "delete_partner" and entry.before is None:
        return f"Entry #{entry.id} does not record the partnerId that was deleted."
    return None


def reverted_by(journal: Journal, entry: JournalEntry) -> JournalEntry | None:
    """The successful entry that already reverted ``entry``, if there is one.

    Reverts write to the same target, so the text filter on the target narrows the search to the
    few entries of that target (an indexed query, whatever the size of the journal).
    """
    flt = JournalFilter(text=entry.target, outcome="ok")
    offset = 0
    while True:
        page = journal.page(flt, offset, _PAGE)
        for candidate in page:
            if candidate.reverts_id == entry.id and candidate.target == entry.target:
                return candidate
        if len(page) < _PAGE:
            return None
        offset += _PAGE


@dataclass(frozen=True)
class RevertPlan:
    """What a revert of ``entry`` would do: the inverse change, prepared from the values read
    just now."""

    entry: JournalEntry
    prepared: Prepared  # the change that puts back the entry's "before"

    @property
    def kind(self) -> Action:
        return self.prepared.action  # the write that undoes the entry

    @property
    def field(self) -> str:
        return self.prepared.field_label

    @property
    def target_text(self) -> str:
        return self.prepared.target.describe()

    @property
    def current(self) -> str | None:
        return self.prepared.current  # read from the backend just now

    @property
    def expected(self) -> str | None:
        return self.entry.after  # what the entry left

    @property
    def restore(self) -> str | None:
        return self.prepared.proposed  # what the revert writes back (the entry's "before")

    @property
    def drift(self) -> bool:
        return self.current != self.expected

    def changes(self) -> list[tuple[str, str]]:
        """The rows of the confirmation dialog: which entry, which target, from → to."""
        entry = self.entry
        rows = [
            (
                "Entry",
                f"#{entry.id} · {entry.action} · {local_time(entry.at_utc)} · by {entry.operator}",
            ),
            ("Target", self.target_text),
        ]
        to = show_value(self.restore)
        if self.kind == Action.DELETE_PARTNER:
            to += "  (the partnerId record is deleted)"
        rows.append((self.field, f"{show_value(self.current)} → {to}"))
        if self.drift:
            rows.append(
                (
                    "⚠ Changed since",
                    f"now {show_value(self.current)}; entry #{entry.id} left "
                    f"{show_value(self.expected)}. Reverting overwrites that later change.",
                )
            )
        if entry.outcome == "unknown":
            rows.append(
                (
                    "Note",
                    "The outcome of this entry was unknown; the value above was read from the "
                    "server just now.",
                )
            )
        return rows


@dataclass(frozen=True)
class RevertResult:
    plan: RevertPlan
    entry: JournalEntry | None  # the new journal entry (reverts_id = plan.entry.id)
    move: WhiteLabelMove | None = None  # for a White Label move: what the read-back showed

    @property
    def confirmed(self) -> bool:
        """False only for a move whose read-back does not show the restored White Label."""
        return self.move is None or self.move.confirmed

    def message(self) -> str:
        plan = self.plan
        new = f" (journal entry #{self.entry.id})" if self.entry is not None else ""
        if self.move is not None and not self.move.confirmed:
            if self.move.after is None:
                return (
                    f"Entry #{plan.entry.id}: the move back to {plan.restore} was sent{new}, but "
                    f"reading the account back failed ({self.move.read_back_error}). Look the "
                    "account up to check its White Label."
                )
            return (
                f"Entry #{plan.entry.id}: the account is still on {self.move.after} after the "
                f"move back to {plan.restore} was sent{new}."
            )
        return (
            f"Entry #{plan.entry.id} reverted: {plan.field} of {plan.target_text} is "
            f"{show_value(plan.restore)} again{new}."
        )


def _entry(session: Session, entry_or_id: JournalEntry | int) -> JournalEntry:
    if isinstance(entry_or_id, JournalEntry):
        return entry_or_id
    entry = session.journal.entry(entry_or_id)
    if entry is None:
        raise NotRevertible(f"There is no journal entry #{entry_or_id}.")
    return entry


def check_revertible(session: Session, entry: JournalEntry) -> None:
    """Every refusal that needs no backend read; raises NotRevertible."""
    problem = static_refusal(entry)
    if problem is not None:
        raise NotRevertible(problem)
    if entry.profile_id != session.profile.id:
        raise NotRevertible(
            f"Entry #{entry.id} was written on the connection '{entry.profile_name}' "
            f"({entry.profile_id}); switch to that connection to revert it."
        )
    if session.profile.read_only:
        raise ReadOnlyProfile(session.profile.name)
    earlier = reverted_by(session.journal, entry)
    if earlier is not None:
        raise NotRevertible(
            f"Entry #{entry.id} was already reverted by entry #{earlier.id} "
            f"({local_time(earlier.at_utc)}, operator {earlier.operator})."
        )


async def describe_revert(session: Session, entry_or_id: JournalEntry | int) -> RevertPlan:
    """Check that the entry can be reverted and prepare its inverse (the target's value read
    now). Raises NotRevertible with the reason in words. A plan whose ``drift`` is True is
    returned (the caller decides); ``revert`` refuses it unless forced."""
    entry = _entry(session, entry_or_id)
    check_revertible(session, entry)
    prepared = await prepare(session, inverse(entry))
    prepared.check()
    plan = RevertPlan(entry, prepared)
    if prepared.verdict == "skip":
        if entry.outcome == "unknown" and plan.current != plan.expected:
            why = "the change of this entry was apparently never applied"
        else:
            why = "it was already put back"
        raise NotRevertible(
            f"Nothing to revert: the {plan.field} of {plan.target_text} is already "
            f"{show_value(plan.restore)}, the value from before entry #{entry.id} ({why})."
        )
    return plan


def drift_error(plan: RevertPlan) -> RevertDrift:
    return RevertDrift(
        f"Entry #{plan.entry.id} cannot be reverted safely: the {plan.field} of "
        f"{plan.target_text} was changed since. Expected {show_value(plan.expected)} (what the "
        f"entry left), but it is now {show_value(plan.current)}. Look the target up and set "
        "the value there if it still needs to change.",
        current=plan.current,
        expected=plan.expected,
    )


async def revert(
    session: Session,
    entry_or_plan: int | RevertPlan,
    *,
    reason: str,
    ticket: str,
    force: bool = False,
) -> RevertResult:
    """Write the entry's earlier value back, journaled with ``reverts_id`` = the entry. Given a
    plan (what the operator confirmed), it is sent only if the target still has the value the
    plan read.

    Refused (NotRevertible) for creates, links, failed entries, entries already reverted, and —
    unless ``force`` — when the target no longer has the value the entry left.
    """
    session.check_can_write(reason, ticket)
    if isinstance(entry_or_plan, RevertPlan):
        plan = entry_or_plan
    else:
        plan = await describe_revert(session, entry_or_plan)
    if plan.drift and not force:
        raise drift_error(plan)
    applying = apply(session, plan.prepared, reason=reason, ticket=ticket, reverts_id=plan.entry.id)
    if plan.kind == Action.MOVE_WL:
        move = await accounts.moved(session, plan.prepared, applying)
        written = session.journal.entry(move.journal_id) if move.journal_id else None
        return RevertResult(plan, written, move)
    return RevertResult(plan, (await applying).entry)


# --- export -------------------------------------------------------------------------------------


def export_csv(journal: Journal, flt: JournalFilter | None, path: Path | str) -> int:
    """Write the entries matching ``flt`` to ``path`` as CSV (UTF-8 with a BOM, so spreadsheets
    read it right); returns the number of rows. The file appears complete or not at all."""
    target = Path(path)
    partial = target.with_name(f".{target.name}.partial")
    try:
        with partial.open("w", encoding="utf-8-sig", newline="") as file:
            count = journal.export_csv(flt, file)
        os.replace(partial, target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise ExportFailed(
            f"The journal could not be written to {target}: {exc.strerror or exc}."
        ) from None
    return count


async def export_csv_async(journal: Journal, flt: JournalFilter | None, path: Path | str) -> int:
    """``export_csv`` on a worker thread (a big journal takes seconds)."""
    return await asyncio.to_thread(export_csv, journal, flt, path)
