"""The collector's pause for the start (runtime.pause_collector_for_start) ends with the first
frame, and undoes only what it did."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from ctrader_admin import runtime


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector frees it


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    gc.enable()
    yield
    runtime.resume_collector()
    gc.enable()


def test_the_start_pauses_the_collector_and_the_first_frame_resumes_it() -> None:
    runtime.pause_collector_for_start()
    assert not gc.isenabled()
    cycle = Node()
    gone = weakref.ref(cycle)
    del cycle
    for _ in range(3 * gc.get_threshold()[0]):  # enough allocations for passes, were it on
        Node()
    assert gone() is not None
    runtime.resume_collector()
    assert gc.isenabled()
    gc.collect()
    assert gone() is None
    runtime.resume_collector()  # a second call changes nothing
    assert gc.isenabled()


def test_a_collector_turned_off_by_someone_else_stays_off() -> None:
    gc.disable()
    runtime.pause_collector_for_start()
    runtime.resume_collector()
    assert not gc.isenabled()
