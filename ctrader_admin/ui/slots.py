"""``@async_slot()``: an ``async def`` handler connected to a Qt signal, run as a task on the
qasync loop (qasync's ``asyncSlot``, typed).

It is our own few lines rather than qasync's decorator because that one imports asyncio and
qasync with the first window's modules (~30 ms); the app shows its window first and puts
asyncio on Qt's loop right after (app.py). A slot can only fire once that loop is there."""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar, cast

from PySide6.QtCore import QObject, Slot

if TYPE_CHECKING:
    import asyncio

P = ParamSpec("P")
S = TypeVar("S")
Handler = Callable[Concatenate[S, P], Awaitable[None]]


def async_slot(*types: type) -> Callable[[Handler[S, P]], Callable[Concatenate[S, P], Any]]:
    """Run the coroutine as a task when the signal fires. Its exceptions reach
    ``sys.excepthook`` (the crash dialog); a cancelled task is not an error."""

    def decorate(handler: Handler[S, P]) -> Callable[Concatenate[S, P], Any]:
        signature = inspect.signature(handler)
        call = cast(Callable[..., Awaitable[None]], handler)

        @Slot(*types)
        @functools.wraps(handler)
        def wrapper(*args: Any) -> asyncio.Future[None]:
            import asyncio

            # Qt drops a signal's trailing arguments that a slot does not take; Python does not.
            while True:
                try:
                    signature.bind(*args)
                    break
                except TypeError:
                    if not args:
                        raise
                    args = args[:-1]
            task = asyncio.ensure_future(call(*args))
            task.add_done_callback(report_failure)
            pending = getattr(args[0], _PENDING, None) if args else None
            if isinstance(pending, set):  # the owner cancels it when destroyed
                pending.add(task)
                task.add_done_callback(pending.discard)
            return task

        return cast(Callable[Concatenate[S, P], Any], wrapper)

    return decorate


_PENDING = "_async_slot_tasks"


def cancel_on_destroy(owner: QObject) -> None:
    """The ``async_slot`` tasks of ``owner`` still under way when it is destroyed are cancelled
    with it: a task awaiting a worker thread (a reload) would otherwise resume after the widget
    is gone and touch its deleted children. The cancellation reaches the task at its ``await``;
    the thread's result is dropped."""
    pending: set[asyncio.Future[None]] = set()
    setattr(owner, _PENDING, pending)
    # Bound to the set, not to the owner: the owner is no longer there when this runs.
    owner.destroyed.connect(functools.partial(_cancel_all, pending))


def _cancel_all(pending: set[asyncio.Future[None]], *_destroyed: object) -> None:
    for task in list(pending):
        task.cancel()


def report_failure(task: asyncio.Future[None]) -> None:
    """A task's done-callback: an expected failure is said in words (the window's message
    bar); any other exception (not a cancellation) goes to ``sys.excepthook``."""
    if not task.cancelled() and (error := task.exception()) is not None:
        from ctrader_admin.ui.notify import show_unhandled

        if not show_unhandled(error):
            sys.excepthook(type(error), error, error.__traceback__)
