"""The runtime tuning undoes exactly what it did: after a job the switch interval is back at
once, and the full collection the job put off runs when the operator leaves the window alone —
then the thresholds are back and what the job left in reference cycles is collected, whether or
not start-up had frozen the heap (which stays frozen)."""

from __future__ import annotations

import gc
import sys
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot

from ctrader_admin import runtime


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector frees it


def old_garbage() -> weakref.ref[Node]:
    """A cycle that became garbage in the oldest generation: no young collection frees it,
    only a full pass does (a job's long-lived row that the job dropped at its end)."""
    node = Node()
    gc.collect(1)  # it survives the young collections (still referenced): now in the oldest
    return weakref.ref(node)


class Waits:
    """A stand-in for ``when_operator_idle``: the test says when the operator is idle."""

    def __init__(self) -> None:
        self.pending: list[Callable[[], None]] = []
        self.cancelled = 0

    def __call__(self, then: Callable[[], None]) -> runtime.IdleWait:
        waits = self

        class Wait:
            def cancel(self) -> None:
                if then in waits.pending:
                    waits.pending.remove(then)
                    waits.cancelled += 1

        self.pending.append(then)
        return Wait()

    def operator_idle(self) -> None:
        for then in list(self.pending):
            self.pending.remove(then)
            then()


@pytest.fixture(autouse=True)
def clean_heap() -> Iterator[None]:
    interval, thresholds = sys.getswitchinterval(), gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)
    sys.setswitchinterval(interval)


@pytest.mark.parametrize("start_up_frozen", [False, True])
def test_a_job_makes_no_full_pass_and_the_one_it_owes_collects_its_cycles(
    start_up_frozen: bool,
) -> None:
    if start_up_frozen:
        gc.freeze()
    frozen = gc.get_freeze_count()
    before = (sys.getswitchinterval(), gc.get_threshold())
    waits = Waits()
    tuning = runtime.JobTuning(waits)
    tuning.start()
    assert sys.getswitchinterval() <= 0.001
    young, middle, full = gc.get_threshold()
    assert (young, middle) == before[1][:2]  # young cycles still go as they come
    assert full >= 1 << 30  # no full pass walks the job's rows
    garbage = old_garbage()  # made during the job, dropped by it
    survivor = Node()
    tuning.end()
    assert sys.getswitchinterval() == before[0]
    assert tuning.owed
    assert len(waits.pending) == 1
    assert garbage() is not None  # the job's end did not pay for the full pass…
    waits.operator_idle()
    assert garbage() is None  # …the operator's first pause did
    assert survivor.me is survivor
    assert not tuning.owed
    assert (sys.getswitchinterval(), gc.get_threshold()) == before
    assert gc.get_freeze_count() == frozen  # what start-up froze stays frozen: a cheaper pass
    tuning.end()  # a second end changes nothing
    tuning.full_pass()
    assert (sys.getswitchinterval(), gc.get_threshold()) == before
    assert not waits.pending


def test_a_job_started_before_the_pass_owes_it_at_its_own_end() -> None:
    before = (sys.getswitchinterval(), gc.get_threshold())
    waits = Waits()
    tuning = runtime.JobTuning(waits)
    tuning.start()
    first = old_garbage()
    tuning.end()
    tuning.start()  # the operator starts the next job at once
    assert waits.cancelled == 1
    assert not waits.pending
    assert gc.get_threshold()[2] >= 1 << 30
    second = old_garbage()
    tuning.end()
    waits.operator_idle()
    assert first() is None
    assert second() is None
    assert (sys.getswitchinterval(), gc.get_threshold()) == before  # not the job's thresholds


def test_repeated_jobs_leave_no_cycles_behind() -> None:
    waits = Waits()
    tuning = runtime.JobTuning(waits)
    for _ in range(3):
        tuning.start()
        left = [old_garbage() for _ in range(50)]
        tuning.end()
        waits.operator_idle()
        assert all(ref() is None for ref in left)
    assert not any(isinstance(obj, Node) for obj in gc.get_objects())


def test_a_job_that_never_started_ends_without_touching_anything() -> None:
    before = (sys.getswitchinterval(), gc.get_threshold())
    waits = Waits()
    tuning = runtime.JobTuning(waits)
    tuning.end()
    tuning.full_pass()
    assert (sys.getswitchinterval(), gc.get_threshold()) == before
    assert gc.get_freeze_count() == 0
    assert not waits.pending
    assert not tuning.owed


@pytest.fixture
def window(qtbot: QtBot) -> QLineEdit:
    """A window on screen, whose input the waits watch."""
    field = QLineEdit()
    qtbot.addWidget(field)
    field.show()
    qtbot.waitExposed(field)
    return field


@pytest.mark.usefixtures("window")
def test_the_owed_pass_runs_in_the_window_once_the_operator_leaves_it_alone(
    qtbot: QtBot,
) -> None:
    before = gc.get_threshold()
    tuning = runtime.JobTuning()  # the real wait, on Qt's loop
    tuning.start()
    garbage = old_garbage()
    tuning.end()
    qtbot.waitUntil(lambda: not tuning.owed, timeout=10_000)
    assert garbage() is None
    assert gc.get_threshold() == before


@pytest.mark.usefixtures("window")
def test_waiting_for_the_operator_calls_once_and_can_be_cancelled(qtbot: QtBot) -> None:
    calls: list[str] = []
    cancelled = runtime.when_operator_idle(lambda: calls.append("cancelled"), idle_ms=50)
    runtime.when_operator_idle(lambda: calls.append("idle"), idle_ms=50)
    cancelled.cancel()
    # The cancelled wait would have come first: started earlier, with the same wait.
    qtbot.waitUntil(lambda: calls == ["idle"])
    latest = runtime.when_operator_idle(
        lambda: calls.append("at latest"), idle_ms=3_600_000, at_latest_ms=50
    )
    qtbot.waitUntil(lambda: calls == ["idle", "at latest"])
    latest.cancel()  # once called, cancelling changes nothing
    assert calls == ["idle", "at latest"]


def test_a_key_pressed_in_the_window_starts_the_wait_again(qtbot: QtBot, window: QLineEdit) -> None:
    calls: list[str] = []
    wait = runtime.when_operator_idle(lambda: calls.append("idle"), idle_ms=3_600_000)
    quiet: Any = wait.quiet  # type: ignore[attr-defined]  # the Qt timer behind the wait
    qtbot.wait(300)
    waited = quiet.remainingTime()
    handle = window.windowHandle()
    assert handle is not None
    qtbot.keyClick(handle, Qt.Key.Key_A)  # as the platform delivers it: to the window
    assert quiet.remainingTime() > waited  # from the start again
    wait.cancel()
    assert calls == []
