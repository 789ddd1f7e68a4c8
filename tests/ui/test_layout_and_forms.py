"""Nothing jumps under the mouse and forms default to what is known (issue 12): the Partners form
keeps its layout when the level changes, an error outline moves no field, the White Label tab
takes the account's environment from the local directory and says which it uses, and every
column of the import dialog's problem table has a name."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.ui.context import UiContext
from ctrader_admin.ui.import_dialog import ProblemsModel
from ctrader_admin.ui.partners_tab import PartnersTab
from ctrader_admin.ui.white_label_tab import WhiteLabelTab
from ctrader_admin.ui.widgets import is_marked_invalid

LIVE_ACCOUNT = 5200001  # sandbox seed: a live account on sandbox_main
DEMO_ACCOUNT = 3100001  # sandbox seed: a demo account on sandbox_main


def geometry(tab: QWidget, widgets: list[QWidget]) -> list[QRect]:
    return [QRect(w.mapTo(tab, w.rect().topLeft()), w.size()) for w in widgets]


def partners_tab(qtbot: QtBot, ctx: UiContext) -> PartnersTab:
    tab = PartnersTab(ctx)
    qtbot.addWidget(tab)
    tab.resize(1000, 700)
    tab.show()
    qtbot.wait(20)
    return tab


def test_the_partners_form_does_not_reflow_when_the_level_changes(
    qtbot: QtBot, ctx: UiContext
) -> None:
    tab = partners_tab(qtbot, ctx)
    steady = [tab.target_id, tab.read_button, tab.set_button, tab.bulk_note, tab.user_level]
    before = geometry(tab, steady)
    tab.account_level.setChecked(True)
    qtbot.wait(20)
    assert tab.owner.isEnabled()
    assert geometry(tab, steady) == before
    tab.user_level.setChecked(True)
    qtbot.wait(20)
    assert geometry(tab, steady) == before


def test_an_error_outline_moves_no_field(qtbot: QtBot, ctx: UiContext) -> None:
    tab = partners_tab(qtbot, ctx)
    tab.account_level.setChecked(True)
    qtbot.wait(20)
    fields = [tab.target_id, tab.owner, tab.read_button, tab.owner_note]
    before = geometry(tab, fields)
    hints = [w.sizeHint() for w in fields]
    tab.target_id.setText("12ab")
    tab.read_button.click()
    qtbot.waitUntil(tab.bar.isVisible)
    qtbot.wait(20)
    assert is_marked_invalid(tab.target_id)
    assert geometry(tab, fields) == before
    assert [w.sizeHint() for w in fields] == hints
    qtbot.keyClick(tab.target_id, Qt.Key.Key_Backspace)
    assert not is_marked_invalid(tab.target_id)
    assert geometry(tab, fields) == before


def wl_tab(qtbot: QtBot, ctx: UiContext) -> WhiteLabelTab:
    tab = WhiteLabelTab(ctx)
    qtbot.addWidget(tab)
    tab.show()
    return tab


def read(qtbot: QtBot, tab: WhiteLabelTab, login: int) -> None:
    tab.login.setText(str(login))
    with qtbot.waitSignal(tab.finished, timeout=10_000):
        tab.read_button.click()


def test_the_white_label_tab_takes_the_accounts_environment_and_shows_it(
    qtbot: QtBot, ctx: UiContext, backoffice: Backoffice
) -> None:
    backoffice.directory.upsert_account(
        "sandbox", LIVE_ACCOUNT, "live", source="import", broker_name="sandbox_main"
    )
    tab = wl_tab(qtbot, ctx)
    assert tab.environment.currentText() == "demo"  # the list's first, before any read
    read(qtbot, tab, LIVE_ACCOUNT)
    assert tab.environment.currentText() == "live"
    assert tab.shown_environment.isVisible()
    assert tab.shown_environment.text() == "live (from the local directory)"

    read(qtbot, tab, DEMO_ACCOUNT)  # not in the local directory
    assert tab.environment.currentText() == "live"  # nothing known: the operator's choice stays
    assert "not known here" in tab.shown_environment.text()
    assert tab.shown_environment.text().startswith("live")


def test_every_column_of_the_import_problems_table_has_a_name() -> None:
    model = ProblemsModel()
    names = [
        model.headerData(c, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole)
        for c in range(model.columnCount())
    ]
    assert all(names), names
