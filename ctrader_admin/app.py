"""The composition root: the one place that builds the stores, the client factory (real network
or the embedded sandbox), the services and the window, and wires them together."""

from __future__ import annotations

import logging
import logging.handlers
import socket
from typing import TYPE_CHECKING

from ctrader_admin.api import ApiClient, ApiError, ConnectionConfig
from ctrader_admin.api.logging import install_log_redaction
from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.services.session import Session
from ctrader_admin.store.database import Database
from ctrader_admin.store.directory import Directory
from ctrader_admin.store.journal import Journal
from ctrader_admin.store.paths import AppPaths
from ctrader_admin.store.profiles import Profile, ProfileStore
from ctrader_admin.store.tokens import TokenStore

if TYPE_CHECKING:
    from ctrader_admin.sandbox import Sandbox

log = logging.getLogger(__name__)


class SandboxHost:
    """The embedded sandbox, started on first use so that a real-broker start never pays for
    it. File-backed: what a trainee did is still there after a restart."""

    def __init__(self, paths: AppPaths) -> None:
        self._paths = paths
        self._sandbox: Sandbox | None = None

    def get(self) -> Sandbox:
        if self._sandbox is None:
            from ctrader_admin.sandbox import Sandbox, SandboxConfig

            db = self._paths.ensure_data_dir() / "sandbox.sqlite3"
            self._sandbox = Sandbox(SandboxConfig(db_path=str(db)))
        return self._sandbox

    def close(self) -> None:
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None


def sandbox_hint() -> str:
    from ctrader_admin.sandbox import TRAINING_MANAGERS

    manager = TRAINING_MANAGERS[0]
    return (
        f"Training sandbox: manager {manager.login}, password “{manager.password}”. "
        "Nothing here touches a real broker."
    )


async def log_in_to_training_sandbox(session: Session) -> None:
    """The sandbox needs no setup: it opens logged in as the training manager. Its token is a
    published training credential, kept in memory only."""
    if session.profile.kind != "sandbox" or session.logged_in:
        return
    from ctrader_admin.sandbox import TRAINING_MANAGERS

    manager = TRAINING_MANAGERS[0]
    try:
        await session.login(manager.login, manager.password, remember=False)
    except ApiError as exc:  # e.g. the trainee changed the sandbox: the dialog stays available
        log.warning("Automatic log-in to the sandbox failed: %s", exc)


def build_backoffice(paths: AppPaths, sandbox: SandboxHost) -> Backoffice:
    database = Database.open(paths)

    def client_for(profile: Profile) -> ApiClient:
        transport = sandbox.get().transport() if profile.kind == "sandbox" else None
        config = ConnectionConfig(
            base_url=profile.base_url,
            ca_bundle=profile.ca_bundle,
            timeout=profile.timeout_seconds,
        )
        return ApiClient(config, transport=transport)

    return Backoffice(
        profiles=ProfileStore(paths),
        tokens=TokenStore(),
        journal=Journal(database),
        directory=Directory(database),
        client_factory=client_for,
        workstation=socket.gethostname(),
        on_open=log_in_to_training_sandbox,
        login_hints={"sandbox": sandbox_hint()},
    )


def configure_logging(paths: AppPaths, level: int = logging.INFO) -> None:
    """A rotating log file; every record is redacted by the record factory first."""
    install_log_redaction()
    handler = logging.handlers.RotatingFileHandler(
        paths.ensure_log_dir() / "ctrader-admin.log",
        maxBytes=2_000_000,
        backupCount=3,
        encoding="utf-8",
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)


def run_gui(profile: str | None = None) -> int:
    import asyncio

    import qasync
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from ctrader_admin import APP_NAME, __version__
    from ctrader_admin.ui.crash import install_excepthook
    from ctrader_admin.ui.main_window import MainWindow

    paths = AppPaths.from_environment()
    configure_logging(paths)
    app = QApplication.instance() or QApplication([APP_NAME])
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    install_excepthook()
    sandbox = SandboxHost(paths)
    backoffice = build_backoffice(paths, sandbox)
    settings = QSettings(str(paths.ensure_config_dir() / "window.ini"), QSettings.Format.IniFormat)
    window = MainWindow(backoffice, settings)
    window.show()
    start = profile or backoffice.settings.last_profile_id or "sandbox"
    with loop:
        loop.create_task(window.open_profile(start))
        loop.run_forever()
    sandbox.close()
    return 0
