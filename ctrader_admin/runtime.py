"""Interpreter and event-loop tuning for the desktop app, in one place.

The window must answer within a frame while a bulk job runs and while the app starts. At the
start, Qt's first loop turn comes before the window is exposed and painted: what the app does
there keeps the first frame off the screen, so start-up work waits for the first paint
(``after_first_paint``). Then two things of CPython's get in the way:

- the garbage collector's full passes walk every object alive (the app's modules, Qt's wrappers,
  a job's ten thousand rows): 40–150 ms on a slow workstation, every few seconds. Objects that
  live as long as the app are therefore moved out of its sight once started (``gc.freeze``;
  they are still freed by reference counting), and a job runs with no full pass at all;
- a worker thread holds the GIL for up to the switch interval (5 ms) before the window's thread
  may run, several times per turn of Qt's loop: at a big job's start that adds up to visible
  stalls, so the interval is 1 ms while a job runs.

Nothing else in the package calls these (ruff's banned-api rule, ``pyproject.toml``): tuning
spread over modules is tuning nobody can undo correctly.
"""

from __future__ import annotations

import gc
import linecache
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the first window comes before asyncio is imported (app.py)
    import asyncio
    from collections.abc import Callable

    from PySide6.QtWidgets import QWidget

_JOB_SWITCH_INTERVAL = 0.001
_NO_FULL_PASS = 1 << 30  # gen-1 collections before a full pass: never, during a job


def after_first_paint(
    window: QWidget, then: Callable[[], None], *, at_latest_ms: int = 1000
) -> None:
    """Call ``then()`` once, at the first loop turn after ``window`` painted its first frame, or
    after ``at_latest_ms`` if it is not painted by then (started minimised, on a hidden
    workspace: nothing is drawn until it is looked at, and the start must go on)."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    called = False

    def once() -> None:
        nonlocal called
        if not called:
            called = True
            fallback.stop()
            window.removeEventFilter(watcher)
            watcher.deleteLater()
            then()

    class FirstPaint(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                window.removeEventFilter(self)
                # The main window paints first, its children after it in the same frame: the
                # next turn comes once the whole frame is drawn and on screen.
                QTimer.singleShot(0, once)
            return False

    watcher = FirstPaint(window)
    fallback = QTimer(watcher)
    fallback.setSingleShot(True)
    fallback.timeout.connect(once)
    fallback.start(at_latest_ms)
    window.installEventFilter(watcher)


def forget_module_sources() -> None:
    """PySide6 reads the whole source of every module imported after it into linecache (to see
    whether the module uses its ``__feature__`` switches): several MB of text nobody reads
    again. Dropped after each batch of imports, that memory serves the next batch instead of
    staying behind as holes in the heap."""
    linecache.clearcache()


def settle_start_up_heap() -> None:
    """Once the first profile is open: drop what start-up alone needed, and keep what lives as
    long as the app out of the collector's full passes."""
    forget_module_sources()
    gc.freeze()


class JobTuning:
    """The tuning of one bulk job run from the window: ``start`` before it, ``end`` after it.
    ``end`` undoes exactly what ``start`` did.

    During the job the collector makes no full pass (its third threshold is out of reach): the
    young generations are still collected, so the job's short-lived cycles go as they come,
    while its long-lived rows are never walked. At the end, one collection frees what the job
    left; what start-up froze stays frozen, so that pass walks only what was made since start-up
    (unfreezing the start-up heap to collect it cost a ~110 ms stall at every job's end)."""

    def __init__(self) -> None:
        self._previous_interval: float | None = None
        self._previous_thresholds: tuple[int, int, int] | None = None

    @property
    def active(self) -> bool:
        return self._previous_interval is not None

    def start(self) -> None:
        if self.active:
            return
        self._previous_thresholds = gc.get_threshold()
        young, middle, _full = self._previous_thresholds
        gc.set_threshold(young, middle, _NO_FULL_PASS)
        self._previous_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self._previous_interval, _JOB_SWITCH_INTERVAL))

    def end(self) -> None:
        if self._previous_interval is None or self._previous_thresholds is None:
            return
        sys.setswitchinterval(self._previous_interval)
        gc.set_threshold(*self._previous_thresholds)
        self._previous_interval = self._previous_thresholds = None
        gc.collect()


def mark_running_loop(loop: asyncio.AbstractEventLoop | None) -> None:
    """Mark ``loop`` as this thread's running loop (None: no loop). A qasync loop started inside
    Qt's own loop (``already_running``) is marked so for good; asyncio has no public call to
    change that, and this is the one use of its private one."""
    import asyncio

    asyncio.events._set_running_loop(loop)


def detach_running_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Stop and close such a loop: asyncio refuses to close a loop marked running."""
    loop.stop()
    mark_running_loop(None)
    loop.close()
