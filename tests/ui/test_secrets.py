"""Secrets never reach a file: a scripted session with DEBUG logging everywhere, an account link
(its password also typed into the reason, the wrong field), a rejected token, a crash dialog and
a journal export, then every file the app wrote is scanned for the token, the manager's and the
trading account's passwords and their MD5s."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from ui_helpers import run_async

from ctrader_admin.api import NotFound, Unauthorized
from ctrader_admin.logs import configure_logging
from ctrader_admin.sandbox import TRAINING_MANAGERS, trading_password
from ctrader_admin.services import accounts, partners
from ctrader_admin.services.writes import LinkTarget, UserTarget
from ctrader_admin.store.paths import AppPaths
from ctrader_admin.ui.crash import CrashDialog, install_excepthook
from ctrader_admin.ui.main_window import MainWindow
from ctrader_admin.wiring import build_backoffice

MANAGER = TRAINING_MANAGERS[1]  # the limited manager: its own token and password


class InMemorySandboxHost:
    """The composition root's sandbox host, but in memory: the backend's own database (which
    naturally stores the manager's credentials, like any server) is not the app's file."""

    def __init__(self) -> None:
        from ctrader_admin.sandbox import Sandbox, SandboxConfig

        self.sandbox = Sandbox(SandboxConfig(users=60))

    def get(self) -> object:
        return self.sandbox


def test_no_file_the_app_writes_contains_a_secret(
    qtbot: QtBot,
    app_home: Path,
    request: pytest.FixtureRequest,
    event_loop: asyncio.AbstractEventLoop,
) -> None:
    paths = AppPaths.from_environment()
    root = logging.getLogger()
    handlers_before = list(root.handlers)
    configure_logging(paths, level=logging.DEBUG)
    added = [h for h in root.handlers if h not in handlers_before]
    for handler in added:
        request.addfinalizer(handler.close)
        request.addfinalizer(lambda h=handler: root.removeHandler(h))
    for name in ("httpx", "httpcore", "ctrader_admin"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    host = InMemorySandboxHost()
    backoffice = build_backoffice(paths, host)  # type: ignore[arg-type]
    settings = QSettings(str(paths.ensure_config_dir() / "window.ini"), QSettings.Format.IniFormat)
    window = MainWindow(backoffice, settings)
    qtbot.addWidget(window)
    window.show()
    run_async(qtbot, window.open_profile("sandbox"))
    session = backoffice.session
    assert session is not None
    run_async(qtbot, session.logout())
    run_async(qtbot, session.login(MANAGER.login, MANAGER.password, remember=True))
    token = session.client.token
    assert token
    user = host.sandbox.logins(broker_name="sandbox_main", linked=True)[0]
    link = host.sandbox.link(trader_login=user)
    assert link is not None
    target = UserTarget(link["user_id"])
    run_async(
        qtbot,
        partners.set_partner(session, target, "IB-SECRET-TEST", reason="test", ticket="T-1"),
    )
    # An account link, whose password the operator also typed into the reason (the wrong field).
    login = host.sandbox.logins(broker_name="sandbox_main", environment="demo", linked=False)[0]
    account_password = trading_password(login)
    linked = run_async(
        qtbot,
        accounts.link_account(
            session,
            login=login,
            password=SecretStr(account_password),
            user_id=link["user_id"],
            broker_name="sandbox_main",
            environment="demo",
            reason=f"customer read out {account_password} on the phone",
            ticket="T-2",
        ),
    )
    assert linked.ctid_trader_account_id is not None
    (entry,) = backoffice.journal.page(None, 0, 1)
    assert entry.action == "link_account"
    assert entry.reason == "customer read out *** on the phone"
    # A write refused by rights, and a token the backend stopped accepting.
    unknown_link = LinkTarget(9_999_999)
    with pytest.raises(NotFound):
        run_async(qtbot, partners.set_partner(session, unknown_link, "X-1", reason="test"))
    host.sandbox.invalidate_token(MANAGER.login)
    with pytest.raises(Unauthorized):
        run_async(qtbot, partners.read_partner(session, target))
    # A crash whose message carries the token (the excepthook logs and shows the report).
    install_excepthook()
    try:
        raise RuntimeError(f"boom with token={token} and {MANAGER.password} {account_password}")
    except RuntimeError:
        sys.excepthook(*sys.exc_info())  # type: ignore[arg-type]
    (crash,) = [
        w for w in QApplication.allWidgets() if isinstance(w, CrashDialog) and "boom" in w.report
    ]
    assert token not in crash.report
    assert MANAGER.password not in crash.report
    assert account_password not in crash.report
    assert "boom with token=***" in crash.report
    crash.close()
    # Journal export.
    export = paths.ensure_data_dir() / "journal-export.csv"
    with export.open("w", encoding="utf-8") as handle:
        assert backoffice.journal.export_csv(None, handle) >= 1
    window.close()
    settings.sync()
    for handler in logging.getLogger().handlers:
        handler.flush()

    secrets = {
        "token": token.encode(),
        "password": MANAGER.password.encode(),
        "password md5": hashlib.md5(MANAGER.password.encode()).hexdigest().encode(),
        "account password": account_password.encode(),
        "account password md5": hashlib.md5(account_password.encode()).hexdigest().encode(),
    }
    written = [p for p in app_home.rglob("*") if p.is_file()]
    assert any(p.suffix == ".log" for p in written)
    assert any(p.name.endswith(".csv") for p in written)
    log_text = "".join(p.read_text("utf-8", "replace") for p in written if p.suffix == ".log")
    assert "GET /cid/oauth2/ctid/referral" in log_text or "referral" in log_text  # DEBUG was on
    hits = [
        f"{path.relative_to(app_home)}: {what}"
        for path in written
        for what, needle in secrets.items()
        if needle in path.read_bytes()
    ]
    assert hits == []
