"""Interpreter and event-loop tuning for the desktop app, in one place.

The window must answer within a frame while a bulk job runs and while the app starts. At the
start, Qt's first loop turn comes before the window is exposed and painted: what the app does
there keeps the first frame off the screen, so start-up work waits for the first paint
(``after_first_paint``). Then two things of CPython's get in the way:

- the garbage collector's full passes walk every object alive (the app's modules, Qt's wrappers,
  a job's ten thousand rows): 40–150 ms on a slow workstation, every few seconds. Objects that
  live as long as the app are therefore moved out of its sight once started (``gc.freeze``;
  they are still freed by reference counting), and a job runs with no full pass at all: the
  pass it owes runs once the operator leaves the window alone (``when_operator_idle``);
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
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # the first window comes before asyncio is imported (app.py)
    import asyncio

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


_paused_for_start: list[bool] = []  # the collector was turned off by the start


def pause_collector_for_start() -> None:
    """From the start until the first frame (``resume_collector``): no collector pass. Start-up
    makes tens of thousands of objects that live as long as the app (the modules, Qt's wrappers,
    PySide's enums); the collector's ~45 passes over them took ~7 ms of CPU before the first
    frame and freed ~50 objects. Cycles made meanwhile are collected by the passes after it."""
    if gc.isenabled():
        gc.disable()
        _paused_for_start.append(True)


def resume_collector() -> None:
    """Undo ``pause_collector_for_start`` (only what it did: a collector disabled by someone
    else stays so)."""
    if _paused_for_start:
        _paused_for_start.clear()
        gc.enable()


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


class IdleWait(Protocol):
    def cancel(self) -> None: ...


# Given what to call, waits for the operator to leave the window alone and calls it.
WhenIdle = Callable[[Callable[[], None]], IdleWait]

_IDLE_MS = 2000  # no key or mouse input for this long: the operator is reading, not working
_AT_LATEST_MS = 60_000  # an operator who never pauses gets the pass anyway, once


def when_operator_idle(
    then: Callable[[], None], *, idle_ms: int = _IDLE_MS, at_latest_ms: int = _AT_LATEST_MS
) -> IdleWait:
    """Call ``then()`` once, when neither the keyboard nor the mouse has been used in the
    application's windows for ``idle_ms`` (after ``at_latest_ms`` in any case). For work that
    freezes the window for a few frames and can wait: a frame lost while nobody acts on the
    window is not seen; one lost under the operator's hand is. ``cancel()`` on the answer: never
    called.

    The input is watched on the top-level windows open when the wait starts (``QWindow``:
    every key and mouse event reaches a window before its widgets), not on the whole
    application: a filter there hands
    Python every event of every object, and PySide6 built ~70 enum classes (~12 ms) the first
    time it saw some of them, in the very turn that this wait spares."""
    from PySide6.QtCore import QEvent, QObject, Qt, QTimer
    from PySide6.QtGui import QGuiApplication
    from shiboken6 import isValid

    app = QGuiApplication.instance()
    windows = QGuiApplication.topLevelWindows() if isinstance(app, QGuiApplication) else []
    if not windows:  # no window to keep answering
        then()
        return _Done()
    input_events = {
        QEvent.Type.KeyPress,
        QEvent.Type.KeyRelease,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseButtonRelease,
        QEvent.Type.MouseButtonDblClick,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
        QEvent.Type.TouchUpdate,
    }

    class Wait(QObject):
        def __init__(self) -> None:
            super().__init__(app)  # kept by the application until it is done, not by the caller
            self.quiet = QTimer(self)
            self.quiet.setTimerType(Qt.TimerType.PreciseTimer)  # its time left is exact
            self.quiet.setSingleShot(True)
            self.quiet.setInterval(idle_ms)
            self.quiet.timeout.connect(self._fire)
            self.latest = QTimer(self)
            self.latest.setSingleShot(True)
            self.latest.setInterval(at_latest_ms)
            self.latest.timeout.connect(self._fire)
            self.waiting = True

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() in input_events:
                self.quiet.start()  # from the start again
            return False

        def cancel(self) -> None:
            if self.waiting:
                self.waiting = False
                self.quiet.stop()
                self.latest.stop()
                for window in windows:
                    if isValid(window):  # a dialog's window may be gone meanwhile
                        window.removeEventFilter(self)
                self.deleteLater()

        def _fire(self) -> None:
            if self.waiting:
                self.cancel()
                then()

    wait = Wait()
    for window in windows:
        window.installEventFilter(wait)
    wait.quiet.start()
    wait.latest.start()
    return wait


class _Done:
    def cancel(self) -> None:
        pass


class JobTuning:
    """The tuning of one bulk job run from the window: ``start`` before it, ``end`` after it.
    Once the full pass it put off has run, nothing of it is left.

    During the job the collector makes no full pass (its third threshold is out of reach): the
    young generations are still collected, so the job's short-lived cycles go as they come,
    while its long-lived rows are never walked. That full pass is owed, not skipped: ``end``
    hands it to ``when_idle``, and it runs (with the thresholds restored) once the operator has
    left the window alone. Even walking only what was made since start-up (what start-up froze
    stays frozen: unfreezing it cost ~110 ms) it is one indivisible pass over the plan on
    screen, 30–60 ms for 10 000 rows: at the job's last turn it was the window's longest freeze,
    while nobody touching the window sees none. A job that starts before then owes it again."""

    def __init__(self, when_idle: WhenIdle | None = None) -> None:
        self._when_idle = when_idle or when_operator_idle
        self._previous_interval: float | None = None
        self._previous_thresholds: tuple[int, int, int] | None = None
        self._pass: IdleWait | None = None

    @property
    def active(self) -> bool:
        """A job runs under this tuning."""
        return self._previous_interval is not None

    @property
    def owed(self) -> bool:
        """The full pass put off by a job has not run yet."""
        return self._previous_thresholds is not None and not self.active

    def start(self) -> None:
        if self.active:
            return
        if self._pass is not None:  # the previous job's pass: this job's end owes it
            self._pass.cancel()
            self._pass = None
        if self._previous_thresholds is None:
            self._previous_thresholds = gc.get_threshold()
            young, middle, _full = self._previous_thresholds
            gc.set_threshold(young, middle, _NO_FULL_PASS)
        self._previous_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self._previous_interval, _JOB_SWITCH_INTERVAL))

    def end(self) -> None:
        if self._previous_interval is None:
            return
        sys.setswitchinterval(self._previous_interval)
        self._previous_interval = None
        self._pass = self._when_idle(self.full_pass)

    def full_pass(self) -> None:
        """The full collection a job put off, and the thresholds back (at once, also when the
        window is closing)."""
        if self.active or self._previous_thresholds is None:
            return
        if self._pass is not None:
            self._pass.cancel()
            self._pass = None
        gc.set_threshold(*self._previous_thresholds)
        self._previous_thresholds = None
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
