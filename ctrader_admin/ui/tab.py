"""Base of every tab: a message bar, a busy panel with Cancel, and the runner that ties them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QVBoxLayout, QWidget

from ctrader_admin.services.errors import InvalidInput
from ctrader_admin.ui.context import UiContext
from ctrader_admin.ui.notify import MessageBar
from ctrader_admin.ui.runner import BusyPanel
from ctrader_admin.ui.slots import cancel_on_destroy
from ctrader_admin.ui.widgets import heading, hint, mark_invalid


class Tab(QWidget):
    title = ""
    help_text = ""
    # Emitted whenever one of the tab's jobs ends (done, failed or cancelled): tests wait on it.
    finished = Signal()

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        cancel_on_destroy(self)  # a reload still reading must not outlive the tab
        self.ctx = ctx
        self._working = False  # one action at a time (``working``)
        self.outer = QVBoxLayout(self)
        self.outer.setContentsMargins(16, 12, 16, 12)
        self.outer.addWidget(heading(self.title))
        if self.help_text:
            self.outer.addWidget(hint(self.help_text))
        self.body = QVBoxLayout()
        self.outer.addLayout(self.body, 1)
        self.bar = MessageBar()
        self.busy = BusyPanel()
        self.outer.addWidget(self.busy)
        self.outer.addWidget(self.bar)
        self.runner = ctx.runner(self.bar, self.busy, self.finished.emit)
        cancel = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        cancel.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        cancel.activated.connect(self.busy.cancel)
        self._invalid: dict[str, str] = {}  # the problems shown, by field label
        self._invalid_fields: Mapping[str, QWidget] = {}
        ctx.session_changed.connect(self._drop_login_message)
        ctx.session_changed.connect(self.on_session_changed)

    def _drop_login_message(self) -> None:
        """Logged in now: a "log in first" message shown earlier no longer applies."""
        session = self.ctx.current_session
        cause = self.bar.cause
        if session is not None and session.logged_in and getattr(cause, "needs_login", False):
            self.bar.hide()

    def on_session_changed(self) -> None:
        """Override to refresh what depends on the profile (write controls, WL lists)."""

    def _refresh_controls(self) -> None:
        """Override to enable what can be used now (e.g. nothing that writes while working)."""

    @contextmanager
    def working(self) -> Iterator[None]:
        """While an action runs: ``_working`` is set and the controls say so, whatever the
        action's outcome."""
        self._working = True
        self._refresh_controls()
        try:
            yield
        finally:
            self._working = False
            self._refresh_controls()

    def show_invalid(self, exc: InvalidInput, fields: Mapping[str, QWidget]) -> None:
        """Say what is wrong, outline the named fields and put the focus on the first one."""
        self.bar.show_error(exc)
        self._invalid = dict(exc.problems)
        self._invalid_fields = fields
        field = mark_invalid(fields, exc.problems)
        if field is not None:
            field.setFocus()

    def field_edited(self, widget: QWidget) -> None:
        """The operator changed a field: its outline and its part of the message go; the message
        goes when no problem it named is left."""
        mark_invalid({"": widget}, {})
        fixed = [label for label, w in self._invalid_fields.items() if w is widget]
        if not fixed or not any(label in self._invalid for label in fixed):
            return
        for label in fixed:
            self._invalid.pop(label, None)
        if not isinstance(self.bar.cause, InvalidInput):
            return
        if self._invalid:
            self.bar.show_error(InvalidInput(self._invalid))
        else:
            self.bar.hide()

    def writable(self) -> bool:
        session = self.ctx.current_session
        return session is not None and not session.profile.read_only
