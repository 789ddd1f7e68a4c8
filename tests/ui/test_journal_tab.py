"""Journal tab against the in-process sandbox: real writes, filters, export, verify, revert, and
the lazy model over a big journal."""

from __future__ import annotations

import asyncio
import csv
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QTableView
from pytestqt.qtbot import QtBot
from ui_helpers import MANAGER, run_async, wait_for_dialog

from ctrader_admin.api import Forbidden
from ctrader_admin.sandbox import Sandbox, trading_password
from ctrader_admin.services import accounts, partners, users
from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.services.writes import UserTarget
from ctrader_admin.store.database import Database
from ctrader_admin.store.journal import (
    Journal,
    JournalAttempt,
    JournalDraft,
    JournalEntry,
    JournalFilter,
)
from ctrader_admin.store.paths import AppPaths
from ctrader_admin.store.profiles import Profile
from ctrader_admin.ui import journal_model
from ctrader_admin.ui.context import UiContext
from ctrader_admin.ui.dialogs import ConfirmWriteDialog
from ctrader_admin.ui.journal_model import COLUMNS, PLACEHOLDER, JournalModel
from ctrader_admin.ui.journal_tab import JournalTab
from ctrader_admin.ui.notify import Level

USER = 1000002  # sandbox seed: AFF-EU-318 at user level, on sandbox_eu
OTHER_USER = 1000005  # no partnerId
LOGIN = 3100001  # demo, sandbox_main


@pytest.fixture
def unlinked_login(sandbox: Sandbox) -> int:
    """A demo account on sandbox_main that the seed left unlinked (the writes link it)."""
    return sandbox.logins(broker_name="sandbox_main", environment="demo", linked=False)[0]


def make_tab(qtbot: QtBot, ctx: UiContext) -> JournalTab:
    tab = JournalTab(ctx)
    qtbot.addWidget(tab)
    with qtbot.waitSignal(tab.model.loaded, timeout=10_000):
        tab.resize(1200, 700)
        tab.show()
    return tab


def rows(tab: JournalTab, column: str) -> list[str]:
    index = COLUMNS.index(column)
    model = tab.model
    return [model.data(model.index(row, index)) for row in range(model.rowCount())]


def wrote(qtbot: QtBot, ctx: UiContext, tab: JournalTab) -> None:
    """What every write action does afterwards: the journal view follows."""
    with qtbot.waitSignal(tab.model.loaded, timeout=10_000):
        ctx.wrote()


def set_partner(qtbot: QtBot, backoffice: Backoffice, user_id: int, value: str) -> JournalEntry:
    session = backoffice.session
    assert session is not None
    target = UserTarget(user_id)
    run_async(qtbot, partners.set_partner(session, target, value, reason="partner claim"))
    return backoffice.journal.page(None, 0, 1)[0]


def filtered(qtbot: QtBot, tab: JournalTab, change: object = None) -> None:
    """Wait for the view to show the filters as set (text fields are debounced)."""
    with qtbot.waitSignal(tab.model.loaded, timeout=10_000):
        if callable(change):
            change()


def confirm_dialog_shown() -> bool:
    return any(
        isinstance(w, QDialog) and w.objectName() == "confirmWriteDialog" and w.isVisible()
        for w in QApplication.topLevelWidgets()
    )


@pytest.fixture
def writes(qtbot: QtBot, backoffice: Backoffice, unlinked_login: int) -> list[JournalEntry]:
    """A few real writes through the services: ok, failed, and several actions."""
    session = backoffice.session
    assert session is not None
    run_async(
        qtbot,
        users.create_user(
            session, email="new.client@example.com", broker_name="sandbox_main", language="en",
            reason="onboarding", ticket="CRM-1",
        ),
    )  # fmt: skip
    run_async(
        qtbot,
        accounts.link_account(
            session,
            login=unlinked_login,
            password=SecretStr(trading_password(unlinked_login)),
            user_id=OTHER_USER,
            broker_name="sandbox_main",
            environment="demo",
            reason="onboarding",
        ),
    )
    set_partner(qtbot, backoffice, USER, "IB-7")
    run_async(
        qtbot,
        accounts.move_white_label(
            session, login=LOGIN, environment="demo", target_broker_name="sandbox_eu",
            reason="restructure", ticket="OPS-12",
        ),
    )  # fmt: skip
    # A White Label the profile lists but the manager has no rights on: the backend refuses and
    # the attempt is journaled "failed" (one the profile does not list is refused before sending).
    profile = backoffice.profiles.get("sandbox")
    wider = [*profile.broker_names, "sandbox_offlimits"]
    backoffice.profiles.update(profile.model_copy(update={"broker_names": wider}))
    session = run_async(qtbot, backoffice.open("sandbox"))
    run_async(qtbot, session.login(MANAGER.login, MANAGER.password, remember=False))
    with pytest.raises(Forbidden):
        run_async(
            qtbot,
            accounts.move_white_label(
                session, login=LOGIN, environment="demo", target_broker_name="sandbox_offlimits",
                reason="restructure",
            ),
        )  # fmt: skip
    return list(reversed(backoffice.journal.page(None, 0, 10)))


# --- the list and its filters ---------------------------------------------------------------------


def test_entries_from_real_writes_appear_newest_first(
    qtbot: QtBot, ctx: UiContext, backoffice: Backoffice
) -> None:
    tab = make_tab(qtbot, ctx)
    assert tab.model.total == 0
    assert tab.count_label.text() == "0 entries"
    set_partner(qtbot, backoffice, USER, "IB-7")
    wrote(qtbot, ctx, tab)
    assert rows(tab, "Action") == ["Set partnerId"]  # words; the export keeps the code
    set_partner(qtbot, backoffice, OTHER_USER, "IB-9")
    wrote(qtbot, ctx, tab)
    assert rows(tab, "Target") == [f"user:{OTHER_USER}", f"user:{USER}"]
    assert rows(tab, "Before") == ["(none)", "AFF-EU-318"]
    assert rows(tab, "After") == ["IB-9", "IB-7"]
    assert rows(tab, "Operator") == [str(MANAGER.login)] * 2
    assert rows(tab, "Profile") == ["Sandbox"] * 2
    assert rows(tab, "Outcome") == ["ok", "ok"]
    assert tab.count_label.text() == "2 entries"
    # The details pane shows the request and the hashes of the selected entry.
    tab.table.selectRow(1)
    details = tab.details.toPlainText()
    assert '"partnerId": "IB-7"' in details
    assert backoffice.journal.page(None, 1, 1)[0].hash in details
    assert MANAGER.token not in details


def test_filters_narrow_the_rows(
    qtbot: QtBot,
    ctx: UiContext,
    backoffice: Backoffice,
    paths: AppPaths,
    writes: list[JournalEntry],
) -> None:
    # Another connection's entry, as if written earlier from the same workstation.
    backoffice.profiles.add(
        Profile(
            id="acme-live",
            name="ACME live",
            base_url="https://live.acme.example:8443",
            broker_names=["acme"],
            broker_crm_name="acme_crm",
            live=True,
        )
    )
    backoffice.settings = backoffice.profiles.load()
    backoffice.journal.append_many(
        [
            JournalAttempt(
                JournalDraft(
                    operator="40001",
                    profile_id="acme-live",
                    profile_name="ACME live",
                    environment="live",
                    broker_name="acme",
                    action="set_partner",
                    target="user:77",
                    before="IB-1",
                    after="IB-2",
                    reason="bulk fix",
                    batch_id="batch-42",
                ),
                "ok",
                at=datetime.now(UTC) - timedelta(days=40),
            )
        ]
    )
    ctx.session_changed.emit()  # the profile list changed
    tab = make_tab(qtbot, ctx)
    assert tab.model.total == 6
    assert tab.profile_combo.findData("acme-live") > 0

    filtered(qtbot, tab, lambda: tab.search.setText("IB-7"))
    assert rows(tab, "Target") == [f"user:{USER}"]
    assert tab.count_label.text() == "1 entry match"

    # Fewer than 3 characters cannot use the index: not a search (yet), and the label says so.
    filtered(qtbot, tab, lambda: tab.search.setText("IB"))
    assert tab.model.total == 6
    assert tab.count_label.text() == "6 entries · type 3+ characters to search"
    filtered(qtbot, tab, lambda: tab.search.setText(""))
    filtered(
        qtbot, tab, lambda: tab.action_combo.setCurrentIndex(tab.action_combo.findData("move_wl"))
    )
    assert rows(tab, "After") == ["sandbox_offlimits", "sandbox_eu"]

    filtered(
        qtbot,
        tab,
        lambda: tab.outcome_combo.setCurrentIndex(tab.outcome_combo.findData("failed")),
    )
    assert rows(tab, "After") == ["sandbox_offlimits"]
    assert "no rights" in rows(tab, "Error")[0]

    filtered(qtbot, tab, tab.clear_filters)
    assert tab.model.total == 6
    filtered(
        qtbot,
        tab,
        lambda: tab.profile_combo.setCurrentIndex(tab.profile_combo.findData("acme-live")),
    )
    assert rows(tab, "Operator") == ["40001"]
    filtered(
        qtbot,
        tab,
        lambda: tab.profile_combo.setCurrentIndex(tab.profile_combo.findData("sandbox")),
    )
    assert tab.model.total == 5

    filtered(qtbot, tab, tab.clear_filters)
    filtered(qtbot, tab, lambda: tab.batch.setText("batch-42"))
    assert rows(tab, "Target") == ["user:77"]
    filtered(qtbot, tab, tab.clear_filters)
    filtered(qtbot, tab, lambda: tab.operator.setText("40001"))
    assert rows(tab, "Target") == ["user:77"]
    filtered(qtbot, tab, tab.clear_filters)
    tab.since.setDate(tab.since.date().currentDate().addDays(-7))
    filtered(qtbot, tab, lambda: tab.since_check.setChecked(True))
    assert tab.model.total == 5  # the 40-day-old entry is out
    filtered(qtbot, tab, lambda: tab.since_check.setChecked(False))
    tab.until.setDate(tab.until.date().currentDate().addDays(-30))
    filtered(qtbot, tab, lambda: tab.until_check.setChecked(True))
    assert rows(tab, "Target") == ["user:77"]


def test_export_writes_the_filtered_rows_without_the_token(
    qtbot: QtBot,
    ctx: UiContext,
    backoffice: Backoffice,
    tmp_path: Path,
    writes: list[JournalEntry],
) -> None:
    tab = make_tab(qtbot, ctx)
    target = tmp_path / "journal.csv"
    asked: list[str] = []

    async def choose(parent: object, suggested: str) -> str:
        asked.append(suggested)
        return str(target)

    tab.choose_export_path = choose
    filtered(
        qtbot, tab, lambda: tab.action_combo.setCurrentIndex(tab.action_combo.findData("move_wl"))
    )
    with qtbot.waitSignal(tab.finished, timeout=10_000):
        tab.export_button.click()
    assert asked[0].startswith("journal-")
    assert tab.bar.level is Level.SUCCESS
    assert "2 entries exported" in tab.bar.text()
    raw = target.read_bytes()
    assert MANAGER.token.encode() not in raw
    assert MANAGER.password.encode() not in raw
    with target.open(encoding="utf-8-sig", newline="") as file:
        exported = list(csv.DictReader(file))
    assert [(r["action"], r["after"], r["outcome"]) for r in exported] == [
        ("move_wl", "sandbox_eu", "ok"),
        ("move_wl", "sandbox_offlimits", "failed"),
    ]
    # Cancelling the file chooser writes nothing.

    async def cancel(parent: object, suggested: str) -> None:
        return None

    target.unlink()
    tab.choose_export_path = cancel
    tab.export_button.click()
    qtbot.wait(50)
    assert not target.exists()


def test_verify_shows_intact_then_the_first_tampered_entry(
    qtbot: QtBot,
    ctx: UiContext,
    paths: AppPaths,
    writes: list[JournalEntry],
) -> None:
    tab = make_tab(qtbot, ctx)
    with qtbot.waitSignal(tab.finished, timeout=10_000):
        tab.verify_button.click()
    assert tab.verify_result.text().startswith("✔ Chain intact: 5 entries checked (at ")
    assert tab.verify_result.property("tone") == "success"
    # What someone with the file could do: drop the guards and edit an entry's partnerId.
    raw = sqlite3.connect(paths.database_file)
    with raw:
        raw.execute("DROP TRIGGER journal_no_update")
        raw.execute(
            "UPDATE journal SET body = json_set(body, '$.after', 'IB-666') WHERE id = ?",
            (writes[2].id,),
        )
    raw.close()
    with qtbot.waitSignal(tab.finished, timeout=10_000):
        tab.verify_button.click()
    text = tab.verify_result.text()
    assert text.startswith(f"✖ Chain broken at entry #{writes[2].id}:")
    assert "changed after it was written" in text
    assert tab.verify_result.property("tone") == "error"


# --- revert ---------------------------------------------------------------------------------------


def select(qtbot: QtBot, tab: JournalTab, entry_id: int) -> None:
    assert tab.select_entry(entry_id)
    selected = tab.selected_entry()
    assert selected is not None
    assert selected.id == entry_id


def test_revert_of_a_set_partner_asks_then_restores_and_journals(
    qtbot: QtBot, ctx: UiContext, backoffice: Backoffice, sandbox: Sandbox
) -> None:
    tab = make_tab(qtbot, ctx)
    original = set_partner(qtbot, backoffice, USER, "IB-7")
    wrote(qtbot, ctx, tab)
    select(qtbot, tab, original.id)
    assert tab.revert_button.isEnabled()
    tab.revert_button.click()
    dialog = wait_for_dialog(qtbot, "confirmWriteDialog")
    assert isinstance(dialog, ConfirmWriteDialog)
    shown = [label.text() for label in dialog.findChildren(QLabel)]
    assert "IB-7 → AFF-EU-318" in shown
    assert f"user {USER}" in shown
    assert sandbox.referral(user_id=USER) == "IB-7"  # nothing sent before the answer
    dialog.reason.setText("set on the wrong client")
    dialog.ticket.setText("SUP-77")
    with qtbot.waitSignal(tab.model.loaded, timeout=10_000):
        dialog.accept()
    qtbot.waitUntil(lambda: tab.bar.level is Level.SUCCESS, timeout=10_000)
    assert sandbox.referral(user_id=USER) == "AFF-EU-318"
    newest = backoffice.journal.page(None, 0, 1)[0]
    assert (newest.action, newest.before, newest.after, newest.outcome) == (
        "set_partner",
        "IB-7",
        "AFF-EU-318",
        "ok",
    )
    assert (newest.reverts_id, newest.reason, newest.ticket) == (
        original.id,
        "set on the wrong client",
        "SUP-77",
    )
    assert f"Entry #{original.id} reverted" in tab.bar.text()
    qtbot.waitUntil(lambda: tab.model.total == 2)
    assert rows(tab, "Reverts") == [f"#{original.id}", ""]


def test_declining_the_confirmation_sends_nothing(
    qtbot: QtBot, ctx: UiContext, backoffice: Backoffice, sandbox: Sandbox
) -> None:
    tab = make_tab(qtbot, ctx)
    original = set_partner(qtbot, backoffice, USER, "IB-7")
    wrote(qtbot, ctx, tab)
    select(qtbot, tab, original.id)
    tab.revert_button.click()
    wait_for_dialog(qtbot, "confirmWriteDialog").reject()
    qtbot.wait(50)
    assert sandbox.referral(user_id=USER) == "IB-7"
    assert backoffice.journal.count() == 1


def refused(qtbot: QtBot, tab: JournalTab, entry_id: int) -> str:
    select(qtbot, tab, entry_id)
    tab.bar.hide()  # the previous answer
    tab.revert_button.click()
    qtbot.waitUntil(lambda: tab.bar.level is Level.ERROR and bool(tab.bar.text()), timeout=10_000)
    assert not confirm_dialog_shown()
    return tab.bar.text()


def test_revert_is_refused_for_creates_links_and_failed_entries(
    qtbot: QtBot, ctx: UiContext, backoffice: Backoffice, writes: list[JournalEntry]
) -> None:
    tab = make_tab(qtbot, ctx)
    created, linked, _, _, failed = writes
    for entry, why in (
        (created, "no call to delete a user"),
        (linked, "no call to unlink"),
        (failed, "failed attempt: nothing was changed"),
    ):
        # Not offered at all, and the tooltip and the details say why.
        assert why in tab_tooltip_and(qtbot, tab, entry.id)
        assert not tab.revert_button.isEnabled()
        assert why in tab.revert_button.toolTip()
    assert backoffice.journal.count() == 5


def tab_tooltip_and(qtbot: QtBot, tab: JournalTab, entry_id: int) -> str:
    select(qtbot, tab, entry_id)
    return tab.revert_button.toolTip() + " " + tab.details.toPlainText()


def test_revert_is_refused_on_drift_and_when_already_reverted(
    qtbot: QtBot, ctx: UiContext, backoffice: Backoffice, sandbox: Sandbox
) -> None:
    tab = make_tab(qtbot, ctx)
    first = set_partner(qtbot, backoffice, USER, "IB-7")
    set_partner(qtbot, backoffice, USER, "IB-8")  # another agent, later
    wrote(qtbot, ctx, tab)
    message = refused(qtbot, tab, first.id)
    assert "changed since" in message
    assert "Expected IB-7" in message
    assert "now IB-8" in message
    assert sandbox.referral(user_id=USER) == "IB-8"

    # The later entry can be reverted; afterwards it cannot be reverted again.
    second = backoffice.journal.page(None, 0, 1)[0]
    select(qtbot, tab, second.id)
    tab.revert_button.click()
    dialog = wait_for_dialog(qtbot, "confirmWriteDialog")
    assert isinstance(dialog, ConfirmWriteDialog)
    dialog.reason.setText("undo")
    with qtbot.waitSignal(tab.model.loaded, timeout=10_000):
        dialog.accept()
    qtbot.waitUntil(lambda: tab.bar.level is Level.SUCCESS, timeout=10_000)
    assert sandbox.referral(user_id=USER) == "IB-7"
    revert_id = backoffice.journal.page(None, 0, 1)[0].id
    assert f"already reverted by entry #{revert_id}" in refused(qtbot, tab, second.id)


def test_open_in_lookup_asks_for_the_target(
    qtbot: QtBot, ctx: UiContext, writes: list[JournalEntry], unlinked_login: int
) -> None:
    tab = make_tab(qtbot, ctx)
    asked: list[str] = []
    ctx.lookup_requested.connect(asked.append)
    for entry in writes:
        select(qtbot, tab, entry.id)
        tab.lookup_button.click()
    assert asked == [
        "new.client@example.com",
        f"login:{unlinked_login}",
        f"user:{USER}",
        f"login:{LOGIN}",
        f"login:{LOGIN}",
    ]


def test_a_hidden_tab_loads_when_shown(
    qtbot: QtBot, ctx: UiContext, backoffice: Backoffice
) -> None:
    tab = JournalTab(ctx)
    qtbot.addWidget(tab)
    set_partner(qtbot, backoffice, USER, "IB-7")
    ctx.wrote()
    qtbot.wait(20)
    assert tab.model.total == 0  # not on screen: nothing read yet
    with qtbot.waitSignal(tab.model.loaded, timeout=10_000):
        tab.show()
    assert tab.model.total == 1


# --- the lazy model -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_journal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Journal]:
    """100 000 entries written with append_many.

    Made faster for a test about paging: no text index, and these generated values (no secret
    in them) skip redaction, which is most of append_many's cost (see benchmarks/journal_tab.py
    for the real thing)."""
    database = Database(tmp_path_factory.mktemp("big") / "journal.sqlite3")
    journal = Journal(database, full_text=False)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("ctrader_admin.store.journal.redact", str)
        journal.append_many(
            JournalAttempt(
                JournalDraft(
                    operator="30001",
                    profile_id="sandbox",
                    profile_name="Sandbox",
                    environment="demo",
                    broker_name="sandbox_main",
                    action="set_partner",
                    target=f"user:{1_000_000 + i}",
                    before=f"IB-{i}",
                    after=f"IB-{i + 1}",
                    workstation="desk",
                ),
                "failed" if i % 50 == 49 else "ok",
                at=start + timedelta(seconds=i),
            )
            for i in range(100_000)
        )
    yield journal
    database.close()


@pytest.mark.slow
def test_the_model_fetches_only_the_pages_on_screen(
    qtbot: QtBot,
    event_loop: asyncio.AbstractEventLoop,
    big_journal: Journal,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pages: list[tuple[int, int]] = []  # journal.page calls
    from_oldest: list[JournalFilter | None] = []  # pages near the end, read from the other end
    counts: list[JournalFilter | None] = []
    real_page, real_count, real_iter = big_journal.page, big_journal.count, big_journal.iter_entries

    def page(flt: JournalFilter | None, offset: int, limit: int) -> list[JournalEntry]:
        pages.append((offset, limit))
        return real_page(flt, offset, limit)

    def count(flt: JournalFilter | None = None) -> int:
        counts.append(flt)
        return real_count(flt)

    def iter_entries(flt: JournalFilter | None = None) -> Iterator[JournalEntry]:
        from_oldest.append(flt)
        return real_iter(flt)

    monkeypatch.setattr(big_journal, "page", page)
    monkeypatch.setattr(big_journal, "count", count)
    monkeypatch.setattr(big_journal, "iter_entries", iter_entries)
    model = JournalModel(big_journal, page_size=200, cache_pages=4)
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(900, 600)
    view.show()
    # The first page is shown before the count is known; then the rows are added.
    seen_first: list[tuple[int, bool]] = []
    model.first_page.connect(lambda: seen_first.append((model.rowCount(), model.counting)))
    with qtbot.waitSignal(model.loaded, timeout=10_000):
        run_async(qtbot, model.load(JournalFilter()))
    assert seen_first == [(200, True)]
    assert model.rowCount() == 100_000
    assert not model.counting
    assert (len(counts), pages) == (1, [(0, 200)])
    assert model.data(model.index(0, COLUMNS.index("Target"))) == "user:1099999"

    view.scrollToBottom()
    qtbot.waitUntil(lambda: model.has_row(99_999) and not model.loading, timeout=10_000)
    assert model.data(model.index(99_999, COLUMNS.index("Target"))) == "user:1000000"
    view.scrollTo(model.index(50_000, 0))
    qtbot.waitUntil(lambda: model.has_row(50_000) and not model.loading, timeout=10_000)
    assert model.data(model.index(50_000, COLUMNS.index("Before"))) == "IB-49999"
    qtbot.wait(50)  # let every paint happen
    # The first page, the last one (and maybe the one before it: read from the oldest end, not
    # through an OFFSET of 99 800), the middle one (or two).
    assert 1 <= len(from_oldest) <= 2
    assert 2 <= len(pages) <= 3
    assert all(limit == 200 for _, limit in pages)
    assert len(model.cached_pages) <= 4
    # A row whose page is not there yet shows a placeholder and asks for it once.
    before = len(pages)
    assert model.data(model.index(20_000, 0)) == PLACEHOLDER
    assert model.data(model.index(20_001, 0)) == PLACEHOLDER
    qtbot.waitUntil(lambda: model.has_row(20_000), timeout=10_000)
    assert pages[before:] == [(20_000, 200)]

    # A filter: one count, one page.
    view.scrollToTop()
    qtbot.wait(20)
    pages.clear()
    with qtbot.waitSignal(model.loaded, timeout=10_000):
        run_async(qtbot, model.load(JournalFilter(outcome="failed")))
    qtbot.wait(50)
    assert model.rowCount() == 2_000
    assert len(counts) == 2
    assert pages == [(0, 200)]
    assert model.data(model.index(0, COLUMNS.index("Outcome"))) == "failed"
    assert not model.loading
    # A first page shorter than a page is the whole result: no count query at all.
    with qtbot.waitSignal(model.loaded, timeout=10_000):
        run_async(qtbot, model.load(JournalFilter(outcome="failed", operator="30002")))
    assert (model.rowCount(), len(counts)) == (0, 2)


@pytest.mark.slow
@pytest.mark.parametrize(
    "flt", [JournalFilter(), JournalFilter(outcome="failed")], ids=["all", "failed"]
)
def test_pages_near_the_end_read_from_the_oldest_end_are_the_same(
    big_journal: Journal, flt: JournalFilter
) -> None:
    total = big_journal.count(flt)
    for offset, limit in ((total - 200, 200), (total - 150, 200), (total - 1_000, 200), (0, 200)):
        expected = [e.id for e in big_journal.page(flt, offset, limit)]
        got = [row.entry.id for row in journal_model._fetch(big_journal, flt, offset, limit, total)]
        assert got == expected, (offset, limit)
    assert journal_model._fetch(big_journal, flt, total, 200, total) == []
