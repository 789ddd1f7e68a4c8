"""A broken profile in the settings file costs the operator that profile only: the app starts
with the others and says, at start-up, which one was set aside, why and where it is kept."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QToolButton
from pytestqt.qtbot import QtBot
from ui_helpers import run_async

from ctrader_admin.store.paths import AppPaths
from ctrader_admin.ui.main_window import MainWindow

BROKEN = {
    "id": "acme-demo",
    "name": "Acme demo",
    "base_url": "https://demo-acme.webapi.ctrader.com:99999",
    "broker_names": ["acme"],
    "broker_crm_name": "acme_crm",
}
GOOD = BROKEN | {"id": "acme-live", "name": "Acme live", "base_url": "https://live-acme:8443"}


def test_the_app_starts_with_the_good_profiles_and_names_the_broken_one(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "settings.json").write_text(
        json.dumps({"profiles": [GOOD, BROKEN], "last_profile_id": "sandbox"}), encoding="utf-8"
    )
    code = (
        "from PySide6.QtCore import QTimer\n"
        "from PySide6.QtWidgets import QApplication\n"
        "from ctrader_admin.app import run_gui\n"
        "def ready(window):\n"
        "    band = window.band.profiles\n"
        "    names = [band.itemText(i) for i in range(band.count())]\n"
        "    print('profiles:', names, flush=True)\n"
        "    print('shown:', window.notice.isVisible(), window.notice.level.name, flush=True)\n"
        "    print('notice:', window.notice.text(), flush=True)\n"
        "    QTimer.singleShot(50, QApplication.instance().quit)\n"
        "raise SystemExit(run_gui(on_ready=ready))\n"
    )
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "CTRADER_ADMIN_HOME": str(tmp_path),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        "CTRADER_ADMIN_LOG_LEVEL": "debug",
    }
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 0, done.stderr[-3000:]
    assert "profiles: ['Sandbox', 'Acme live']" in done.stdout
    assert "shown: True WARNING" in done.stdout
    (kept,) = config.glob("settings.broken-*.json")
    notice = done.stdout.split("notice: ", 1)[1]
    assert notice.startswith(
        "The profile 'Acme demo' could not be loaded: "
        "The port must be a number between 1 and 65535 (base_url). "
        f"It is kept in {kept}; the other profiles are loaded."
    )
    assert json.loads(kept.read_text("utf-8"))["profiles"] == [BROKEN]
    names = [p["name"] for p in json.loads((config / "settings.json").read_text())["profiles"]]
    assert names == ["Sandbox", "Acme live"]
    # The app's log, at the level the environment asked for, says it too.
    log = (tmp_path / "logs" / "ctrader-admin.log").read_text("utf-8")
    assert "WARNING ctrader_admin.store.profiles: Profile 'Acme demo' (entry 2) set aside" in log
    assert " DEBUG " in log


def test_the_notice_is_dismissed_whole_and_absent_when_all_is_well(
    qtbot: QtBot, app_home: Path, event_loop: asyncio.AbstractEventLoop
) -> None:
    from ctrader_admin.wiring import SandboxHost, build_backoffice

    paths = AppPaths.from_environment()
    paths.ensure_config_dir()
    paths.settings_file.write_text(json.dumps({"profiles": [GOOD, BROKEN]}), encoding="utf-8")
    host = SandboxHost(paths)
    window = MainWindow(None, QSettings(str(app_home / "w.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    office = build_backoffice(paths, host)
    again = None
    try:
        window.attach(office)
        assert window.notice.isVisible()
        assert "'Acme demo'" in window.notice.text()
        margins = window.notice.parentWidget()
        assert margins is not None
        dismiss = window.notice.findChild(QToolButton)
        assert dismiss is not None
        dismiss.click()
        assert not window.notice.isVisible()
        assert not margins.isVisible()  # no empty strip left under the band

        quiet = MainWindow(None, QSettings(str(app_home / "q.ini"), QSettings.Format.IniFormat))
        qtbot.addWidget(quiet)
        quiet.show()
        again = build_backoffice(paths, host)
        quiet.attach(again)  # the file was repaired: nothing to tell
        assert not quiet.notice.isVisible()
        margins = quiet.notice.parentWidget()
        assert margins is not None
        assert not margins.isVisible()
    finally:
        for opened in (office, again):
            if opened is not None:
                run_async(qtbot, opened.close())
        host.close()
