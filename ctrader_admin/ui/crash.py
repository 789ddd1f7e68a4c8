"""Unexpected errors: one excepthook, one dialog with "Copy details". Everything shown, copied or
written is redacted first, so a crash report never carries the token or a password."""

from __future__ import annotations

import logging
import sys
import traceback
from types import TracebackType

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ctrader_admin import __version__
from ctrader_admin.log_redaction import redact_traceback
from ctrader_admin.redaction import redact

log = logging.getLogger(__name__)


def crash_report(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> str:
    import platform

    details = "".join(traceback.format_exception(exc_type, exc, tb))
    header = (
        f"ctrader-admin {__version__} on {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}\n\n"
    )
    return redact(header) + redact_traceback(details, exc)


class CrashDialog(QDialog):
    def __init__(self, report: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("crashDialog")
        self.setWindowTitle("ctrader-admin — unexpected error")
        self.report = report
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                "Something went wrong inside ctrader-admin. Your last action may not have "
                "finished; the journal shows every change that was sent.\n"
                "Please copy the details below into a ticket for the team that supports the app."
            )
        )
        text = QPlainTextEdit(report)
        text.setReadOnly(True)
        text.setMinimumSize(640, 260)
        layout.addWidget(text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = QPushButton("Copy details")
        copy.setObjectName("copyDetails")
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.report))
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


def report_uncaught(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> None:
    """``sys.excepthook``: uncaught exceptions (qasync sends those of async slots here too) are
    logged, redacted, and shown in the dialog."""
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    report = crash_report(exc_type, exc, tb)
    log.error("Unexpected error\n%s", report)
    if QApplication.instance() is None:
        sys.stderr.write(report)
        return
    dialog = CrashDialog(report, QApplication.activeWindow())
    dialog.setModal(True)
    dialog.show()


def install_excepthook() -> None:
    sys.excepthook = report_uncaught
