"""``ctrader-admin --profile X``: the desktop app opens X whether X is an id or a name, for this
start only (issue 12: a name failed, and the profile became the saved default)."""

from __future__ import annotations

from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot
from ui_helpers import run_async

from ctrader_admin.app import open_start_profile
from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.store.profiles import Profile
from ctrader_admin.ui.main_window import MainWindow


def window_with_profiles(qtbot: QtBot, backoffice: Backoffice, qsettings: QSettings) -> MainWindow:
    backoffice.profiles.add(
        Profile.model_validate(
            {
                "id": "acme-live",
                "name": "ACME Live",
                "base_url": "https://127.0.0.1:9",
                "broker_names": ["acme"],
                "broker_crm_name": "acme_crm",
                "live": True,
            }
        )
    )
    window = MainWindow(None, qsettings)
    qtbot.addWidget(window)
    window.attach(backoffice)
    return window


def test_a_profile_name_opens_that_profile_for_this_start_only(
    qtbot: QtBot, backoffice: Backoffice, qsettings: QSettings
) -> None:
    window = window_with_profiles(qtbot, backoffice, qsettings)
    assert backoffice.profiles.load().last_profile_id == "sandbox"
    for wanted in ("ACME Live", "acme live", "acme-live"):
        run_async(qtbot, open_start_profile(window, backoffice, wanted))
        assert backoffice.session is not None
        assert backoffice.session.profile.id == "acme-live"
        assert window.band.name.text() == "ACME Live"
        # The next start (and every CLI command without --profile) still uses the sandbox.
        assert backoffice.profiles.load().last_profile_id == "sandbox"


def test_an_unknown_profile_opens_the_last_one_and_says_so(
    qtbot: QtBot, backoffice: Backoffice, qsettings: QSettings
) -> None:
    window = window_with_profiles(qtbot, backoffice, qsettings)
    run_async(qtbot, open_start_profile(window, backoffice, "nosuch"))
    assert backoffice.session is not None
    assert backoffice.session.profile.id == "sandbox"
    message = window.statusBar().currentMessage()
    assert "There is no profile 'nosuch'" in message
    assert "acme-live (ACME Live)" in message


def test_switching_profiles_in_the_app_is_remembered(
    qtbot: QtBot, backoffice: Backoffice, qsettings: QSettings
) -> None:
    window = window_with_profiles(qtbot, backoffice, qsettings)
    run_async(qtbot, window.open_profile("acme-live"))
    assert backoffice.profiles.load().last_profile_id == "acme-live"
