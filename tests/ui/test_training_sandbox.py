"""First start on the training sandbox: logged in, and the first lookup shows a real case."""

from __future__ import annotations

import asyncio

from pytestqt.qtbot import QtBot
from ui_helpers import run_async

from ctrader_admin.services.lookup import Case, lookup
from ctrader_admin.store.paths import AppPaths
from ctrader_admin.wiring import SandboxHost, build_backoffice


def test_the_sandbox_opens_logged_in_with_its_crm_export_imported(
    qtbot: QtBot, event_loop: asyncio.AbstractEventLoop
) -> None:
    paths = AppPaths.from_environment()
    host = SandboxHost(paths)
    backoffice = build_backoffice(paths, host)
    try:
        session = run_async(qtbot, backoffice.open("sandbox"))
        assert session.logged_in
        assert backoffice.directory.link_count("sandbox") > 0
        case = run_async(qtbot, lookup(session, "emily.carter@example.com"))
        assert isinstance(case, Case)
        assert case.user_id == 1000001
        live = next(a for a in case.accounts if a.login == 5200001)
        assert live.partner_id == "IB-2077"
        assert live.flags == ("differs from the user level (IB-1042)",)
        # A second start finds the directory filled and does not import again.
        count = backoffice.directory.link_count("sandbox")
        run_async(qtbot, backoffice.open("sandbox"))
        assert backoffice.directory.link_count("sandbox") == count
    finally:
        run_async(qtbot, backoffice.close())
        host.close()
