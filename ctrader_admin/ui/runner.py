"""The one shape of every async handler (docs/design.md rule 6): disable the controls, show a busy
state that can be cancelled, await the service, show expected errors in words, re-enable.

A rejected token opens the log-in dialog; after a successful log-in the action runs once more
(the rejected request was not applied, so sending it again is safe)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Generic, NamedTuple, TypeVar

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from ctrader_admin.ui.notify import Level, MessageBar, is_expected

if TYPE_CHECKING:
    import asyncio  # imported when the first action runs: the first window goes without it

T = TypeVar("T")
LoginPrompt = Callable[[BaseException], Awaitable[bool]]  # the refusal → logged in?


class Done(NamedTuple, Generic[T]):
    value: T


class BusyPanel(QWidget):
    """An indeterminate progress bar, what is being done, for how long, and Cancel."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        self.bar.setMaximumWidth(160)
        self.bar.setTextVisible(False)
        self.label = QLabel()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop waiting for the server (Esc)")
        layout.addWidget(self.bar)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.cancel_button)
        self._what = ""
        self._started = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(200)
        self._timer.timeout.connect(self._tick)
        self._task: asyncio.Future[object] | None = None
        self.cancel_button.clicked.connect(self.cancel)
        self.hide()

    def start(self, what: str, task: asyncio.Future[object]) -> None:
        self._what, self._task, self._started = what, task, time.monotonic()
        self._tick()
        self._timer.start()
        self.show()

    def stop(self) -> None:
        self._timer.stop()
        self._task = None
        self.hide()

    def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()

    @property
    def busy(self) -> bool:
        return self._task is not None

    def _tick(self) -> None:
        elapsed = time.monotonic() - self._started
        self.label.setText(f"{self._what}… {elapsed:.0f} s" if elapsed >= 1 else f"{self._what}…")


class Runner:
    def __init__(
        self,
        *,
        bar: MessageBar,
        busy: BusyPanel,
        login_prompt: LoginPrompt,
        on_finished: Callable[[], None] = lambda: None,
    ) -> None:
        self.bar = bar
        self.busy = busy
        self._login_prompt = login_prompt
        self._on_finished = on_finished

    async def run(
        self,
        what: str,
        make: Callable[[], Awaitable[T]],
        *,
        controls: Sequence[QWidget] = (),
    ) -> Done[T] | None:
        """Run ``make()``; None when it failed (already told to the operator) or was cancelled."""
        import asyncio

        self.bar.hide()
        for control in controls:
            control.setEnabled(False)
        try:
            for attempt in (1, 2):
                task: asyncio.Future[T] = asyncio.ensure_future(make())
                self.busy.start(what, task)  # type: ignore[arg-type]
                try:
                    return Done(await task)
                except asyncio.CancelledError:
                    if not task.cancelled():
                        raise  # the handler itself is being cancelled (window closing)
                    self.bar.show_message(
                        Level.WARNING,
                        f"{what}: cancelled. A change that was already sent may still be "
                        "applied; the journal records it as 'unknown'.",
                    )
                    return None
                except Exception as exc:
                    if not is_expected(exc):
                        raise  # a bug: the crash dialog takes it
                    needs_login = bool(getattr(exc, "needs_login", False))
                    self.busy.stop()
                    if needs_login and attempt == 1 and await self._login_prompt(exc):
                        continue
                    self.bar.show_error(exc)
                    return None
                finally:
                    self.busy.stop()
            return None
        finally:
            for control in controls:
                control.setEnabled(True)
            self._on_finished()
