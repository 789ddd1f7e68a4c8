"""The SQLite path never loads the PostgreSQL driver: team mode must not cost every start."""

from __future__ import annotations

import subprocess
import sys


def test_the_app_and_its_stores_import_without_psycopg() -> None:
    code = (
        "import sys\n"
        "import ctrader_admin.wiring, ctrader_admin.store.journal, ctrader_admin.services.budget\n"
        "import ctrader_admin.store.pg.settings\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0].startswith('psycopg')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.strip() == "[]"
