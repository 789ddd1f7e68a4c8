"""The composition root: the one place that builds the stores, the client factory (real network
or the embedded sandbox), the services and the window, and wires them together."""

from __future__ import annotations

import gc
import logging
import logging.handlers
import socket
from collections.abc import Awaitable, Callable
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


def run_gui(
    profile: str | None = None,
    *,
    on_shown: WindowHook | None = None,
    on_ready: WindowHook | None = None,
) -> int:
    """The desktop app. ``on_shown`` runs at the first event-loop turn after the window is shown
    (it is interactive from then on), ``on_ready`` once the first profile is open; both exist for
    benchmarks/startup.py, which measures this very start path."""
    import asyncio

    import qasync
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from ctrader_admin import APP_NAME, __version__
    from ctrader_admin.ui.crash import install_excepthook
    from ctrader_admin.ui.main_window import MainWindow

    paths = AppPaths.from_environment()
    configure_logging(paths)
    app = QApplication.instance() or QApplication([APP_NAME])
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    brand_application()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    install_excepthook()
    sandbox = SandboxHost(paths)
    backoffice = build_backoffice(paths, sandbox)
    settings = QSettings(str(paths.ensure_config_dir() / "window.ini"), QSettings.Format.IniFormat)
    window = MainWindow(backoffice, settings)
    window.show()
    if on_shown is not None:
        QTimer.singleShot(0, lambda: on_shown(window))
    start = profile or backoffice.settings.last_profile_id or "sandbox"

    async def open_first_profile() -> None:
        await window.open_profile(start)
        # Everything built at start-up lives as long as the app: keep it out of the garbage
        # collector's full passes, which otherwise stall the UI for 40–150 ms every few seconds.
        gc.freeze()
        if on_ready is not None:
            on_ready(window)

    with loop:
        loop.create_task(open_first_profile())
        loop.run_forever()
    sandbox.close()
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


SMOKE_USER_ID = 1000001
SMOKE_TIMEOUT_ENV = "CTRADER_ADMIN_SMOKE_TIMEOUT"
# Epoch seconds taken by a launcher just before it started the process (packaging/measure.sh),
# so that "window shown in" covers the frozen bootloader and the interpreter start too.
SMOKE_T0_ENV = "CTRADER_ADMIN_SMOKE_T0"
# The keyring backend of each platform, and what it imports lazily, so a build that lost them
# (keyring finds backends through entry-point metadata) fails the smoke test, not a user's login.
KEYRING_BACKENDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "linux": ("SecretService", ("secretstorage", "jeepney")),
    "win32": ("Windows", ("win32ctypes.pywin32.win32cred",)),
    "darwin": ("macOS", ("keyring.backends.macOS.api",)),
}


class SmokeTestError(Exception):
    pass


def _launch_epoch() -> float:
    """When this process started, as epoch seconds: the launcher's stamp if one was given, else
    the kernel's start time of the process (Linux: clock ticks since boot, compared with the
    boot clock, not with /proc/stat's whole-second btime), else now."""
    import os
    import time

    stamp = os.environ.get(SMOKE_T0_ENV, "").strip()
    if stamp:
        return float(stamp)
    try:
        with open("/proc/self/stat", encoding="ascii") as stat_file:
            ticks = int(stat_file.read().rsplit(")", 1)[1].split()[19])
        running = time.clock_gettime(time.CLOCK_BOOTTIME) - ticks / os.sysconf("SC_CLK_TCK")
        return time.time() - running
    except (OSError, ValueError, IndexError, AttributeError):
        return time.time()


def check_keyring_bundle() -> str:
    """The platform's keyring backend is registered and importable; returns its name."""
    import importlib
    import sys
    from importlib.metadata import entry_points

    points = {point.name: point for point in entry_points(group="keyring.backends")}
    if not points:
        raise SmokeTestError("no keyring backend entry points (keyring's metadata is missing)")
    wanted = KEYRING_BACKENDS.get(sys.platform)
    if wanted is None:
        return f"{len(points)} keyring backends registered"
    name, modules = wanted
    if name not in points:
        raise SmokeTestError(f"keyring backend {name} is not registered")
    try:
        points[name].load()
        for module in modules:
            importlib.import_module(module)
    except ImportError as exc:
        raise SmokeTestError(f"keyring backend {name} cannot load: {exc}") from exc
    return f"keyring backend {name} bundled"


def run_smoke_test() -> int:
    """``ctrader-admin --smoke-test``: build the real window on the embedded sandbox, look up
    user 1000001 through the real services, print one line, exit 0 (1 on failure, 3 on the
    hard timeout). Used on every built artefact and from source (tests/packaging).

    Works offscreen (QT_QPA_PLATFORM=offscreen). Never touches the user's settings or keyring:
    everything goes to a temporary CTRADER_ADMIN_HOME unless one is set, and the session uses
    the null keyring (the platform backend is only checked to be bundled, never called).
    """
    import faulthandler
    import os
    import sys
    import tempfile
    import threading
    import time

    from ctrader_admin import APP_NAME, __version__

    timeout = float(os.environ.get(SMOKE_TIMEOUT_ENV, "") or 60)
    kind = "frozen" if getattr(sys, "frozen", False) else "source"

    # A windowed executable (Windows, macOS .app) may have no stderr: the exit code still speaks.
    stderr = sys.stderr

    def give_up() -> None:
        if stderr is not None:
            stderr.write(
                f"smoke-test FAILED: {APP_NAME} {__version__} ({kind}): no result "
                f"within {timeout:g} s (set {SMOKE_TIMEOUT_ENV} to wait longer)\n"
            )
            stderr.flush()
        os._exit(3)

    watchdog = threading.Timer(timeout, give_up)
    watchdog.daemon = True
    watchdog.start()
    if stderr is not None:
        # Last resort if the main thread never releases the GIL: C-level, dumps where it hangs.
        faulthandler.dump_traceback_later(timeout + 10, exit=True)
    scratch: tempfile.TemporaryDirectory[str] | None = None
    if not os.environ.get("CTRADER_ADMIN_HOME", "").strip():
        scratch = tempfile.TemporaryDirectory(
            prefix="ctrader-admin-smoke-", ignore_cleanup_errors=True
        )
        os.environ["CTRADER_ADMIN_HOME"] = scratch.name
    try:
        started = time.perf_counter()
        detail = _smoke_run(_launch_epoch())
        total = time.perf_counter() - started
        print(f"smoke-test ok: {APP_NAME} {__version__} ({kind}), {detail}, {total:.1f} s")
        return 0
    except Exception as exc:
        print(
            f"smoke-test FAILED: {APP_NAME} {__version__} ({kind}): {type(exc).__name__}: {exc}",
            file=sys.stderr,
        )
        log.exception("Smoke test failed")
        return 1
    finally:
        watchdog.cancel()
        faulthandler.cancel_dump_traceback_later()
        logging.shutdown()
        if scratch is not None:
            del os.environ["CTRADER_ADMIN_HOME"]
            scratch.cleanup()


def _smoke_run(launched: float) -> str:
    import asyncio
    import time

    import keyring
    import qasync
    from keyring.backends import null
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from ctrader_admin import APP_NAME, __version__
    from ctrader_admin.services.lookup import Case, lookup
    from ctrader_admin.ui.main_window import MainWindow

    keyring_detail = check_keyring_bundle()
    keyring.set_keyring(null.Keyring())  # type: ignore[no-untyped-call]
    paths = AppPaths.from_environment()
    configure_logging(paths)
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication([APP_NAME])
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    brand_application(strict=True)
    if app.windowIcon().isNull():
        raise SmokeTestError("the application icon did not load")
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    sandbox = SandboxHost(paths)
    backoffice = build_backoffice(paths, sandbox)
    settings = QSettings(str(paths.ensure_config_dir() / "window.ini"), QSettings.Format.IniFormat)
    window = MainWindow(backoffice, settings)
    window.show()
    app.processEvents()
    shown_ms = (time.time() - launched) * 1000
    if not window.isVisible():
        raise SmokeTestError("the main window is not visible after show()")

    async def look_up() -> Case:
        await window.open_profile("sandbox")
        session = backoffice.session
        if session is None or not session.logged_in:
            raise SmokeTestError("could not open the sandbox profile logged in")
        result = await lookup(session, str(SMOKE_USER_ID))
        if not isinstance(result, Case) or result.user_id != SMOKE_USER_ID:
            raise SmokeTestError(f"lookup of user {SMOKE_USER_ID} gave {result!r}")
        return result

    try:
        with loop:
            case = loop.run_until_complete(look_up())
            window.close()
            loop.run_until_complete(backoffice.close())
    finally:
        sandbox.close()
        asyncio.set_event_loop(None)
    partner = case.partner_id or case.partner_error or "none"
    return (
        f"window shown in {shown_ms:.0f} ms, sandbox lookup user {SMOKE_USER_ID} → "
        f"partnerId {partner}, {len(case.accounts)} account(s) known, {keyring_detail}"
    )
