"""Make every log record in the process pass through ``redact``.

httpx logs each request URL at INFO, and the manager token travels in the URL (``?token=``), so a
filter on our own loggers is not enough. A record factory sees every record of every logger
(httpx, httpcore, ours, third parties) before any handler formats it.
"""

from __future__ import annotations

import logging
from typing import Any

from ctrader_admin.redaction import redact

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
        record.msg = redact(message)
        record.args = None
        if record.exc_info and record.exc_info[0] is not None:
            # Formatters print exc_text when set: the traceback is redacted once, here, and the
            # raw exception is dropped so that no handler can format it unredacted.
            record.exc_text = redact(_FORMATTER.formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
