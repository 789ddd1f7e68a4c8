"""Time the journal at scale: python tests/unit/store/journal_benchmark.py [N] [--db PATH]

Not collected by pytest. Builds a file database of N entries (default 1 000 000) through
Journal.append_many, then times count + first page for several filters, a deep page, verify and
a full CSV export.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).parent))

from store_fakes import journal_attempts

from ctrader_admin.store.database import Database
from ctrader_admin.store.journal import Journal, JournalFilter

T = TypeVar("T")


def timed(label: str, work: Callable[[], T]) -> T:
    start = time.perf_counter()
    result = work()
    print(f"{label:<58} {time.perf_counter() - start:8.3f} s   {result}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("count", type=int, nargs="?", default=1_000_000)
    parser.add_argument("--db", type=Path, default=None, help="reuse/keep this database file")
    args = parser.parse_args()
    path = args.db or Path(tempfile.mkdtemp()) / "bench.sqlite3"
    fresh = not path.exists()
    db = Database(path)
    journal = Journal(db)
    if fresh:
        attempts = journal_attempts(args.count)
        timed(f"append_many({args.count:,})", lambda: journal.append_many(attempts))
    print(f"database: {path} ({path.stat().st_size / 1e6:.0f} MB)")
    filters = {
        "no filter": JournalFilter(),
        "action=move_wl": JournalFilter(action="move_wl"),
        "outcome=failed": JournalFilter(outcome="failed"),
        "profile+operator": JournalFilter(profile_id="acme-live", operator="30003"),
        "batch_id": JournalFilter(batch_id="batch-4242"),
        "since/until (one day)": JournalFilter(
            since=datetime(2024, 6, 1, tzinfo=UTC), until=datetime(2024, 6, 2, tzinfo=UTC)
        ),
        "text rare ('3456789')": JournalFilter(text="3456789"),
        "text common ('partner')": JournalFilter(text="partner"),
        "text + action ('IB12', set_partner)": JournalFilter(text="IB12", action="set_partner"),
        "text 2 chars ('zz', LIKE scan)": JournalFilter(text="zz"),
    }
    for label, flt in filters.items():
        timed(f"count  {label}", lambda flt=flt: journal.count(flt))
        timed(f"page0  {label}", lambda flt=flt: len(journal.page(flt, 0, 100)))
    timed("page at offset 900 000 (no filter)", lambda: len(journal.page(None, 900_000, 100)))
    timed("entry(500 000)", lambda: journal.entry(500_000) is not None)
    timed("verify", lambda: journal.verify())
    timed("export_csv (all)", lambda: journal.export_csv(None, io.StringIO()))
    db.close()


if __name__ == "__main__":
    main()
