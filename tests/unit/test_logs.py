"""The log level (--log-level, CTRADER_ADMIN_LOG_LEVEL) and the log files of the app and the CLI."""

from __future__ import annotations

import logging
import logging.handlers
from collections.abc import Iterator
from pathlib import Path

import pytest

from ctrader_admin.cli import build_parser
from ctrader_admin.logs import (
    APP_LOG_FILE,
    CLI_LOG_FILE,
    LOG_LEVEL_ENV_VAR,
    choose_level,
    configure_logging,
)
from ctrader_admin.store.paths import AppPaths


@pytest.mark.parametrize(
    ("option", "environ", "level"),
    [
        (None, {}, logging.INFO),
        (None, {LOG_LEVEL_ENV_VAR: "debug"}, logging.DEBUG),
        (None, {LOG_LEVEL_ENV_VAR: " Warning "}, logging.WARNING),
        ("error", {LOG_LEVEL_ENV_VAR: "debug"}, logging.ERROR),  # the option wins
        (None, {LOG_LEVEL_ENV_VAR: ""}, logging.INFO),
    ],
)
def test_the_level_comes_from_the_option_else_the_environment_else_info(
    option: str | None, environ: dict[str, str], level: int
) -> None:
    assert choose_level(option, environ) == (level, "")


def test_a_wrong_environment_value_is_said_and_info_used() -> None:
    level, problem = choose_level(None, {LOG_LEVEL_ENV_VAR: "chatty"})
    assert level == logging.INFO
    assert problem == (
        "CTRADER_ADMIN_LOG_LEVEL='chatty' is not a log level (debug, info, warning, error); "
        "logging at info."
    )


@pytest.mark.parametrize(
    ("argv", "level"),
    [
        (["--log-level", "DEBUG"], "debug"),  # the app
        (["--log-level", "debug", "status"], "debug"),  # before the command: kept
        (["status", "--log-level", "warning"], "warning"),
        (["journal", "verify", "--log-level", "error"], "error"),
        (["status"], None),
    ],
)
def test_log_level_is_taken_before_or_after_the_command(argv: list[str], level: str) -> None:
    assert build_parser().parse_args(argv).log_level == level


@pytest.fixture
def root_handlers() -> Iterator[list[logging.Handler]]:
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    added: list[logging.Handler] = []
    yield added
    for handler in root.handlers:
        if handler not in before:
            added.append(handler)
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.NOTSET)


@pytest.mark.parametrize("file_name", [APP_LOG_FILE, CLI_LOG_FILE])
def test_app_and_cli_log_files_rotate_alike_in_the_log_folder(
    tmp_path: Path, root_handlers: list[logging.Handler], file_name: str
) -> None:
    paths = AppPaths.under(tmp_path)
    configure_logging(paths, logging.WARNING, file_name)
    root = logging.getLogger()
    (handler,) = [h for h in root.handlers if isinstance(h, logging.handlers.RotatingFileHandler)]
    assert Path(handler.baseFilename) == paths.log_dir / file_name
    assert (handler.maxBytes, handler.backupCount) == (2_000_000, 3)
    assert root.level == logging.WARNING
    assert logging.getLogger("httpx").level == logging.WARNING
