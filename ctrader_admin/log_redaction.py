"""Make every log record in the process pass through ``redact``.

httpx logs each request URL at INFO, and the manager token travels in the URL (``?token=``), so a
filter on our own loggers is not enough. A record factory sees every record of every logger
(httpx, httpcore, ours, third parties) before any handler formats it.

The app's own sentences quoted in a record (an ``AppText`` argument, an error whose message is
one, the messages of the exceptions in a traceback, the source lines it quotes) keep their
words: see redaction.py.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable
from typing import Any

from ctrader_admin.redaction import AppText, redact

_installed = False
_FORMATTER = logging.Formatter()


def install_log_redaction() -> None:
    """Idempotent; called by the composition root and by every ApiClient."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed format string must not lose the record
            message = str(record.msg)
        args = record.args if isinstance(record.args, tuple) else ()
        record.msg = redact(message, keep=_app_texts(args))
        record.args = None
        if record.exc_info and record.exc_info[0] is not None:
            # Formatters print exc_text when set: the traceback is redacted once, here, and the
            # raw exception is dropped so that no handler can format it unredacted.
            record.exc_text = redact_traceback(
                _FORMATTER.formatException(record.exc_info), record.exc_info[1]
            )
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return record

    logging.setLogRecordFactory(factory)
    _installed = True


def redact_traceback(text: str, error: BaseException | None) -> str:
    """A formatted traceback of ``error``, redacted; the messages of the app's own errors in its
    chain and the source lines it quotes keep their words."""
    chain = _chain(error)
    return redact(text, keep=_app_texts(chain) + _source_lines(chain))


def _app_texts(values: Iterable[object]) -> list[str]:
    """The app's own sentences among a record's arguments: AppText, and exceptions made with it
    (``str()`` of such an exception is that AppText)."""
    found: list[str] = []
    for value in values:
        text = value if isinstance(value, str) else None
        if isinstance(value, BaseException):
            try:
                text = str(value)
            except Exception:  # an exception whose __str__ fails still gets logged
                text = None
        if isinstance(text, AppText):
            found.append(text)
    return found


def _source_lines(chain: list[BaseException]) -> list[str]:
    """The lines of code a traceback quotes: the app's (and libraries') source, never a value."""
    return [
        frame.line
        for error in chain
        for frame in traceback.extract_tb(error.__traceback__)
        if frame.line
    ]


def _chain(error: BaseException | None) -> list[BaseException]:
    """An exception, its causes and contexts (each once)."""
    chain: list[BaseException] = []
    while error is not None and error not in chain:
        chain.append(error)
        error = error.__cause__ or error.__context__
    return chain
