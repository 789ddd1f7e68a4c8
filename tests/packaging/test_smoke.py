"""`ctrader-admin --smoke-test` from source: the same check every built artefact gets
(packaging/check-bundle.sh), run here in a subprocess so it has its own QApplication."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ctrader_admin import APP_NAME, __version__

pytestmark = pytest.mark.slow


def run_smoke(
    env_overrides: dict[str, str], timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", **env_overrides}
    return subprocess.run(
        [sys.executable, "-m", "ctrader_admin", "--smoke-test"],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


def test_smoke_test_prints_one_ok_line(app_home: Path) -> None:
    result = run_smoke({"CTRADER_ADMIN_HOME": str(app_home)})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    line = lines[0]
    assert line.startswith(f"smoke-test ok: {APP_NAME} {__version__} (source), window shown in ")
    assert "sandbox lookup user 1000001 → partnerId IB-1042" in line
    assert "keyring backend" in line
    # Team mode's driver and its libpq (with TLS) work from this install.
    assert "psycopg 3." in line
    assert "(libpq " in line
    # Everything it wrote went to the home it was given.
    assert (app_home / "logs" / "ctrader-admin.log").is_file()
    assert (app_home / "data" / "sandbox.sqlite3").is_file()


def test_without_a_home_it_uses_a_temporary_one(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CTRADER_ADMIN_HOME"}
    # Where the platform folders would be: nothing may appear there.
    env.update(
        HOME=str(tmp_path / "home"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_STATE_HOME=str(tmp_path / "state"),
        TMPDIR=str(tmp_path / "tmp"),
        QT_QPA_PLATFORM="offscreen",
    )
    (tmp_path / "tmp").mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "ctrader_admin", "--smoke-test"],
        capture_output=True,
        text=True,
        timeout=90,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("smoke-test ok:")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tmp"]
    assert list((tmp_path / "tmp").iterdir()) == []  # the temporary home was removed


def test_a_failure_is_one_clear_line_and_a_non_zero_exit(app_home: Path) -> None:
    # A file where the home folder should be: the app cannot create its folders.
    app_home.parent.mkdir(parents=True, exist_ok=True)
    app_home.write_text("not a folder")
    result = run_smoke({"CTRADER_ADMIN_HOME": str(app_home)})
    assert result.returncode == 1
    assert result.stdout == ""
    failures = [line for line in result.stderr.splitlines() if line.startswith("smoke-test")]
    assert len(failures) == 1
    assert failures[0].startswith(f"smoke-test FAILED: {APP_NAME} {__version__} (source): ")


def test_the_hard_timeout_ends_a_hung_run(app_home: Path) -> None:
    result = run_smoke(
        {"CTRADER_ADMIN_HOME": str(app_home), "CTRADER_ADMIN_SMOKE_TIMEOUT": "0.05"}, timeout=60
    )
    assert result.returncode == 3
    assert "smoke-test FAILED" in result.stderr
    assert "no result within 0.05 s" in result.stderr
