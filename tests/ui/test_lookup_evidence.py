"""The evidence pack from a case in Lookup (issue 11): the same files as from the Partners tab,
for the client or the partner the case shows — the PDF read back, and no secret in any file."""

from __future__ import annotations

from pathlib import Path

import pytest
from pdf_reading import manager_secrets, pdf_text
from pytestqt.qtbot import QtBot
from test_lookup_tab import make_tab, search
from test_partner_registry import fill
from test_partner_registry import make_tab as make_partners_tab
from ui_helpers import MANAGER, run_async

from ctrader_admin.sandbox import Sandbox
from ctrader_admin.services import partners
from ctrader_admin.services.writes import UserTarget
from ctrader_admin.ui.context import UiContext
from ctrader_admin.ui.lookup_tab import LookupTab
from ctrader_admin.ui.notify import Level

EMILY, DANIEL = 1000001, 1000004  # the sandbox's starting partner and client cases


def export_from(qtbot: QtBot, tab: LookupTab, query: str, says: str) -> None:
    search(qtbot, tab, query)
    qtbot.waitUntil(lambda: tab.case is not None and tab.evidence_button.isEnabled())
    tab.evidence_button.click()
    qtbot.waitUntil(lambda: says in tab.bar.text(), timeout=20_000)
    assert tab.bar.level is Level.SUCCESS, tab.bar.text()


def test_evidence_packs_of_a_client_and_of_a_partner_from_their_lookup_cases(
    qtbot: QtBot, ctx: UiContext, sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ctrader_admin.ui.evidence_export as module

    fill(qtbot, make_partners_tab(qtbot, ctx), sandbox, tmp_path)
    session = ctx.backoffice.session
    assert session is not None
    run_async(
        qtbot,
        partners.set_partner(
            session, UserTarget(EMILY), "IB-7777", reason="partner dispute 42", ticket="SUP-4242"
        ),
    )
    targets = iter([tmp_path / "daniel.pdf", tmp_path / "emily.pdf"])

    async def save_to(*_args: object) -> str:
        return str(next(targets))

    monkeypatch.setattr(module, "choose_save_path", save_to)
    tab = make_tab(qtbot, ctx)
    tab.resize(1100, 900)

    export_from(qtbot, tab, f"user:{DANIEL}", "Evidence pack of client user")
    client = pdf_text(tmp_path / "daniel.pdf")
    assert f"Evidence: Client user {DANIEL}" in client
    assert "cTrader Invite says: IB-1042" in client
    assert "CRM export says: IB-1042" in client
    assert (tmp_path / "daniel.rows.csv").read_text(encoding="utf-8").startswith("source,")

    export_from(qtbot, tab, f"user:{EMILY}", "Evidence pack of partner user")
    partner = pdf_text(tmp_path / "emily.pdf")
    assert f"Evidence: Partner user {EMILY}" in partner
    assert "IB-7777" in partner  # the code set just now, and the journal entry that set it
    assert "partner dispute 42" in partner
    assert "SUP-4242" in (tmp_path / "emily.journal.csv").read_text(encoding="utf-8")

    for path in tmp_path.glob("*.*"):
        if path.stem.split(".")[0] not in {"daniel", "emily"}:
            continue
        data = path.read_bytes() + (pdf_text(path).encode() if path.suffix == ".pdf" else b"")
        for secret in manager_secrets(MANAGER):
            assert secret.encode() not in data, (path.name, "holds a secret")
