"""The log files of the desktop app and of the CLI: one rotating file per program in the log
folder, every record redacted (log_redaction), at a level chosen with ``--log-level`` or
``CTRADER_ADMIN_LOG_LEVEL``.

The app and the CLI write separate files: several processes appending to one rotating file
would rotate it under one another (each renames the file the others still hold open).
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Mapping

from ctrader_admin.log_redaction import install_log_redaction
from ctrader_admin.store.paths import AppPaths

LOG_LEVEL_ENV_VAR = "CTRADER_ADMIN_LOG_LEVEL"
LEVELS: dict[str, int] = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
DEFAULT_LEVEL = "info"
APP_LOG_FILE = "ctrader-admin.log"
CLI_LOG_FILE = "ctrader-admin-cli.log"
MAX_BYTES = 2_000_000
BACKUPS = 3
LEVEL_HELP = (
    f"how much goes to the log file: {', '.join(LEVELS)} (default {DEFAULT_LEVEL}, or "
    f"${LOG_LEVEL_ENV_VAR}); debug adds every HTTP request, with the token masked"
)

log = logging.getLogger(__name__)


def add_log_level_option(parser: argparse.ArgumentParser, default: object) -> None:
    """``--log-level``: on the main parser, and on every subcommand (default SUPPRESS there, so
    that a level given before the command is not reset by the subcommand's default)."""
    parser.add_argument(
        "--log-level", choices=list(LEVELS), type=str.lower, default=default, help=LEVEL_HELP
    )


def choose_level(option: str | None, environ: Mapping[str, str] = os.environ) -> tuple[int, str]:
    """The level from ``--log-level`` (already checked by argparse), else the environment
    variable, else info; and a sentence for the operator when the variable is not a level
    (the program still runs, at info)."""
    if option:
        return LEVELS[option], ""
    wanted = environ.get(LOG_LEVEL_ENV_VAR, "").strip()
    if not wanted:
        return LEVELS[DEFAULT_LEVEL], ""
    level = LEVELS.get(wanted.lower())
    if level is not None:
        return level, ""
    return LEVELS[DEFAULT_LEVEL], (
        f"{LOG_LEVEL_ENV_VAR}={wanted!r} is not a log level ({', '.join(LEVELS)}); "
        f"logging at {DEFAULT_LEVEL}."
    )


class _EarlyRecords(logging.Handler):
    """Holds what is logged while the first window is built, before the log file is set up."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def hold_early_records() -> None:
    """Keep log records (redacted, as every record) until ``configure_logging``: the log
    file's module, logging.handlers, is ~10 ms of imports that the first window does without."""
    install_log_redaction()
    logging.getLogger().addHandler(_EarlyRecords())


def configure_logging(
    paths: AppPaths, level: int = logging.INFO, file_name: str = APP_LOG_FILE
) -> logging.Handler:
    """A rotating log file; every record is redacted by the record factory first. Records held
    since ``hold_early_records`` go to it first. Returns the file's handler (a CLI command
    closes it when it ends)."""
    import logging.handlers

    install_log_redaction()
    handler = logging.handlers.RotatingFileHandler(
        paths.ensure_log_dir() / file_name,
        maxBytes=MAX_BYTES,
        backupCount=BACKUPS,
        encoding="utf-8",
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for early in [h for h in root.handlers if isinstance(h, _EarlyRecords)]:
        root.removeHandler(early)
        for record in early.records:
            if record.levelno >= level:
                handler.handle(record)
    root.addHandler(handler)
    root.setLevel(level)
    # One INFO line per HTTP request from httpx is noise in an operator's log.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(
            logging.NOTSET if level <= logging.DEBUG else logging.WARNING
        )
    return handler
