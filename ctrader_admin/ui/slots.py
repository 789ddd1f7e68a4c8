"""A typed face for qasync's ``asyncSlot``: an ``async def`` handler connected to a Qt signal."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

from qasync import asyncSlot

P = ParamSpec("P")
S = TypeVar("S")
Handler = Callable[Concatenate[S, P], Awaitable[None]]


def async_slot(*types: type) -> Callable[[Handler[S, P]], Callable[Concatenate[S, P], Any]]:
    """``@async_slot()`` runs the coroutine as a task on the qasync loop when the signal fires.
    Its exceptions reach ``sys.excepthook`` (the crash dialog)."""
    return cast(Callable[[Handler[S, P]], Callable[Concatenate[S, P], Any]], asyncSlot(*types))
