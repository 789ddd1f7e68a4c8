"""``ctrader-admin --smoke-test``: the check run on every built artefact (packaging/README.md).

It starts the app the way a user does (``app.start_window``), looks up a user on the embedded
sandbox through the real services, prints one line and exits.
"""

from __future__ import annotations

import asyncio
import logging

from ctrader_admin.app import start_window
from ctrader_admin.store.paths import AppPaths

log = logging.getLogger(__name__)

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


def check_team_driver() -> str:
    """Team mode's driver works from this install: psycopg with the libpq of its binary wheel
    (not a system libpq: the pinned ``psycopg[binary]`` brings its own, with OpenSSL), and a
    real connection attempt through the app's own path — verified TLS, to a loopback port that
    nothing listens on — ends in the app's "cannot be reached" sentence, not an ImportError or
    libpq's "SSL support is not compiled in"."""
    import socket

    import psycopg

    from ctrader_admin.store.database import DatabaseUnreachable
    from ctrader_admin.store.pg.database import PgDatabase
    from ctrader_admin.store.pg.settings import TeamSettings

    if psycopg.pq.__impl__ != "binary":
        raise SmokeTestError(f"psycopg uses its {psycopg.pq.__impl__} libpq, not the bundled one")
    with socket.socket() as closed:  # bound, never listening: a refused connection
        closed.bind(("127.0.0.1", 0))
        port = int(closed.getsockname()[1])
        settings = TeamSettings(host="127.0.0.1", port=port, database="smoke", user="smoke")
        try:
            PgDatabase(settings, None).close()
        except DatabaseUnreachable:
            pass
        else:
            raise SmokeTestError(f"a team database answered on closed port {port}")
    libpq = psycopg.pq.version()
    return f"psycopg {psycopg.__version__} (libpq {libpq // 10000}.{libpq % 10000}) bundled"


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
    import time

    import keyring
    from keyring.backends import null

    from ctrader_admin.services.lookup import Case, lookup

    keyring_detail = check_keyring_bundle()
    keyring.set_keyring(null.Keyring())  # type: ignore[no-untyped-call]
    started = start_window(AppPaths.from_environment(), strict_branding=True)
    app, window = started.app, started.window
    app.processEvents()
    shown_ms = (time.time() - launched) * 1000
    if not window.isVisible():
        raise SmokeTestError("the main window is not visible after show()")

    async def look_up() -> Case:
        backoffice = await started.back_office()
        await window.open_profile("sandbox")
        session = backoffice.session
        if session is None or not session.logged_in:
            raise SmokeTestError("could not open the sandbox profile logged in")
        result = await lookup(session, str(SMOKE_USER_ID))
        if not isinstance(result, Case) or result.user_id != SMOKE_USER_ID:
            raise SmokeTestError(f"lookup of user {SMOKE_USER_ID} gave {result!r}")
        return result

    try:
        loop = started.finish_start(qt_running=False, profile="sandbox")
        if app.windowIcon().isNull():
            raise SmokeTestError("the application icon did not load")
        with loop:
            case = loop.run_until_complete(look_up())
            window.close()
            if started.backoffice is not None:
                loop.run_until_complete(started.backoffice.shutdown())
    finally:
        started.close()
        asyncio.set_event_loop(None)
    # After the start is measured: the local path never imports the driver (docs/team-mode.md).
    team_detail = check_team_driver()
    partner = case.partner_id or case.partner_error or "none"
    return (
        f"window shown in {shown_ms:.0f} ms, sandbox lookup user {SMOKE_USER_ID} → "
        f"partnerId {partner}, {len(case.accounts)} account(s) known, {keyring_detail}, "
        f"{team_detail}"
    )
