"""The runtime tuning undoes exactly what it did: after a job, the switch interval and the
collector's thresholds are back and what the job left in reference cycles is collected, whether
or not start-up had frozen the heap (which stays frozen)."""

from __future__ import annotations

import gc
import sys
import weakref
from collections.abc import Iterator

import pytest

from ctrader_admin import runtime


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector frees it


@pytest.fixture(autouse=True)
def clean_heap() -> Iterator[None]:
    interval, thresholds = sys.getswitchinterval(), gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)
    sys.setswitchinterval(interval)


@pytest.mark.parametrize("start_up_frozen", [False, True])
def test_a_job_makes_no_full_pass_and_its_cycles_are_collected_after_it(
    start_up_frozen: bool,
) -> None:
    if start_up_frozen:
        gc.freeze()
    frozen = gc.get_freeze_count()
    before = (sys.getswitchinterval(), gc.get_threshold())
    tuning = runtime.JobTuning()
    tuning.start()
    assert sys.getswitchinterval() <= 0.001
    young, middle, full = gc.get_threshold()
    assert (young, middle) == before[1][:2]  # young cycles still go as they come
    assert full >= 1 << 30  # no full pass walks the job's rows
    garbage = weakref.ref(Node())  # made during the job, then dropped
    survivor = Node()
    tuning.end()
    assert garbage() is None
    assert survivor.me is survivor
    assert (sys.getswitchinterval(), gc.get_threshold()) == before
    assert gc.get_freeze_count() == frozen  # what start-up froze stays frozen: a cheap pass
    tuning.end()  # a second end changes nothing
    assert (sys.getswitchinterval(), gc.get_threshold()) == before


def test_a_job_that_never_started_ends_without_touching_anything() -> None:
    before = (sys.getswitchinterval(), gc.get_threshold())
    runtime.JobTuning().end()
    assert (sys.getswitchinterval(), gc.get_threshold()) == before
    assert gc.get_freeze_count() == 0
