"""A broken profile in the settings file costs the operator that profile only: the app starts
with the others and says, at start-up, which one was set aside, why and where it is kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

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
