"""The Journal tab on a journal of 1 000 000 entries: is it still smooth?

One command. First it fills a journal file through ``Journal.append_many`` (timed on its own;
skipped when ``--db`` names a file that already has entries), then it measures in a fresh
process, so that nothing of the fill is in memory:

- constructing the JournalTab (its lazy model and table view) and showing the first screen;
- a text filter and an outcome filter (ms until the view shows the filtered first screen; the
  300 ms typing debounce is not included);
- scrolling to the end (ms until the last screen is shown);
- RSS growth (VmRSS from /proc/self/status before the tab is built, and after each step);
- how many pages the model fetched (``journal.page`` calls).

    .venv/bin/python benchmarks/journal_tab.py                 # fill 1M, then measure
    .venv/bin/python benchmarks/journal_tab.py --db /tmp/j.sqlite3   # keep / reuse the file
    .venv/bin/python benchmarks/journal_tab.py --count 100000

No assertion: it prints the figures. Times are wall clock on whatever machine runs it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SEED = 20260101
DEFAULT_COUNT = 1_000_000
ACTIONS = ("set_partner", "set_partner", "set_partner", "delete_partner", "move_wl")
PROFILES = (("acme-live", "ACME Live", "live"), ("acme-demo", "ACME Demo", "demo"))
WHITE_LABELS = ("acme", "acme_pro", "acme_eu")
REASONS = (
    "partner claims the client (email)",
    "CRM export: wrong attribution",
    "client moved to the EU entity",
    "partner contract ended",
    "duplicate attribution after migration",
)


# --- fill -----------------------------------------------------------------------------------------


def attempts(count: int) -> Iterator[object]:
    """Realistic, deterministic attempts: one every ~90 s over about three years."""
    from ctrader_admin.store.journal import JournalAttempt, JournalDraft

    rng = random.Random(SEED)
    start = datetime(2023, 1, 1, tzinfo=UTC)
    for i in range(count):
        action = ACTIONS[i % len(ACTIONS)]
        profile_id, profile_name, environment = PROFILES[i % 7 == 0]
        operator = str(40001 + rng.randrange(12))
        batch = f"batch-{i // 500:05d}" if (i // 500) % 4 == 0 else None
        before: str | None
        after: str | None
        if action == "move_wl":
            login = 3_100_000 + rng.randrange(400_000)
            target = f"login:{login}@{environment}"
            before, after = rng.sample(WHITE_LABELS, 2)
            request = (
                f'{{"brokerName": "{after}", "environmentName": "{environment}", '
                f'"traderLogin": {login}}}'
            )
        else:
            user = 2_000_000 + rng.randrange(600_000)
            target = f"user:{user}" if i % 3 else f"account:{9_000_000 + rng.randrange(900_000)}"
            before = f"IB-{rng.randrange(4000)}" if rng.random() < 0.8 else None
            after = None if action == "delete_partner" else f"IB-{rng.randrange(4000)}"
            request = f'{{"brokerCrmName": "acme_crm", "partnerId": "{after}", "userId": {user}}}'
        roll = rng.random()
        outcome = "failed" if roll < 0.02 else "unknown" if roll < 0.022 else "ok"
        yield JournalAttempt(
            JournalDraft(
                operator=operator,
                profile_id=profile_id,
                profile_name=profile_name,
                environment=environment,
                broker_name=rng.choice(WHITE_LABELS),
                action=action,
                target=target,
                before=before,
                after=after,
                reason=rng.choice(REASONS),
                ticket=f"SUP-{rng.randrange(100_000)}",
                request=request,
                batch_id=batch,
                workstation=f"desk-{rng.randrange(20):02d}",
            ),
            outcome,  # type: ignore[arg-type]
            response="{}" if outcome == "ok" else None,
            error=(
                "Timeout talking to the server; check whether the change was applied."
                if outcome == "unknown"
                else "NOT_ENOUGH_RIGHTS: no rights on this White Label"
                if outcome == "failed"
                else None
            ),
            at=start + timedelta(seconds=90 * i + rng.randrange(60)),
        )


def fill(path: Path, count: int) -> None:
    from ctrader_admin.store.database import Database
    from ctrader_admin.store.journal import Journal

    database = Database(path)
    journal = Journal(database)
    existing = journal.count()
    if existing:
        print(f"fill: {path} already has {existing:,} entries (delete it to fill again)")
        database.close()
        return
    print(f"fill: appending {count:,} entries with Journal.append_many …", flush=True)
    started = time.perf_counter()
    written = journal.append_many(attempts(count))  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 1e6
    print(
        f"fill: {written:,} entries in {seconds:,.1f} s "
        f"({written / seconds:,.0f} entries/s, {seconds / written * 1e6:,.0f} µs each); "
        f"file {size:,.0f} MB (with WAL)"
    )
    database.close()


# --- measure (in a fresh process) -----------------------------------------------------------------


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def measure(path: Path, figures: Path | None = None) -> None:
    from ctrader_admin.store.database import Database

    print(f"journal: {path} ({path.stat().st_size / 1e6:,.0f} MB)")
    measure_office(lambda: Database(path), None, figures)


def measure_office(
    local: Callable[[], Any], team: Callable[[], Any] | None, figures: Path | None = None
) -> None:
    """The steps below on the back office the app would build: its journal in ``local()`` (a
    Database), or in ``team()`` (a PgDatabase) when given. ``figures``: the rows as JSON too."""
    import qasync
    from PySide6.QtWidgets import QApplication, QMainWindow

    from ctrader_admin.store.paths import AppPaths
    from ctrader_admin.store.profiles import ProfileStore
    from ctrader_admin.ui.context import UiContext
    from ctrader_admin.ui.journal_tab import JournalTab
    from ctrader_admin.wiring import compose_backoffice

    app = QApplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    home_dir = tempfile.TemporaryDirectory(prefix="journal-bench-home-")
    home = Path(home_dir.name)
    paths = AppPaths.under(home)
    office = compose_backoffice(
        local(),
        ProfileStore(paths),
        workstation="bench",
        team=team() if team is not None else None,
    )
    journal = office.journal
    pages: list[tuple[int, int]] = []
    real_page = journal.page

    def counted_page(flt: object, offset: int, limit: int) -> object:
        pages.append((offset, limit))
        return real_page(flt, offset, limit)  # type: ignore[arg-type]

    journal.page = counted_page  # type: ignore[method-assign,assignment]
    window = QMainWindow()
    ctx = UiContext(office, window)
    print(f"journal engine: {journal.store.engine}, SQLite text index: "
          f"{journal.full_text_index}")  # fmt: skip

    async def run() -> None:
        await asyncio.sleep(0)
        base = rss_mb()
        rows: list[tuple[str, float, str]] = []

        def screen_ready(tab: JournalTab) -> bool:
            model, view = tab.model, tab.table
            if model.reloading:
                return False
            if model.rowCount() == 0:
                return True
            top = view.rowAt(0)
            bottom = view.rowAt(view.viewport().height() - 1)
            if top < 0:
                return False
            bottom = model.rowCount() - 1 if bottom < 0 else bottom
            if model.has_row(top) and model.has_row(bottom):
                return True
            view.viewport().update()  # not painted yet: ask for the paint that fetches
            return False

        async def until_shown(tab: JournalTab) -> None:
            # Polled: Qt has no signal for "this screen was painted with real rows".
            while not screen_ready(tab):  # noqa: ASYNC110
                await asyncio.sleep(0.001)
            tab.table.viewport().repaint()  # the paint itself is part of "shown"

        first_page = asyncio.Event()
        loaded = asyncio.Event()

        async def step(
            label: str, action: Callable[[], object], tab: JournalTab, *, reloads: bool = True
        ) -> None:
            before = len(pages)
            first_page.clear()
            loaded.clear()
            started = time.perf_counter()
            action()
            if reloads:
                await first_page.wait()  # the new first page is in the model
            await until_shown(tab)
            ms = (time.perf_counter() - started) * 1000
            note = ""
            if reloads:
                await loaded.wait()  # and now the exact count
                counted = (time.perf_counter() - started) * 1000
                note = f"; count known after {counted:,.0f} ms"
            total = tab.model.total
            rows.append((label, ms, f"{total:,} rows, {len(pages) - before} page(s){note}"))

        started = time.perf_counter()
        tab = JournalTab(ctx)
        tab.model.first_page.connect(first_page.set)
        tab.model.loaded.connect(loaded.set)
        window.setCentralWidget(tab)
        window.resize(1180, 760)
        window.show()
        await first_page.wait()
        await until_shown(tab)
        first_ms = (time.perf_counter() - started) * 1000
        await loaded.wait()
        counted_ms = (time.perf_counter() - started) * 1000
        rows.append(
            (
                "construct tab + first screen",
                first_ms,
                f"{tab.model.total:,} rows; count known after {counted_ms:,.0f} ms",
            )
        )
        after_first = rss_mb()

        def text(value: str) -> Callable[[], None]:
            def apply() -> None:
                tab.search.setText(value)
                tab.apply_filters()  # what the debounce timer calls 300 ms after typing

            return apply

        def outcome(value: str | None) -> Callable[[], None]:
            return lambda: tab.outcome_combo.setCurrentIndex(tab.outcome_combo.findData(value))

        await step("text filter 'IB-3141' (a partnerId)", text("IB-3141"), tab)
        await step("text filter 'ended' (common word)", text("ended"), tab)
        await step("text filter 'user:2345678' (one target)", text("user:2345678"), tab)
        await step("clear text", text(""), tab)
        await step("outcome filter 'failed'", outcome("failed"), tab)
        await step("outcome filter 'unknown'", outcome("unknown"), tab)
        await step("+ text 'IB-3' (with outcome 'unknown')", text("IB-3"), tab)
        await step("clear filters", tab.clear_filters, tab)
        middle = tab.model.total // 2
        await step("scroll to the end", tab.table.scrollToBottom, tab, reloads=False)
        await step("scroll to the middle", lambda: tab.table.scrollTo(tab.model.index(middle, 0)),
                   tab, reloads=False)  # fmt: skip
        await step("scroll to the top", tab.table.scrollToTop, tab, reloads=False)
        # Dragging the scroll bar from top to bottom in one second (60 moves, one per frame):
        # only the pages still wanted when a fetch can start are read.
        bar = tab.table.verticalScrollBar()
        before = len(pages)
        for move in range(1, 61):
            bar.setValue(bar.maximum() * move // 60)
            await asyncio.sleep(1 / 60)
        released = time.perf_counter()
        await until_shown(tab)
        rows.append(
            (
                "drag the scroll bar to the end (after release)",
                (time.perf_counter() - released) * 1000,
                f"{len(pages) - before} page(s) read by OFFSET for 60 positions",
            )
        )
        rng = random.Random(SEED)
        jumps_started = time.perf_counter()
        for _ in range(50):
            row = rng.randrange(tab.model.total)
            tab.table.scrollTo(tab.model.index(row, 0))
            await asyncio.sleep(0)
            await until_shown(tab)
        jumps_ms = (time.perf_counter() - jumps_started) * 1000
        rows.append(("50 random jumps (mean per jump)", jumps_ms / 50, ""))
        end = rss_mb()

        print()
        print(f"{'step (ms until the screen shows the rows)':<44} {'ms':>9}   notes")
        for label, ms, note in rows:
            print(f"{label:<44} {ms:9.1f}   {note}")
        print()
        print(f"RSS before the tab:        {base:8.1f} MB")
        print(f"RSS after first screen:    {after_first:8.1f} MB  (+{after_first - base:.1f} MB)")
        print(f"RSS at the end:            {end:8.1f} MB  (+{end - base:.1f} MB)")
        print(f"journal.page calls in all: {len(pages)} (page size {tab.model.page_size}, "
              f"cache {tab.model.cache_pages} pages); pages cached now: "
              f"{len(tab.model.cached_pages)}")  # fmt: skip
        measured.update({label: ms for label, ms, _note in rows})

    measured: dict[str, float] = {}
    with loop:
        loop.run_until_complete(run())
    office.close_stores()
    if figures is not None:
        figures.write_text(json.dumps(measured))
    home_dir.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT)
    parser.add_argument("--db", type=Path, help="journal file to fill or reuse (kept)")
    parser.add_argument("--measure-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--figures", type=Path, help=argparse.SUPPRESS)  # the rows as JSON
    args = parser.parse_args()
    if args.measure_only:
        measure(args.db, args.figures)
        return
    path = args.db or Path(tempfile.mkdtemp(prefix="journal-bench-")) / "journal.sqlite3"
    fill(path, args.count)
    # A fresh process: the measurement starts with nothing of the fill in memory.
    subprocess.run(
        [sys.executable, __file__, "--measure-only", "--db", str(path)],
        check=True,
        env={**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")},
    )
    if args.db is None:
        shutil.rmtree(path.parent, ignore_errors=True)
        print("\n(the journal file was deleted; pass --db PATH to keep and reuse one)")


if __name__ == "__main__":
    main()
