"""The desktop app's start: the main window first, the back office behind it.

The first window needs Qt only; asyncio (qasync, on Qt's loop) comes once it has painted its
first frame (Qt's first loop turn comes before that: work there keeps the window off screen).
What is behind it (the HTTP client, pydantic, SQLite, the embedded sandbox: a few hundred ms of
imports) is then imported on a worker thread while the window is on screen and answering; the
back office is built on a worker thread too (``wiring``, the composition root: it may wait for
the team database's server) and handed to the window on the GUI thread."""

from __future__ import annotations

import contextlib
import importlib
import logging
import sys
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

from ctrader_admin.logs import choose_level, configure_logging, hold_early_records
from ctrader_admin.runtime import (
    after_first_paint,
    detach_running_loop,
    forget_module_sources,
    pause_collector_for_start,
    resume_collector,
    settle_start_up_heap,
)
from ctrader_admin.store.paths import AppPaths

if TYPE_CHECKING:
    import asyncio

    from PySide6.QtWidgets import QApplication
    from qasync import QEventLoop

    from ctrader_admin.services.backoffice import Backoffice
    from ctrader_admin.ui.main_window import MainWindow
    from ctrader_admin.wiring import SandboxHost

    WindowHook = Callable[[MainWindow], None]

log = logging.getLogger(__name__)
_T = TypeVar("_T")


# What the composition root (wiring) imports, in batches, each after what it builds on. Between
# batches the module sources PySide6 has read are dropped (runtime.forget_module_sources): the
# next batch reuses that memory (benchmarks/startup.py). httpx comes with ctrader_admin.api,
# which keeps httpx's command line (rich, click, pygments: ~12 MB) out.
# How long the start waits for the team database before the window says it is connecting.
SAY_CONNECTING_AFTER_S = 0.4

_BACK_OFFICE_BATCHES = (
    "pydantic",
    "ctrader_admin.api",
    "ctrader_admin.store.database",
    "ctrader_admin.services.backoffice",
)


def _import_on_worker(
    loop: asyncio.AbstractEventLoop, paths: AppPaths, profile: str | None
) -> asyncio.Future[None]:
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
            for batch in _BACK_OFFICE_BATCHES:
                importlib.import_module(batch)
                forget_module_sources()
            wiring = importlib.import_module("ctrader_admin.wiring")
            forget_module_sources()
            wiring.import_first_profile_modules(paths, profile)
            forget_module_sources()
        except BaseException as exc:  # handed to the loop; the crash dialog shows it
            error = exc
        loop.call_soon_threadsafe(resolve, error)

    threading.Thread(target=work, name="import-back-office", daemon=True).start()
    return done


class Started:
    """One start of the desktop app: the Qt application and its shown main window at once;
    asyncio on Qt's loop once ``finish_start`` is called; the back office (``back_office()``)
    once its modules are imported."""

    def __init__(
        self,
        app: QApplication,
        window: MainWindow,
        paths: AppPaths,
        *,
        style_sheet: str | None,
        strict_branding: bool,
    ) -> None:
        self.app = app
        self.window = window
        self.paths = paths
        self.style_sheet = style_sheet  # the template, applied by finish_start
        self.strict_branding = strict_branding
        self.loop: QEventLoop | None = None  # qasync's: asyncio on Qt's event loop
        self.sandbox: SandboxHost | None = None
        self.backoffice: Backoffice | None = None
        self._imported: asyncio.Future[None] | None = None

    def finish_start(
        self, *, qt_running: bool, profile: str | None, log_level: int = logging.INFO
    ) -> QEventLoop:
        """What the first window did without, once it is on screen: the style sheet, the
        window icon, the log file, asyncio on Qt's event loop, and the back office's modules
        importing behind the window (for ``profile``, the one to open first; None: the last
        used). ``qt_running``: Qt's loop already turns (the app); otherwise the caller runs it
        through the returned loop (the smoke test)."""
        import asyncio

        import qasync

        from ctrader_admin.ui import theme

        if self.style_sheet is not None:
            theme.apply_style_sheet(self.app, self.style_sheet)
        resume_collector()
        configure_logging(self.paths, log_level)
        set_application_icon(strict=self.strict_branding)
        self.loop = qasync.QEventLoop(self.app, already_running=qt_running)
        asyncio.set_event_loop(self.loop)
        self._imported = _import_on_worker(self.loop, self.paths, profile)
        return self.loop

    async def back_office(self) -> Backoffice:
        """The back office, built on a worker thread and handed to the window on first call.
        Building it connects to the team database, when there is one: a server that drops
        packets is waited for up to its connect timeout, while the window keeps painting and
        answering and says what it is waiting for."""
        if self.backoffice is None:
            if self._imported is None:
                raise RuntimeError("finish_start() first")
            await self._imported
            import asyncio

            from ctrader_admin.wiring import SandboxHost, build_backoffice, team_connecting_text

            self.sandbox = SandboxHost(self.paths)
            connecting = team_connecting_text(self.paths)
            # Said only when the server is slow to answer: a line that came and went at every
            # start would move the tabs down and back.
            say_connecting = (
                None
                if connecting is None
                else asyncio.get_running_loop().call_later(
                    SAY_CONNECTING_AFTER_S, self.window.team_status.show_connecting, connecting
                )
            )
            try:
                office = await asyncio.to_thread(build_backoffice, self.paths, self.sandbox)
            except BaseException:
                self.window.team_status.show_link(None)  # the failure is told in its place
                raise
            finally:
                if say_connecting is not None:
                    say_connecting.cancel()
            self.backoffice = office
            self.window.attach(office)  # its line then says whether the team database answers
        return self.backoffice

    def close(self) -> None:
        """After Qt's loop has ended: the asyncio loop (joining its worker threads, which Qt
        would otherwise abort on at exit), the back office's stores and the embedded sandbox."""
        loop = self.loop
        if loop is not None and not loop.is_closed():
            detach_running_loop(loop)
        if self.backoffice is not None:
            self.backoffice.close_stores()  # its journal session and the process's database
        if self.sandbox is not None:
            self.sandbox.close()


def start_window(paths: AppPaths, *, strict_branding: bool = False) -> Started:
    """Build and show the main window; the one start path of the app and of its smoke test.
    Neither asyncio nor the back office is imported yet: the window comes first. The collector
    makes no pass until ``finish_start`` (the first loop turn after the first frame)."""
    pause_collector_for_start()
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from ctrader_admin import APP_NAME, __version__
    from ctrader_admin.ui import theme
    from ctrader_admin.ui.main_window import MainWindow

    hold_early_records()
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        app, style_set = existing, False
    else:
        # The style by Qt's own -style argument: app.setStyle() would hand PySide6 a QStyle,
        # whose enums it builds on first sight (~4 ms before the first frame).
        app, style_set = QApplication([APP_NAME, "-style", theme.STYLE]), True
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    style_sheet = brand_application(strict=strict_branding, style_set=style_set)
    sys.excepthook = _report_uncaught
    settings = QSettings(str(paths.ensure_config_dir() / "window.ini"), QSettings.Format.IniFormat)
    window = MainWindow(None, settings)
    window.show()
    # The style sheet comes at the first loop turn (finish_start), not before the first frame:
    # nothing in the first frame matches one of its rules, so that frame is the same with it
    # (tests/ui/test_start.py compares them) and comes ~6 ms sooner (benchmarks/startup.py).
    return Started(app, window, paths, style_sheet=style_sheet, strict_branding=strict_branding)


def run_gui(
    profile: str | None = None,
    *,
    log_level: str | None = None,
    on_shown: WindowHook | None = None,
    on_ready: WindowHook | None = None,
) -> int:
    """The desktop app. ``on_shown`` runs as soon as the window is shown (before Qt's loop runs
    and paints it), ``on_ready`` once the first profile is open; both exist for
    benchmarks/startup.py, which measures this very start path. ``log_level``: --log-level,
    else CTRADER_ADMIN_LOG_LEVEL, else info."""
    from ctrader_admin.ui.slots import report_failure

    level, level_problem = choose_level(log_level)
    if level_problem:
        print(f"ctrader-admin: {level_problem}", file=sys.stderr, flush=True)
    started = start_window(AppPaths.from_environment())
    window = started.window

    async def open_first_profile() -> None:
        office = await started.back_office()
        await open_start_profile(window, office, profile)
        settle_start_up_heap()
        if on_ready is not None:
            on_ready(window)

    with contextlib.ExitStack() as until_the_loop_ends:

        def first_turn() -> None:
            # The window is on screen and answering: now Ctrl+C, asyncio and, behind it, the
            # back office.
            until_the_loop_ends.enter_context(closing_on_terminal_signals(window))
            loop = started.finish_start(qt_running=True, profile=profile, log_level=level)
            if level_problem:
                log.warning("%s", level_problem)
            # A failure opens the crash dialog; the window stays, with what went wrong.
            loop.create_task(open_first_profile()).add_done_callback(report_failure)

        after_first_paint(window, first_turn)
        if on_shown is not None:  # its event filters run before ours (Qt calls the last first)
            on_shown(window)
        started.app.exec()
    started.close()
    return 0


async def open_start_profile(window: MainWindow, office: Backoffice, wanted: str | None) -> None:
    """The profile the app starts on: ``--profile`` (an id or a name) for this start only — the
    saved default stays — else the last one used. An unknown ``--profile`` opens the last one
    used and the status bar says why."""
    from ctrader_admin.store.profiles import SANDBOX_PROFILE_ID, ProfileError

    settings = office.profiles.settings
    default = settings.last_profile_id or SANDBOX_PROFILE_ID
    if not wanted:
        await window.open_profile(default)
        return
    try:
        chosen = settings.find(wanted)
    except ProfileError as exc:
        await window.open_profile(default)
        window.statusBar().showMessage(f"{exc} Opened the last one used instead.")
        return
    await window.open_profile(chosen.id, remember=False)


@contextlib.contextmanager
def closing_on_terminal_signals(window: MainWindow) -> Iterator[None]:
    """While inside: Ctrl+C (SIGINT) or SIGTERM close the window as File → Quit does (its
    geometry and last profile are saved). Qt's loop runs no Python while it is idle, so the
    signal wakes it through a socket that Python's C-level handler writes to; Python runs the
    handler in the slot that drains it. On the way out the previous handlers come back."""
    import signal
    import socket

    from PySide6.QtCore import QSocketNotifier

    def close(_signal: int, _frame: object) -> None:
        window.close()

    def drain() -> None:
        with contextlib.suppress(OSError):
            reader.recv(64)

    reader, writer = socket.socketpair()
    with reader, writer:
        reader.setblocking(False)
        writer.setblocking(False)
        notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read, window)
        notifier.activated.connect(drain)
        previous_fd = signal.set_wakeup_fd(writer.fileno())
        previous = {sig: signal.signal(sig, close) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            signal.set_wakeup_fd(previous_fd)
            notifier.setEnabled(False)


def _report_uncaught(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> None:
    """``sys.excepthook`` from the start: the crash dialog's module is imported by the first
    crash, not with the first window."""
    from ctrader_admin.ui.crash import report_uncaught

    report_uncaught(exc_type, exc, tb)


def brand_application(strict: bool = False, *, style_set: bool = False) -> str | None:
    """Desktop-file name, and the theme's style (unless the application was made with it,
    ``style_set``) and palette (light or dark, as the desktop is); returns the style sheet's
    template from ``resources/``, which ``Started.finish_start`` applies after the first frame. A
    missing resource is logged and the app runs on (unstyled) — except in the smoke test
    (``strict``), which exists to catch exactly that in a built artefact."""
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from ctrader_admin import APP_NAME, resources
    from ctrader_admin.ui import theme

    # Lets Wayland/X11 docks match the window with ctrader-admin.desktop and its icon.
    QGuiApplication.setDesktopFileName(APP_NAME)
    app = QApplication.instance()
    template = _branding(resources.style_sheet, "the style sheet", strict=strict)
    if isinstance(app, QApplication):
        theme.use_theme(app, template, style_set=style_set)
    return template


def set_application_icon(strict: bool = False) -> None:
    """The window icon from ``resources/``: at the first loop turn, not before the first frame
    (decoding its PNGs is ~4 ms of start-up, benchmarks/startup.py; the dock already knows the
    app by its desktop-file name meanwhile). Missing: logged, or raised when ``strict``."""
    from PySide6.QtCore import QSize
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from ctrader_admin import resources

    files = _branding(resources.icon_files, "the application icon", strict=strict)
    if files is None:
        return
    icon = QIcon()
    for size, path in files.items():
        icon.addFile(str(path), QSize(size, size))
    QApplication.setWindowIcon(icon)


def _branding(read: Callable[[], _T], what: str, *, strict: bool) -> _T | None:
    """``read()`` of a resource; missing, it is logged and the app runs on without it (None),
    except when ``strict`` (the smoke test), which raises."""
    from ctrader_admin import resources

    try:
        return read()
    except resources.ResourceMissingError as exc:
        if strict:
            raise
        log.warning("Running without %s: %s", what, exc)
        return None
