"""Every store test runs in its own app home and with an in-memory keyring (never a real one);
``store`` runs a test on each engine (SQLite, and a team database opened as an agent)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from store_fakes import MemoryKeyring
from team_db import agent_store

from ctrader_admin.store.database import Database
from ctrader_admin.store.paths import HOME_ENV_VAR, AppPaths
from ctrader_admin.store.sql import Store


@pytest.fixture(autouse=True)
def app_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv(HOME_ENV_VAR, str(home))
    return home


@pytest.fixture
def paths(app_home: Path) -> AppPaths:
    return AppPaths.from_environment()


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    """The tests that hold on both engines run on each."""
    opened: Store = (
        Database()
        if request.param == "sqlite"
        else agent_store(request.getfixturevalue("pg_server"))
    )
    yield opened
    opened.close()
