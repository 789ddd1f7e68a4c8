"""What the service tests share: a back office on a fresh database and app home of the test's
own, put together by the app's composition helper and shut down after the test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from office_helpers import MakeOffice

from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.store.database import Database
from ctrader_admin.store.paths import AppPaths
from ctrader_admin.store.profiles import ProfileStore
from ctrader_admin.wiring import compose_backoffice


@pytest.fixture
def make_office(tmp_path: Path) -> Iterator[MakeOffice]:
    """``make_office(transport=…, sleep=…, clock=…, clients=…)``: the options of
    ``compose_backoffice``; the database is ``tmp_path/app.sqlite3``, the home ``tmp_path/home``."""
    made: list[Backoffice] = []

    def make(**options: Any) -> Backoffice:
        office = compose_backoffice(
            Database(tmp_path / "app.sqlite3"),
            ProfileStore(AppPaths.under(tmp_path / "home")),
            workstation="test-workstation",
            **options,
        )
        made.append(office)
        return office

    yield make
    for office in made:
        office.close_stores()
