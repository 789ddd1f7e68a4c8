"""Group commit of the journal (what a bulk job's concurrent writes go through): the calls in
flight share transactions, every attempt is recorded exactly once, the chain stays intact, and a
cancelled caller leaves no orphaned intent."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import pytest

from ctrader_admin.store.database import Database
from ctrader_admin.store.journal import Journal, JournalDraft, JournalError

T = TypeVar("T")


def run(awaitable: Awaitable[T]) -> T:
    # A fresh loop on a worker thread: a qasync loop of the UI tests may own the main thread.
    async def main() -> T:
        return await awaitable

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, main()).result()


def draft(target: str, **fields: object) -> JournalDraft:
    values: dict[str, object] = {
        "operator": "30001",
        "profile_id": "sandbox",
        "profile_name": "Sandbox",
        "environment": "",
        "broker_name": "",
        "action": "set_partner",
        "target": target,
        "batch_id": "b1",
    }
    values.update(fields)
    return JournalDraft(**values)  # type: ignore[arg-type]


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    database = Database(tmp_path / "journal.sqlite3")
    yield Journal(database)
    database.close()


def test_concurrent_writers_share_transactions_and_the_chain_verifies(
    journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    groups: list[int] = []
    original = Journal._run_group

    def counting(self: Journal, ops: list[object]) -> object:
        groups.append(len(ops))
        return original(self, ops)  # type: ignore[arg-type]

    monkeypatch.setattr(Journal, "_run_group", counting)

    async def one(n: int) -> int:
        intent = await journal.begin_async(draft(f"user:{n}"))
        await asyncio.sleep(0)
        entry = await journal.complete_async(intent, "ok", response_text=f"#{n}")
        return entry.id

    async def scenario() -> list[int]:
        return await asyncio.gather(*(one(n) for n in range(40)))

    ids = run(scenario())
    assert sorted(ids) == list(range(1, 41))
    assert sum(groups) == 80  # every begin and every complete, once
    assert len(groups) < 80  # and grouped
    assert journal.pending_count() == 0
    assert journal.verify().ok
    assert {e.target for e in journal.iter_entries()} == {f"user:{n}" for n in range(40)}


def test_a_refused_op_fails_alone(journal: Journal) -> None:
    async def scenario() -> tuple[object, object]:
        good = journal.begin_async(draft("user:1"))
        bad = journal.complete_async(9999, "ok")
        return tuple(await asyncio.gather(good, bad, return_exceptions=True))  # type: ignore[return-value]

    intent, error = run(scenario())
    assert isinstance(intent, int)
    assert isinstance(error, JournalError)
    assert journal.pending_count() == 1


def test_a_cancelled_begin_leaves_no_orphaned_intent(journal: Journal) -> None:
    async def scenario() -> None:
        task = asyncio.ensure_future(journal.begin_async(draft("user:7")))
        await asyncio.sleep(0)  # submitted, the group is being written
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        for _ in range(50):  # the abandoned intent is completed by the next group
            if journal.pending_count() == 0 and journal.count() == 1:
                break
            await asyncio.sleep(0.01)

    run(scenario())
    assert journal.pending_count() == 0
    entries = list(journal.iter_entries())
    assert [(e.target, e.outcome) for e in entries] == [("user:7", "failed")]
    assert "nothing was sent" in (entries[0].error or "")


def test_an_unknown_outcome_is_refused_before_anything_is_queued(journal: Journal) -> None:
    with pytest.raises(JournalError):
        run(journal.complete_async(1, "maybe"))  # type: ignore[arg-type]


def test_two_event_loops_can_use_one_journal(journal: Journal) -> None:
    async def writes(prefix: str) -> None:
        for n in range(5):
            await journal.complete_async(await journal.begin_async(draft(f"{prefix}:{n}")), "ok")

    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(asyncio.run, writes("user"))
        second = pool.submit(asyncio.run, writes("account"))
        first.result()
        second.result()
    assert journal.count() == 10
    assert journal.verify().ok
