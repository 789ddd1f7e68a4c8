"""Types the service tests share (a uniquely named module: "from conftest import …" would
resolve to whichever conftest.py was imported last)."""

from __future__ import annotations

from typing import Any, Protocol

from ctrader_admin.services.backoffice import Backoffice


class MakeOffice(Protocol):
    """The ``make_office`` fixture: a back office on the test's own database and home."""

    def __call__(self, **options: Any) -> Backoffice: ...
