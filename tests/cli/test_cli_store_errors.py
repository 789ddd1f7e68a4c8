"""Store failures reach the operator of the command line as one stderr line and exit code 2,
never a traceback: a database another process keeps busy for longer than the busy timeout
(shortened, in-process, so the test does not wait 10 s per command), and a damaged file."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import keyring
import pytest
from cli_env import MANAGER, Cli
from keyring.backends.null import Keyring as NullKeyring

from ctrader_admin import cli as entry
from ctrader_admin.store import database as database_module
from ctrader_admin.store.database import BUSY_MESSAGE, Database
from ctrader_admin.store.paths import HOME_ENV_VAR


@pytest.fixture
def busy_home(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    """The CLI's home, with another process (a connection) writing and not letting go."""
    Database.open(cli.paths).close()
    monkeypatch.setenv(HOME_ENV_VAR, str(cli.home))
    monkeypatch.setenv("CTRADER_ADMIN_TOKEN", MANAGER.token)
    monkeypatch.setattr(database_module, "BUSY_TIMEOUT_SECONDS", 0.05)
    previous = keyring.get_keyring()
    keyring.set_keyring(NullKeyring())
    holder = sqlite3.connect(cli.paths.database_file, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield cli
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        keyring.set_keyring(previous)


@pytest.mark.parametrize(
    "argv",
    [
        ["status"],
        ["journal", "verify"],
        ["referral", "set", "--user", "1000001", "BUSY-1", "--reason", "r"],
    ],
    ids=lambda argv: " ".join(argv[:2]),
)
def test_a_busy_database_is_one_sentence_and_exit_code_2(
    busy_home: Cli, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code = entry.run(argv)
    captured = capsys.readouterr()
    name = " ".join(argv[:2]) if argv[0] in ("journal", "referral") else argv[0]
    assert code == 2
    assert captured.err == f"ctrader-admin {name}: {BUSY_MESSAGE}\n"
    assert busy_home.sandbox.referral(user_id=1000001) != "BUSY-1"  # nothing was sent


def test_a_damaged_database_is_one_sentence_and_exit_code_2(cli: Cli) -> None:
    cli.paths.ensure_data_dir()
    cli.paths.database_file.write_bytes(b"overwritten by something else " * 200)
    done = cli.run("journal", "verify")
    assert done.returncode == 2
    assert done.stderr.startswith("ctrader-admin journal verify: The local database ")
    assert "is damaged" in done.stderr
    assert len(done.stderr.splitlines()) == 1  # a sentence, not a traceback
