"""A lazy table model over the journal (docs/design.md rule 7: a journal may hold millions of rows).

Rows are read a page at a time through ``journal.page(filter, offset, limit)``, newest first,
on a worker thread; a few pages are kept in a small LRU cache, and a row's texts are made when
it is first shown. Nothing ever loads the whole journal and no query is made per row: a row
whose page is not there yet shows "…" until its page arrives, so scrolling never waits on
SQLite. A (re)load shows the first page first and counts (``journal.count``) afterwards, so a
filter matching most of a big journal still answers at once. Pages are fetched one at a time,
most recently asked for first, and requests the view has scrolled past are dropped. Pages near
the end of a long list are read from the oldest end instead of through a huge OFFSET.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush

from ctrader_admin.services.journal_ops import action_name, local_time
from ctrader_admin.store.journal import Journal, JournalEntry, JournalFilter
from ctrader_admin.ui import theme

_Index = QModelIndex | QPersistentModelIndex

# What an operator reads first comes first: at the default window size the columns up to Ticket
# are on screen; who/where/batch details follow.
COLUMNS: tuple[str, ...] = (
    "When",
    "Action",
    "Target",
    "Before",
    "After",
    "Outcome",
    "Reason",
    "Ticket",
    "Operator",
    "Profile",
    "Environment",
    "White Label",
    "Error",
    "Batch",
    "Reverts",
)
OUTCOME_COLUMN = COLUMNS.index("Outcome")
BEFORE_COLUMN, AFTER_COLUMN = COLUMNS.index("Before"), COLUMNS.index("After")
# Typical values that set the initial column widths: the view never measures a million rows.
COLUMN_SAMPLES: tuple[str, ...] = (
    "2026-12-31 23:59:59",
    "Move to White Label",
    "login:3100001@demo",
    "sandbox_main",
    "sandbox_main",
    "unknown",
    "CRM export: wrong partner",
    "SUP-45311",
    "300001",
    "ACME Live EU",
    "demo",
    "sandbox_main",
    "Timeout talking to the server",
    "batch-2024-05-03",
    "#1000000",
)
# An outcome in words, in the theme's colour and with its icon (never colour alone).
OUTCOME_TONES: dict[str, theme.Tone] = {
    "ok": theme.Tone.SUCCESS,
    "unknown": theme.Tone.WARNING,
    "failed": theme.Tone.ERROR,
    "refused": theme.Tone.WARNING,  # not sent: the target changed since it was confirmed
}
_PARTNER_ACTIONS = frozenset({"set_partner", "delete_partner"})
PLACEHOLDER = "…"


def _value(entry: JournalEntry, value: str | None) -> str:
    if value is None:
        return "(none)" if entry.action in _PARTNER_ACTIONS else ""
    return value


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def row_texts(entry: JournalEntry) -> tuple[str, ...]:
    """What each column shows for one entry (computed once per page, off the UI thread)."""
    return (
        local_time(entry.at_utc),
        action_name(entry.action),
        entry.target,
        _value(entry, entry.before),
        _value(entry, entry.after),
        entry.outcome,
        _one_line(entry.reason),
        entry.ticket,
        entry.operator,
        entry.profile_name or entry.profile_id,
        entry.environment,
        entry.broker_name,
        _one_line(entry.error),
        entry.batch_id or "",
        f"#{entry.reverts_id}" if entry.reverts_id is not None else "",
    )


class _Row:
    """One entry and, once it has been shown, its column texts (most fetched rows never are)."""

    __slots__ = ("_texts", "entry")

    def __init__(self, entry: JournalEntry) -> None:
        self.entry = entry
        self._texts: tuple[str, ...] | None = None

    @property
    def texts(self) -> tuple[str, ...]:
        if self._texts is None:
            self._texts = row_texts(self.entry)
        return self._texts


# Reading from the oldest end skips rows in Python (about 20 µs each, JSON included); OFFSET
# skips them in SQLite (about 0.3 µs each). The far end wins when it skips this many times fewer.
_REVERSE_GAIN = 100
_REVERSE_MAX_SKIP = 5_000


def _fetch(
    journal: Journal, flt: JournalFilter, offset: int, limit: int, total: int | None = None
) -> list[_Row]:
    """Rows ``offset`` … ``offset + limit`` of the newest-first list. Near the end of a long
    list (``total`` known) they are read oldest-first from the other end and reversed: OFFSET
    would walk past almost every matching entry to get there."""
    if total is not None:
        skip = total - offset - limit  # older rows after this page
        take = limit + min(skip, 0)
        if take <= 0:
            return []
        skip = max(skip, 0)
        if skip <= _REVERSE_MAX_SKIP and skip * _REVERSE_GAIN < offset:
            entries = journal.iter_entries(flt)
            try:
                oldest_first = list(itertools.islice(entries, skip, skip + take))
            finally:
                close = getattr(entries, "close", None)
                if callable(close):
                    close()  # ends the generator, and with it its snapshot connection
            return [_Row(entry) for entry in reversed(oldest_first)]
    return [_Row(entry) for entry in journal.page(flt, offset, limit)]


class JournalModel(QAbstractTableModel):
    """Rows of the journal matching a filter, newest first."""

    # A (re)load has shown the first page; the count may still be coming (``counting``).
    first_page = Signal()
    # A (re)load is complete: first page and exact row count.
    loaded = Signal()
    # Emitted when a page arrives (tests and benchmarks wait on it).
    page_loaded = Signal(int)

    def __init__(self, journal: Journal, *, page_size: int = 200, cache_pages: int = 8) -> None:
        super().__init__()
        if page_size < 1 or cache_pages < 2:
            raise ValueError("page_size must be ≥ 1 and cache_pages ≥ 2")
        self._journal = journal
        self.page_size = page_size
        self.cache_pages = cache_pages
        self._filter = JournalFilter()
        self._count = 0
        self._pages: OrderedDict[int, list[_Row]] = OrderedDict()
        # Pages asked for by the view and not fetched yet, most recent last. Fetched one at a
        # time, newest request first; only the last few are kept, so dragging the scroll bar
        # through a million rows does not queue a fetch for every page it passed.
        self._wanted: OrderedDict[int, None] = OrderedDict()
        self._fetcher: asyncio.Future[None] | None = None
        self._generation = 0
        self._first_pending = 0  # loads waiting for their first page
        self._counting = False

    # --- state ---------------------------------------------------------------------------------

    @property
    def filter(self) -> JournalFilter:
        return self._filter

    @property
    def total(self) -> int:
        return self._count

    @property
    def counting(self) -> bool:
        """The first page is shown and the number of matching entries is still being counted
        (``total`` is then the number of rows known so far)."""
        return self._counting

    @property
    def reloading(self) -> bool:
        """A (re)load is waiting for its first page: the rows shown are the previous ones."""
        return self._first_pending > 0

    @property
    def loading(self) -> bool:
        """A reload is waiting for its first page, or a page the view asked for is not there yet
        (the count of a reload is not included: see ``counting``)."""
        fetching = self._fetcher is not None and not self._fetcher.done()
        return self._first_pending > 0 or bool(self._wanted) or fetching

    @property
    def cached_pages(self) -> list[int]:
        return list(self._pages)

    @property
    def journal(self) -> Journal:
        return self._journal

    def set_journal(self, journal: Journal) -> None:
        self._journal = journal

    # --- loading -------------------------------------------------------------------------------

    async def load(self, flt: JournalFilter | None = None) -> bool:
        """Show the entries matching ``flt``: the first page as soon as it is read, then the
        exact count (a text filter matching most of a big journal takes seconds to count, its
        first page milliseconds). Both queries run on a worker thread. False when a newer load
        started meanwhile (its result wins, and this one's count is not even asked for)."""
        wanted = self._filter if flt is None else flt
        self._generation += 1
        generation = self._generation
        self._first_pending += 1
        try:
            first = await asyncio.to_thread(_fetch, self._journal, wanted, 0, self.page_size)
        finally:
            self._first_pending -= 1
        if generation != self._generation:
            return False
        # A short first page is the whole result: nothing left to count.
        complete = len(first) < self.page_size
        self.beginResetModel()
        self._filter = wanted
        self._count = len(first)
        self._counting = not complete
        self._pages.clear()
        self._wanted.clear()
        if first:
            self._pages[0] = first
        self.endResetModel()
        self.first_page.emit()
        if not complete:
            total = await asyncio.to_thread(self._journal.count, wanted)
            if generation != self._generation:
                return False
            self._counting = False
            if total > self._count:
                self.beginInsertRows(QModelIndex(), self._count, total - 1)
                self._count = total
                self.endInsertRows()
        self.loaded.emit()
        return True

    # The most recent page requests kept; a screen shows rows of at most two pages.
    KEEP_REQUESTS = 4

    def _request(self, page_no: int) -> None:
        self._wanted.pop(page_no, None)
        self._wanted[page_no] = None
        while len(self._wanted) > self.KEEP_REQUESTS:
            self._wanted.popitem(last=False)
        if self._fetcher is None or self._fetcher.done():
            self._fetcher = asyncio.ensure_future(self._fetch_wanted())

    async def _fetch_wanted(self) -> None:
        """Fetch the wanted pages one at a time (the database serialises them anyway), the most
        recently asked for first."""
        while self._wanted:
            page_no, _ = self._wanted.popitem(last=True)
            if page_no in self._pages:
                continue
            generation, flt = self._generation, self._filter
            total = None if self._counting else self._count
            try:
                rows = await asyncio.to_thread(
                    _fetch, self._journal, flt, page_no * self.page_size, self.page_size, total
                )
            except Exception:
                # A broken database is a bug or a disk problem: the crash dialog, never silence.
                sys.excepthook(*sys.exc_info())
                return
            if generation != self._generation:
                continue  # the filter changed meanwhile: these rows belong to the old one
            self._store(page_no, rows)
            first = page_no * self.page_size
            last = min(first + self.page_size, self._count) - 1
            if last >= first:
                self.dataChanged.emit(self.index(first, 0), self.index(last, len(COLUMNS) - 1))
            self.page_loaded.emit(page_no)

    def _store(self, page_no: int, rows: list[_Row]) -> None:
        self._pages[page_no] = rows
        self._pages.move_to_end(page_no)
        while len(self._pages) > self.cache_pages:
            self._pages.popitem(last=False)

    def _row(self, row: int) -> _Row | None:
        """The row if its page is cached; otherwise ask for the page and return None."""
        if row < 0 or row >= self._count:
            return None
        page_no, offset = divmod(row, self.page_size)
        page = self._pages.get(page_no)
        if page is None:
            self._request(page_no)
            return None
        self._pages.move_to_end(page_no)
        return page[offset] if offset < len(page) else None

    def has_row(self, row: int) -> bool:
        page = self._pages.get(row // self.page_size)
        return page is not None and row % self.page_size < len(page)

    def entry_at(self, row: int) -> JournalEntry | None:
        found = self._row(row)
        return found.entry if found is not None else None

    def row_of(self, entry_id: int) -> int | None:
        """The row of an entry among the cached pages, if it is there."""
        for page_no, rows in self._pages.items():
            for offset, found in enumerate(rows):
                if found.entry.id == entry_id:
                    return page_no * self.page_size + offset
        return None

    # --- QAbstractTableModel -------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if role == Qt.ItemDataRole.ToolTipRole and section == 0:
            return "Local time of this computer; the details show UTC."
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role not in _ROLES:
            return None
        found = self._row(index.row())
        column = index.column()
        if found is None:
            return PLACEHOLDER if role == Qt.ItemDataRole.DisplayRole and column == 0 else None
        return _ROLES[role](found, column)


def _display(row: _Row, column: int) -> Any:
    return row.texts[column]


def _tooltip(row: _Row, column: int) -> Any:
    text = row.texts[column]
    if column == 0:
        return f"{row.entry.at_utc} (UTC)"
    return text or None


def _outcome_tone(row: _Row, column: int) -> theme.Tone | None:
    return OUTCOME_TONES.get(row.entry.outcome) if column == OUTCOME_COLUMN else None


def _background(row: _Row, column: int) -> Any:
    tone = _outcome_tone(row, column)
    # "ok" is the usual case: only its icon, no background that would light up every row.
    if tone is None or tone is theme.Tone.SUCCESS:
        return None
    return QBrush(theme.colours(tone)[0])


def _foreground(row: _Row, column: int) -> Any:
    tone = _outcome_tone(row, column)
    if tone is None or tone is theme.Tone.SUCCESS:
        return None
    return QBrush(theme.colours(tone)[1])


def _decoration(row: _Row, column: int) -> Any:
    tone = _outcome_tone(row, column)
    return theme.status_icon(tone) if tone is not None else None


_ROLES: dict[int, Callable[[_Row, int], Any]] = {
    Qt.ItemDataRole.DisplayRole: _display,
    Qt.ItemDataRole.ToolTipRole: _tooltip,
    Qt.ItemDataRole.BackgroundRole: _background,
    Qt.ItemDataRole.ForegroundRole: _foreground,
    Qt.ItemDataRole.DecorationRole: _decoration,
}
