"""Every screen and dialog of the app, rendered from the embedded sandbox: the layout check and
the README's gallery.

    python tools/screens.py check [--out screenshots] [--scales 1,2]
        Renders every screen and dialog in the light and the dark variant at each scale (one
        process per scale: QT_SCALE_FACTOR is read when Qt starts), writes a PNG of each to
        --out, and lists every label, button, tab, header or group box whose text does not
        fit (tools/fit_check.py). Exit code 1 when one does.

    python tools/screens.py gallery [--out docs/screens]
        The README's pictures: the main screens in light and one in dark, downscaled.

It runs the app's own start path (ctrader_admin.app.start_window) on a throw-away
CTRADER_ADMIN_HOME with the null keyring, offscreen unless QT_QPA_PLATFORM says otherwise."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

SIZE = (1280, 800)
LOOKED_UP = "user:1000001"
PLAN_CSV = (
    "level,userId,ctidTraderAccountId,partnerId\n"
    "user,1000001,,IB-2077\n"
    "user,1000002,,IB-2077\n"
    "user,1000004,,\n"
    "user,not-a-number,,IB-1\n"
)
GALLERY = (
    ("lookup", "light"),
    ("lookup", "dark"),
    ("dialog-profiles", "light"),
    ("jobs-plan", "light"),
    ("partners-ledger", "light"),
    ("journal", "light"),
    ("dialog-confirm-live", "light"),
)
GALLERY_WIDTH = 960  # px: readable in a README, small on disk


@dataclass
class Result:
    screens: int = 0
    problems: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)


def _signal_future(signal: Any) -> asyncio.Future[None]:
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def fire(*_args: object) -> None:
        if not done.done():
            done.set_result(None)

    signal.connect(fire)
    return done


async def _referrals_shown(view: Any) -> None:
    """The referrals table reads its first page off the loop: wait for it (20 s at most)."""
    for _ in range(400):
        if view is not None and view.case is not None:
            return
        await asyncio.sleep(0.05)


async def _settle(app: Any, turns: int = 3) -> None:
    """Let Qt lay out and paint (qasync turns Qt's loop while asyncio sleeps)."""
    for _ in range(turns):
        await asyncio.sleep(0.03)


Screen = tuple[str, Callable[[], Awaitable[Any]]]


async def _screens(started: Any, scratch: Path) -> list[Screen]:
    """(name, coroutine making the screen current and returning the widget to render)."""
    window = started.window
    # The back office first: its modules are being imported on a worker thread (app.py), and
    # importing the same ones here meanwhile would race it.
    backoffice = await started.back_office()
    from ctrader_admin.services import partners
    from ctrader_admin.services.writes import UserTarget
    from ctrader_admin.store.profiles import builtin_sandbox_profile
    from ctrader_admin.ui.crash import CrashDialog
    from ctrader_admin.ui.dialogs import ConfirmWriteDialog, LoginDialog
    from ctrader_admin.ui.notify import Level

    await window.open_profile("sandbox")
    session = backoffice.session
    # A few journal entries to show: two writes through the real services.
    for user, value in ((1000001, "IB-2077"), (1000002, "IB-1042")):
        await partners.set_partner(
            session, UserTarget(user), value, reason="partner claim", ticket="SUP-7"
        )
    window.ctx.wrote()
    window.resize(*SIZE)
    lookup = window.tab_pages["LookupTab"]
    searched = _signal_future(lookup.finished)
    lookup.search_for(LOOKED_UP)
    await asyncio.wait_for(searched, 20)

    def tab(index: int) -> Callable[[], Awaitable[Any]]:
        async def show() -> Any:
            slot = window.tabs.widget(index)
            first_time = getattr(slot, "page", None) is None
            window.tabs.setCurrentIndex(index)
            page = getattr(slot, "page", None)
            loaded = getattr(getattr(page, "model", None), "loaded", None)
            if first_time and loaded is not None:  # the Journal reads its first page
                await asyncio.wait_for(_signal_future(loaded), 20)
            return window

        return show

    screens: list[Screen] = [
        (window.tabs.tabText(i).lower().replace(" ", "-"), tab(i))
        for i in range(window.tabs.count())
    ]

    async def jobs_with_plan() -> Any:
        window.tabs.setCurrentIndex(5)
        jobs = window.tab_pages["JobsTab"]
        csv = scratch / "partners.csv"
        csv.write_text(PLAN_CSV, encoding="utf-8")

        async def choose(*_args: object) -> str:
            return str(csv)

        jobs.choose_open_path = choose
        planned = _signal_future(jobs.finished)
        jobs.open_csv_button.click()
        await asyncio.wait_for(planned, 30)
        return window

    screens.append(("jobs-plan", jobs_with_plan))

    async def partners_with_ledger() -> Any:
        # The Partners tab as an agent sees it after pulling every source (issue 11).
        from ctrader_admin.services import attribution

        partners_tab = window.show_tab("PartnersTab")
        ledger = backoffice.ledger
        await attribution.pull_invite(session, ledger)
        preview = attribution.preview_crm(started.sandbox.get().crm_export_csv())
        attribution.import_crm(ledger, session.profile.id, preview)
        known = attribution.known_partners(ledger, session.profile.id)
        await attribution.refresh_registry(session, ledger, known)
        await partners_tab.registry._reload()
        partners_tab.registry.partners.selectRow(0)
        await _referrals_shown(partners_tab.registry.referrals)
        return window

    screens.append(("partners-ledger", partners_with_ledger))

    async def lookup_partner_code() -> Any:
        # After the ledger is filled (the screen before): a partner found by code, with its
        # codes and referrals from the ledger.
        found = _signal_future(lookup.finished)
        window.show_tab("LookupTab")
        lookup.search_for("partner:IB-1042")
        await asyncio.wait_for(found, 20)
        await _referrals_shown(lookup.referrals)
        return window

    screens.append(("lookup-partner-code", lookup_partner_code))
    sandbox = builtin_sandbox_profile()
    live = sandbox.model_copy(update={"name": "Acme live", "live": True})

    def dialog(make: Callable[[], Any]) -> Callable[[], Awaitable[Any]]:
        async def show() -> Any:
            made = make()
            made.show()
            return made

        return show

    async def login_with_error() -> Any:
        # As an operator meets it: the dialog is open, then a failed log-in adds the error.
        made = LoginDialog(window, session, why="Training sandbox: manager 30001.")
        made.show()
        await _settle(started.app)
        made.bar.show_message(
            Level.ERROR, "The server did not accept this login and password. Check both."
        )
        return made

    screens += [
        ("dialog-login", dialog(lambda: LoginDialog(window, session, why="Training sandbox."))),
        ("dialog-login-error", login_with_error),
        (
            "dialog-confirm-write",
            dialog(
                lambda: ConfirmWriteDialog(
                    window,
                    profile=sandbox,
                    title="Set partnerId",
                    changes=[("Target", "user 1000001"), ("partnerId", "IB-1042 → IB-2077")],
                )
            ),
        ),
        (
            "dialog-confirm-live",
            dialog(
                lambda: ConfirmWriteDialog(
                    window,
                    profile=live,
                    title="Delete partnerId",
                    changes=[("Target", "user 1000001 on Acme live"), ("partnerId", "IB-1042 → —")],
                    action_label="Delete partnerId",
                    destructive=True,
                    type_to_confirm="live",
                )
            ),
        ),
        (
            "dialog-crash",
            dialog(lambda: CrashDialog("Traceback (most recent call last):\nRuntimeError: x")),
        ),
    ]
    from ctrader_admin.store.paths import AppPaths
    from ctrader_admin.ui.import_dialog import ImportDialog
    from ctrader_admin.ui.profiles.dialog import ProfilesDialog
    from ctrader_admin.ui.team_dialog import TeamDialog

    def team_dialog() -> Any:
        made = TeamDialog(window, paths=AppPaths.from_environment(), tokens=backoffice.tokens)
        # As after a failed Test connection: the longest line the dialog shows.
        made.status_line.setText(
            "✖ The secure (TLS) connection to the team database server db.example.com:5432 "
            "failed (certificate verify failed). If the server's certificate comes from a "
            "private authority, set its CA bundle in the team settings; the connection is "
            "never made unverified."
        )
        return made

    screens += [
        ("dialog-profiles", dialog(lambda: ProfilesDialog(window, backoffice))),
        ("dialog-import", dialog(lambda: ImportDialog(window, backoffice))),
        ("dialog-team", dialog(team_dialog)),
        ("approvals", dialog(_approvals_view)),
    ]
    screens += _registration_screens(started, window, backoffice)
    return screens


def _approvals_view() -> Any:
    """The Approvals view as Bob sees the team's changes (no team database needed to draw it)."""
    from datetime import UTC, datetime

    from ctrader_admin.services.approvals import ChangeBody, PlanBody
    from ctrader_admin.store.pg.approvals import ApprovalRecord
    from ctrader_admin.ui.approvals_view import ApprovalsView

    at = datetime(2026, 12, 6, 9, 41, tzinfo=UTC)
    planned = PlanBody("0" * 64, "fixes.plan.json", 1250, "partner", "sandbox", "live")
    moved = ChangeBody(
        "account:5200005", "move_wl", "sandbox_main", "sandbox_eu", "sandbox", "live"
    )
    plan = ("plan", "sandbox", "live", planned.summary(), "{}")
    move = ("write", "sandbox", "live", moved.summary(), "{}")
    records = [
        ApprovalRecord(3, *plan, "0" * 64, "CRM export 2026-11", "SUP-4711", "anna", at,
                       None, None, None, None, None, None, None),
        ApprovalRecord(2, *move, "0" * 64, "client asked", "SUP-4702", "bob", at,
                       None, None, None, None, None, None, None),
        ApprovalRecord(1, *move, "0" * 64, "client asked", "SUP-4690", "anna", at,
                       "approved", "checked with the client", "bob", at, "anna", at, 17),
    ]  # fmt: skip
    view = ApprovalsView(None, approvals=None)
    view.resize(*SIZE)
    view.state_combo.blockSignals(True)
    view.state_combo.setCurrentIndex(2)
    view.state_combo.blockSignals(False)
    view.show_records(records, "bob")
    view.table.selectRow(1)  # Bob's own change: the view says why he cannot decide it
    return view


def _registration_screens(started: Any, window: Any, backoffice: Any) -> list[Screen]:
    """Register a partner (a new email; a user found, registered and read back; a code that
    does not read back) and the work order offered for an account linked to another user."""
    from ctrader_admin.services import partner_registration as reg
    from ctrader_admin.services import work_orders
    from ctrader_admin.ui.register_partner_dialog import RegisterPartnerDialog
    from ctrader_admin.ui.work_order_dialog import WorkOrderDialog

    ctx = window.ctx

    async def found(query: str) -> Any:
        made = RegisterPartnerDialog(window, ctx, query=query)
        made.show()
        await made.find_person()
        return made

    codes = iter(range(31, 99))  # rendered once per variant: a new code each time

    async def registered(code: str | None = None, *, lost: bool = False) -> Any:
        code = code or f"AFF-{next(codes)}"
        made = await found("user:1000004")
        login = made.where.itemData(made.where.count() - 1)
        made.where.setCurrentIndex(made.where.count() - 1)
        made.code.setText(code)
        session, ledger = ctx.session, backoffice.ledger
        assert made.person is not None
        plan = await reg.plan(session, ledger, made.person, code=code, account_login=login)
        if lost:
            started.sandbox.get().script_faults("ignored")
        done = await reg.execute(session, ledger, plan, reason="new partner", ticket="CRM-3")
        made.show_result(done)
        return made

    async def work_order() -> Any:
        order = work_orders.work_order(
            ctx.session,
            login=5200001,
            environment="live",
            broker_name="sandbox_main",
            ctid_trader_account_id=9000001,
            from_user_id=1000001,
            to_user_id=1000004,
            reason="Duplicate cTID: the client opened a second one",
            ticket="SUP-31",
        )
        made = WorkOrderDialog(window, work_orders.AlreadyLinked(order))
        made.show()
        return made

    return [
        ("dialog-register-partner-new", lambda: found("new.partner@example.com")),
        ("dialog-register-partner", registered),
        ("dialog-register-partner-lost", lambda: registered("IB-LOST", lost=True)),
        ("dialog-work-order", work_order),
    ]


async def _render(
    started: Any,
    out: Path,
    modes: list[str],
    scale: str,
    scratch: Path,
    only: set[tuple[str, str]] | None,
) -> Result:
    from fit_check import clipped
    from PySide6.QtWidgets import QDialog

    from ctrader_admin.ui import theme

    app = started.app
    result = Result()
    screens = await _screens(started, scratch)
    for mode in modes:
        theme.apply_variant(app, dark=mode == "dark")
        for name, show in screens:
            if only is not None and (name, mode) not in only:
                continue
            widget = await show()
            await _settle(app)
            path = out / f"{name}-{mode}-{scale}x.png"
            if not widget.grab().save(str(path)):
                raise RuntimeError(f"could not write {path}")
            result.written.append(str(path))
            result.screens += 1
            where = f"{name} ({mode}, {scale}×)"
            result.problems += [f"{where}: {problem}" for problem in clipped(widget)]
            if isinstance(widget, QDialog):
                widget.close()
                widget.deleteLater()
    await _settle(app)  # what the screens started (a journal reload) ends before the loop does
    return result


def render_here(out: Path, modes: list[str], only: set[tuple[str, str]] | None = None) -> Result:
    """Every screen in this process (its QT_SCALE_FACTOR); the app's own start path."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    out.mkdir(parents=True, exist_ok=True)
    scale = os.environ.get("QT_SCALE_FACTOR", "1") or "1"
    with tempfile.TemporaryDirectory(prefix="ctrader-admin-screens-") as home:
        os.environ["CTRADER_ADMIN_HOME"] = home
        from ctrader_admin.app import start_window
        from ctrader_admin.store.paths import AppPaths

        started = start_window(AppPaths.from_environment())
        sys.excepthook = sys.__excepthook__  # a failure here is printed, not shown in a dialog
        loop = started.finish_start(qt_running=False, profile="sandbox")
        try:
            with loop:
                result: Result = loop.run_until_complete(
                    _render(started, out, modes, scale, Path(home), only)
                )
                started.window.close()
                if started.backoffice is not None:
                    loop.run_until_complete(started.backoffice.close())
        finally:
            started.close()
            asyncio.set_event_loop(None)
    return result


def check(out: Path, scales: list[str]) -> Result:
    """Each scale in a process of its own; the results added up."""
    total = Result()
    for scale in scales:
        env = {**os.environ, "QT_SCALE_FACTOR": scale}
        done = subprocess.run(
            [sys.executable, __file__, "render", "--out", str(out)],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if done.returncode != 0 or not lines:
            raise RuntimeError(f"rendering at {scale}× failed:\n{done.stderr[-3000:]}")
        part = json.loads(lines[-1])
        total.screens += part["screens"]
        total.problems += part["problems"]
        total.written += part["written"]
    return total


def gallery(out: Path) -> list[Path]:
    """The README's pictures, downscaled to GALLERY_WIDTH and written as optimised PNGs."""
    from PySide6.QtCore import QByteArray, Qt
    from PySide6.QtGui import QImage, QImageWriter

    with tempfile.TemporaryDirectory(prefix="ctrader-admin-gallery-") as raw:
        result = render_here(Path(raw), ["light", "dark"], only=set(GALLERY))
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for source in map(Path, result.written):
            image = QImage(str(source))
            if image.width() > GALLERY_WIDTH:
                image = image.scaledToWidth(
                    GALLERY_WIDTH, Qt.TransformationMode.SmoothTransformation
                )
            target = out / source.name.replace("-1x", "")
            writer = QImageWriter(str(target), QByteArray(b"png"))
            writer.setQuality(0)  # for PNG: the strongest compression
            if not writer.write(image):
                raise RuntimeError(f"could not write {target}: {writer.errorString()}")
            written.append(target)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run_check = sub.add_parser("check", help="render every screen; list clipped text")
    run_check.add_argument("--out", type=Path, default=ROOT / "screenshots")
    run_check.add_argument("--scales", default="1,2")
    render = sub.add_parser("render", help="(one scale, in this process; JSON result)")
    render.add_argument("--out", type=Path, default=ROOT / "screenshots")
    make_gallery = sub.add_parser("gallery", help="the README's pictures")
    make_gallery.add_argument("--out", type=Path, default=ROOT / "docs" / "screens")
    args = parser.parse_args()
    if args.command == "render":
        result = render_here(args.out, ["light", "dark"])
        print(json.dumps(result.__dict__))
        return 0
    if args.command == "gallery":
        for path in gallery(args.out):
            print(f"{path} ({path.stat().st_size // 1024} KB)")
        return 0
    scales = [s.strip() for s in args.scales.split(",") if s.strip()]
    result = check(args.out, scales)
    for problem in result.problems:
        print(f"CLIPPED {problem}")
    print(
        f"{result.screens} screens checked (screens × light/dark × scales {', '.join(scales)}), "
        f"{len(result.problems)} clipped; PNGs in {args.out}"
    )
    return 1 if result.problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
