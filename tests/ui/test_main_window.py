"""The main window: where am I (band, title), Ctrl+K, profile switching, geometry."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QLineEdit
from pytestqt.qtbot import QtBot
from ui_helpers import run_async

from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.ui.context import LinkRequest
from ctrader_admin.ui.main_window import TABS, MainWindow


def make_window(qtbot: QtBot, backoffice: Backoffice, qsettings: QSettings) -> MainWindow:
    window = MainWindow(backoffice, qsettings)
    qtbot.addWidget(window)
    window.show()
    window.refresh_band()
    return window


def test_band_and_title_say_where_the_operator_is(
    qtbot: QtBot, backoffice: Backoffice, qsettings: QSettings
) -> None:
    window = make_window(qtbot, backoffice, qsettings)
    assert window.band.name.text() == "Sandbox"
    assert window.band.budget.text() == "Writes left: 1000 / 1000"
    assert "this hour" in window.band.budget.toolTip()
    assert window.band.login_state.text() == "Manager 30001"
    assert not window.band.live.isVisible()
    assert window.windowTitle().startswith("Sandbox — ctrader-admin")


def test_a_live_profile_is_unmistakable(
    qtbot: QtBot, backoffice: Backoffice, qsettings: QSettings
) -> None:
    live = backoffice.profiles.get("sandbox").model_copy(
        update={"id": "training-live", "name": "Training LIVE", "kind": "sandbox", "live": True}
    )
    backoffice.profiles.add(live)
    backoffice.settings = backoffice.profiles.load()
    window = make_window(qtbot, backoffice, qsettings)
    run_async(qtbot, window.open_profile("training-live"))
    assert window.windowTitle().startswith("LIVE — Training LIVE")
    assert window.band.live.isVisible()
    assert "#b00020" in window.band.styleSheet()
    run_async(qtbot, window.open_profile("sandbox"))
    assert not window.band.live.isVisible()


def test_ctrl_k_jumps_to_the_lookup_box(
    qtbot: QtBot, backoffice: Backoffice, qsettings: QSettings
) -> None:
    window = make_window(qtbot, backoffice, qsettings)
    qtbot.waitExposed(window)
    window.tabs.setCurrentIndex(len(window.tab_pages) - 1)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    # A text field with focus (on Linux QLineEdit claims Ctrl+K for itself).
    journal_text = window.tabs.currentWidget().findChild(QLineEdit)
    assert journal_text is not None
    journal_text.setFocus()
    journal_text.setText("keep me")
    qtbot.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    lookup = window.tab_pages["LookupTab"]
    assert window.current_tab() is lookup
    qtbot.waitUntil(lambda: QApplication.focusWidget() is lookup.search)  # type: ignore[attr-defined]
    assert journal_text.text() == "keep me"


def test_geometry_is_restored(qtbot: QtBot, backoffice: Backoffice, qsettings: QSettings) -> None:
    window = make_window(qtbot, backoffice, qsettings)
    qtbot.waitExposed(window)
    # The offscreen screen is 800×600 and restoreGeometry() clamps to it: test the height.
    window.resize(1010, 480)
    window.close()
    assert qsettings.value("window/geometry")
    again = make_window(qtbot, backoffice, qsettings)
    qtbot.waitExposed(again)
    assert again.height() == 480


def test_tabs_are_built_on_first_use(
    qtbot: QtBot, backoffice: Backoffice, qsettings: QSettings
) -> None:
    window = make_window(qtbot, backoffice, qsettings)
    assert list(window.tab_pages.built()) == ["LookupTab"]
    assert len(window.tab_pages) == window.tabs.count() == len(TABS)
    # Alt+N / a click: the tab becomes current and is built then.
    window.tabs.setCurrentIndex(len(TABS) - 1)
    journal = window.current_tab()
    assert type(journal).__name__ == "JournalTab"
    assert window.tab_pages["JournalTab"] is journal
    # Looked up by class name (e.g. Lookup's "Link another account"): built on demand.
    window.ctx.link_requested.emit(LinkRequest(user_id=1000001))
    assert type(window.current_tab()).__name__ == "AccountsTab"
    for index, spec in enumerate(TABS):
        page = window.tab_pages[spec.name]
        assert (window.tabs.tabText(index), page.title) == (spec.title, spec.title)


def test_the_lookup_tab_keeps_recent_cases_in_the_window_settings(
    qtbot: QtBot, backoffice: Backoffice, qsettings: QSettings
) -> None:
    """The window hands its settings file to the tabs through the UI context: a case looked up
    in one window is offered by the next one (the next start)."""
    first = MainWindow(backoffice, qsettings)
    qtbot.addWidget(first)
    first.tab_pages["LookupTab"].recent.add("sandbox", "user:1000001", "Emily")  # type: ignore[attr-defined]
    second = MainWindow(backoffice, qsettings)
    qtbot.addWidget(second)
    recent = second.tab_pages["LookupTab"].recent.entries("sandbox")  # type: ignore[attr-defined]
    assert recent == [("user:1000001", "Emily")]


def test_a_tab_reached_by_its_shortcut_is_built_then_and_takes_the_keyboard(
    qtbot: QtBot, backoffice: Backoffice, qsettings: QSettings
) -> None:
    """Tabs other than Lookup are built when first shown (start-up pays for none of them): Alt+N
    from the keyboard builds the tab and puts the focus in it, as for a tab built earlier, so
    what is typed next lands in its first field."""
    window = make_window(qtbot, backoffice, qsettings)
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    lookup = window.tab_pages["LookupTab"]
    lookup.focus_search()  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: QApplication.focusWidget() is lookup.search)  # type: ignore[attr-defined]
    for number, spec in enumerate(TABS, start=1):
        if spec is TABS[0]:
            continue
        assert spec.name not in window.tab_pages.built()
        qtbot.keyClick(window, Qt.Key(Qt.Key.Key_0 + number), Qt.KeyboardModifier.AltModifier)
        page = window.current_tab()
        assert page is not None
        assert type(page).__name__ == spec.name
        focused = QApplication.focusWidget()
        assert focused is not None
        assert page.isAncestorOf(focused), f"{spec.title}: the focus is on {focused!r}"
        qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.AltModifier)
        assert QApplication.focusWidget() is lookup.search  # type: ignore[attr-defined]
