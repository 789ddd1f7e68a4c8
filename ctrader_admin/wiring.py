"""The composition root: the one place that builds the stores, the client factory (real network
or the embedded sandbox), the services and the window, and wires them together."""

from __future__ import annotations

import asyncio
import gc
import logging
import logging.handlers
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
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
    from PySide6.QtWidgets import QApplication
    from qasync import QEventLoop

    from ctrader_admin.sandbox import Sandbox
    from ctrader_admin.ui.main_window import MainWindow

    WindowHook = Callable[[MainWindow], None]

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


def training_sandbox_opener(sandbox: SandboxHost) -> Callable[[Session], Awaitable[None]]:
    """The sandbox needs no setup: it opens logged in as the training manager (a published
    training credential, kept in memory only), and its local directory starts with the plant's
    CRM export, so the first lookup already shows linked accounts and attribution mismatches."""

    async def prepare(session: Session) -> None:
        if session.profile.kind != "sandbox":
            return
        from ctrader_admin.sandbox import TRAINING_MANAGERS

        directory, pid = session.directory, session.profile.id
        if directory.link_count(pid) == 0:
            preview = directory.preview_csv(sandbox.get().crm_export_csv())
            directory.import_rows(pid, preview.rows_ok)
        if session.logged_in:
            return
        manager = TRAINING_MANAGERS[0]
        try:
            await session.login(manager.login, manager.password, remember=False)
        except ApiError as exc:  # e.g. the trainee changed the sandbox: the dialog stays available
            log.warning("Automatic log-in to the sandbox failed: %s", exc)

    return prepare


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
        on_open=training_sandbox_opener(sandbox),
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
    if level > logging.DEBUG:
        # One INFO line per HTTP request from httpx is noise in an operator's log.
        for noisy in ("httpx", "httpcore"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


@dataclass
class Started:
    """What one start of the desktop app built: the Qt application and its asyncio loop, the
    sandbox host, the back office and the shown main window."""

    app: QApplication
    loop: QEventLoop  # qasync's: asyncio on Qt's event loop
    sandbox: SandboxHost
    backoffice: Backoffice
    window: MainWindow


def start_window(paths: AppPaths, *, strict_branding: bool = False) -> Started:
    """Build and show the main window; the one start path of the app and of its smoke test."""
    import qasync
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from ctrader_admin import APP_NAME, __version__
    from ctrader_admin.ui.crash import install_excepthook
    from ctrader_admin.ui.main_window import MainWindow

    configure_logging(paths)
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication([APP_NAME])
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    brand_application(strict=strict_branding)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    install_excepthook()
    sandbox = SandboxHost(paths)
    backoffice = build_backoffice(paths, sandbox)
    settings = QSettings(str(paths.ensure_config_dir() / "window.ini"), QSettings.Format.IniFormat)
    window = MainWindow(backoffice, settings)
    window.show()
    return Started(app, loop, sandbox, backoffice, window)


def run_gui(
    profile: str | None = None,
    *,
    on_shown: WindowHook | None = None,
    on_ready: WindowHook | None = None,
) -> int:
    """The desktop app. ``on_shown`` runs at the first event-loop turn after the window is shown
    (it is interactive from then on), ``on_ready`` once the first profile is open; both exist for
    benchmarks/startup.py, which measures this very start path."""
    from PySide6.QtCore import QTimer

    started = start_window(AppPaths.from_environment())
    window = started.window
    if on_shown is not None:
        QTimer.singleShot(0, lambda: on_shown(window))
    first = profile or started.backoffice.settings.last_profile_id or "sandbox"

    async def open_first_profile() -> None:
        await window.open_profile(first)
        # Everything built at start-up lives as long as the app: keep it out of the garbage
        # collector's full passes, which otherwise stall the UI for 40–150 ms every few seconds.
        gc.freeze()
        if on_ready is not None:
            on_ready(window)

    with started.loop:
        started.loop.create_task(open_first_profile())
        started.loop.run_forever()
    started.sandbox.close()
    return 0


def brand_application(strict: bool = False) -> None:
    """Window icon, desktop-file name and style sheet, all from ``resources/``. A missing
    resource is logged and the app runs on (unbranded) — except in the smoke test, which
    exists to catch exactly that in a built artefact."""
    from PySide6.QtCore import QSize
    from PySide6.QtGui import QGuiApplication, QIcon
    from PySide6.QtWidgets import QApplication

    from ctrader_admin import APP_NAME, resources

    # Lets Wayland/X11 docks match the window with ctrader-admin.desktop and its icon.
    QGuiApplication.setDesktopFileName(APP_NAME)
    try:
        icon = QIcon()
        for size, path in resources.icon_files().items():
            icon.addFile(str(path), QSize(size, size))
        QApplication.setWindowIcon(icon)
        style = resources.style_sheet()
    except resources.ResourceMissingError as exc:
        if strict:
            raise
        log.warning("Running without the application icon and style sheet: %s", exc)
        return
    app = QApplication.instance()
    if isinstance(app, QApplication):
        app.setStyleSheet(style)
