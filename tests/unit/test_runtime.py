"""The runtime tuning undoes exactly what it did: after a job, the switch interval is back and
what the job left in reference cycles is collected, whether or not start-up had frozen the heap."""

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
def clean_heap(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    interval = sys.getswitchinterval()
    yield
    gc.unfreeze()
    sys.setswitchinterval(interval)


@pytest.mark.parametrize("start_up_frozen", [False, True])
def test_a_job_s_cycles_are_collected_after_it(
    start_up_frozen: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime, "_start_up_frozen", start_up_frozen)
    if start_up_frozen:
        gc.freeze()
    before = sys.getswitchinterval()
    tuning = runtime.JobTuning()
    tuning.start()
    assert sys.getswitchinterval() <= 0.001
    garbage = weakref.ref(Node())  # made during the job, then dropped
    tuning.rows_made()
    assert garbage() is not None  # frozen with the job's rows: no full pass may free it
    tuning.end()
    assert garbage() is None
    assert sys.getswitchinterval() == before
    assert (gc.get_freeze_count() > 0) is start_up_frozen
    tuning.end()  # a second end changes nothing
    assert sys.getswitchinterval() == before


def test_a_job_that_never_started_ends_without_touching_anything() -> None:
    before = sys.getswitchinterval()
    runtime.JobTuning().end()
    assert sys.getswitchinterval() == before
    assert gc.get_freeze_count() == 0
