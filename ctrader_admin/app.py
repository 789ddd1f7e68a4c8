"""The desktop app's start: the main window first, the back office behind it.

The first window needs Qt and qasync only. What is behind it (the HTTP client, pydantic, SQLite,
the embedded sandbox: a few hundred ms of imports) is imported on a worker thread while the
window is already on screen and answering; the back office is then built on the GUI thread
(``wiring``, the composition root) and handed to the window."""

from __future__ import annotations

import asyncio
import gc
import importlib
import linecache
import logging
import logging.handlers
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from ctrader_admin.log_redaction import install_log_redaction
from ctrader_admin.store.paths import AppPaths

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication
    from qasync import QEventLoop

    from ctrader_admin.services.backoffice import Backoffice
    from ctrader_admin.ui.main_window import MainWindow
    from ctrader_admin.wiring import SandboxHost

    WindowHook = Callable[[MainWindow], None]

log = logging.getLogger(__name__)


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


def _import_on_worker(loop: asyncio.AbstractEventLoop, paths: AppPaths) -> asyncio.Future[None]:
    """Import the back office's modules on a thread of its own; the future is resolved on the
    loop. Importing is mostly Python bytecode, so the GIL is shared every few milliseconds and
    the window keeps painting and answering meanwhile."""
    import threading

    done: asyncio.Future[None] = loop.create_future()

    def resolve(error: BaseException | None) -> None:
        if done.done():
            return
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)

    def work() -> None:
        error: BaseException | None = None
        try:
            wiring = importlib.import_module("ctrader_admin.wiring")
            wiring.import_first_profile_modules(paths)
        except BaseException as exc:  # handed to the loop; the crash dialog shows it
            error = exc
        loop.call_soon_threadsafe(resolve, error)

    threading.Thread(target=work, name="import-back-office", daemon=True).start()
    return done


class Started:
    """One start of the desktop app: the Qt application, its asyncio loop and the shown main
    window at once; the back office (``back_office()``) once its modules are imported."""

    def __init__(
        self, app: QApplication, loop: QEventLoop, window: MainWindow, paths: AppPaths
    ) -> None:
        self.app = app
        self.loop = loop
        self.window = window
        self.paths = paths
        self.sandbox: SandboxHost | None = None
        self.backoffice: Backoffice | None = None
        self._imported = _import_on_worker(loop, paths)

    async def back_office(self) -> Backoffice:
        """The back office, built (on this thread) and handed to the window on first call."""
        if self.backoffice is None:
            await self._imported
            from ctrader_admin.wiring import SandboxHost, build_backoffice

            self.sandbox = SandboxHost(self.paths)
            self.backoffice = build_backoffice(self.paths, self.sandbox)
            self.window.attach(self.backoffice)
        return self.backoffice

    def close(self) -> None:
        if self.sandbox is not None:
            self.sandbox.close()


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
    settings = QSettings(str(paths.ensure_config_dir() / "window.ini"), QSettings.Format.IniFormat)
    window = MainWindow(None, settings)
    window.show()
    return Started(app, loop, window, paths)


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

    async def open_first_profile() -> None:
        office = await started.back_office()
        await window.open_profile(profile or office.settings.last_profile_id or "sandbox")
        settle_start_up_heap()
        if on_ready is not None:
            on_ready(window)

    def report(task: asyncio.Task[None]) -> None:
        error = None if task.cancelled() else task.exception()
        if error is not None:  # the crash dialog: the window stays, with what went wrong
            sys.excepthook(type(error), error, error.__traceback__)

    with started.loop:
        started.loop.create_task(open_first_profile()).add_done_callback(report)
        started.loop.run_forever()
    started.close()
    return 0


def settle_start_up_heap() -> None:
    """Once the first profile is open: drop what start-up alone needed, and keep what lives as
    long as the app out of the garbage collector's full passes (they otherwise stall the UI for
    40–150 ms every few seconds)."""
    # PySide6 reads the source of every module imported after it into linecache (to see whether
    # the module uses PySide6 features): several MB of text nobody reads again.
    linecache.clearcache()
    gc.freeze()


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
