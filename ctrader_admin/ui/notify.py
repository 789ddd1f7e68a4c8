"""The one place that turns an expected failure into words for the operator (docs/design.md rule 6).

Expected failures are ``ExpectedError``s (ctrader_admin/errors.py): the client's ``ApiError``,
the services' ``ServiceError`` and the stores' errors (journal, database — busy included —,
checkpoints, profiles). Anything else is a bug: it goes to the crash dialog, never into a
message bar as a traceback."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

from ctrader_admin.ui import theme


class Level(Enum):
    """How loud a message is: its colour and icon come from the theme's tone of the same name."""

    INFO = theme.Tone.INFO
    SUCCESS = theme.Tone.SUCCESS
    WARNING = theme.Tone.WARNING
    ERROR = theme.Tone.ERROR


# The client's errors are imported when the first one is judged, not with the first window: by
# then the back office (which raises them) is loaded anyway.


def is_expected(exc: BaseException) -> bool:
    from ctrader_admin.errors import ExpectedError

    return isinstance(exc, ExpectedError)


def message_for(exc: BaseException) -> tuple[Level, str]:
    """The sentence to show for an expected failure, and how loud to say it."""
    from ctrader_admin.api.errors import OutcomeUnknown, RateLimited
    from ctrader_admin.errors import ExpectedError
    from ctrader_admin.store.database import DatabaseBusyError

    if isinstance(exc, OutcomeUnknown | DatabaseBusyError):
        return Level.WARNING, exc.message
    if isinstance(exc, RateLimited):
        wait = f" The backend asks to wait {exc.retry_after:.0f} s." if exc.retry_after else ""
        return Level.WARNING, exc.message + wait
    if isinstance(exc, ExpectedError):
        return Level.ERROR, exc.message
    return Level.ERROR, "Something unexpected happened. Details are in the crash report."


# Where an expected failure goes that no form's runner caught (an async slot such as opening a
# profile): the main window's message bar, once the window has registered it.
_unhandled_sink: Callable[[BaseException], None] | None = None


def route_unhandled(sink: Callable[[BaseException], None] | None) -> None:
    global _unhandled_sink
    _unhandled_sink = sink


def show_unhandled(exc: BaseException) -> bool:
    """Show an expected failure that reached no message bar; False if nobody can show it."""
    if _unhandled_sink is None or not is_expected(exc):
        return False
    _unhandled_sink(exc)
    return True


class MessageBar(QFrame):
    """An inline, dismissable message under a form: what happened, in words."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBar")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(theme.SPACE_L, theme.SPACE_M, theme.SPACE_M, theme.SPACE_M)
        # The level in a picture too, not only in colour.
        self.icon = QLabel()
        self.icon.setObjectName("messageIcon")
        layout.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        layout.addWidget(self.label, 1)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.level = Level.INFO
        # The failure shown, when the message is one: whoever removes its cause (a log-in, a
        # corrected field) hides the message with it.
        self.cause: BaseException | None = None
        self.hide()
        theme.on_change(self._show_icon)  # the icon is painted in the variant's colours

    def show_message(self, level: Level, text: str) -> None:
        self.level = level
        self.cause = None
        theme.set_tone(self, level.value)
        self._show_icon()
        self.label.setText(text)
        self.show()

    def _show_icon(self) -> None:
        size = self.label.fontMetrics().height()
        self.icon.setPixmap(theme.status_icon(self.level.value, size).pixmap(size, size))
        self.icon.setToolTip(self.level.name.capitalize())

    def show_error(self, exc: BaseException) -> None:
        self.show_message(*message_for(exc))
        self.cause = exc

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""
