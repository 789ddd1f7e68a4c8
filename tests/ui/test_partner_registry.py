"""The Partners tab's browser against the in-process sandbox: pull cTrader Invite, import the
CRM export, read the partners' codes, then browse partners, their referrals and the conflicts."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from ctrader_admin.sandbox import Sandbox
from ctrader_admin.ui.context import UiContext
from ctrader_admin.ui.notify import Level
from ctrader_admin.ui.partners_tab import PartnersTab

EMILY, DANIEL = 1000001, 1000004  # the sandbox's partner and client starting cases


def make_tab(qtbot: QtBot, ctx: UiContext) -> PartnersTab:
    tab = PartnersTab(ctx)
    qtbot.addWidget(tab)
    tab.resize(1100, 900)
    tab.show()
    return tab


def run(qtbot: QtBot, tab: PartnersTab, button: object, says: str) -> None:
    """Click, and wait for the message that ends the action."""
    button.click()  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: tab.bar.isVisible() and says in tab.bar.text(), timeout=20_000)


def fill(qtbot: QtBot, tab: PartnersTab, sandbox: Sandbox, tmp_path: Path) -> None:
    # As the training profile starts: the plant's export in the local directory (the links
    # whose account-level codes the registry reads).
    directory = tab.ctx.backoffice.directory
    directory.import_rows("sandbox", directory.preview_csv(sandbox.crm_export_csv()).rows_ok)
    view = tab.registry
    run(qtbot, tab, view.pull_button, "new rows")
    assert tab.bar.level is Level.SUCCESS, tab.bar.text()
    export = tmp_path / "crm.csv"
    export.write_text(sandbox.crm_export_csv(), encoding="utf-8")

    async def chosen(*_args: object) -> str:
        return str(export)

    import ctrader_admin.ui.partner_registry as module

    original = module.choose_open_path
    module.choose_open_path = chosen  # type: ignore[assignment]
    try:
        view.import_button.click()
        qtbot.waitUntil(lambda: "Imported" in tab.bar.text(), timeout=20_000)
    finally:
        module.choose_open_path = original  # type: ignore[assignment]
    run(qtbot, tab, view.refresh_button, "not readable by this manager")


def test_browse_partners_referrals_and_conflicts(
    qtbot: QtBot, ctx: UiContext, sandbox: Sandbox, tmp_path: Path
) -> None:
    tab = make_tab(qtbot, ctx)
    view = tab.registry
    fill(qtbot, tab, sandbox, tmp_path)
    qtbot.waitUntil(lambda: view.partners_model.rowCount() > 5)
    ids = [p.partner_user_id for p in view.partners_model.rows]
    emily = view.partners_model.rows[ids.index(EMILY)]
    assert "IB-1042" in emily.ctrader_codes
    assert emily.counts["invite"] > 0
    # Selecting a partner lists their referrals, Daniel among them.
    view.partners.selectRow(ids.index(EMILY))
    qtbot.waitUntil(lambda: view.referrals.model.rowCount() > 0)
    assert DANIEL in {r.client_user_id for r in view.referrals.model.rows}
    assert view.referrals.title.text().startswith(f"Referrals of user {EMILY}:")
    # The conflict report names every kind the training sandbox seeds.
    kinds = {c.kind for c in view.conflicts_model.rows}
    assert {"sources_disagree", "self_referral", "unknown_code", "shared_code"} <= kinds
    assert view.pages.tabText(1) == f"Conflicts ({view.conflicts_model.rowCount():,})"
    # Search narrows the list to the partners whose id or code matches.
    view.search.setText("IB-1042")
    qtbot.waitUntil(lambda: view.partners_model.rowCount() == 1)
    assert view.partners_model.rows[0].partner_user_id == EMILY


def test_invite_not_enabled_is_said_in_words(
    qtbot: QtBot, ctx: UiContext, sandbox: Sandbox
) -> None:
    sandbox.config.dialect.invite_enabled = False
    tab = make_tab(qtbot, ctx)
    run(qtbot, tab, tab.registry.pull_button, "cTrader Invite is not enabled for this broker")
    assert tab.bar.level is Level.WARNING


def test_the_evidence_pack_of_a_partner_and_of_a_conflict_s_client(
    qtbot: QtBot, ctx: UiContext, sandbox: Sandbox, tmp_path: Path, monkeypatch: object
) -> None:
    import ctrader_admin.ui.evidence_export as module

    tab = make_tab(qtbot, ctx)
    view = tab.registry
    fill(qtbot, tab, sandbox, tmp_path)
    qtbot.waitUntil(lambda: view.partners_model.rowCount() > 5)
    targets = iter([tmp_path / "partner.pdf", tmp_path / "client.pdf"])

    async def save_to(*_args: object) -> str:
        return str(next(targets))

    monkeypatch.setattr(module, "choose_save_path", save_to)  # type: ignore[attr-defined]
    ids = [p.partner_user_id for p in view.partners_model.rows]
    view.partners.selectRow(ids.index(EMILY))
    view.evidence_button.click()
    qtbot.waitUntil(lambda: "Evidence pack of partner user" in tab.bar.text(), timeout=20_000)
    assert (tmp_path / "partner.pdf").stat().st_size > 1000
    assert (tmp_path / "partner.rows.csv").read_text(encoding="utf-8").startswith("source,")

    view.pages.setCurrentIndex(1)
    row = next(n for n, c in enumerate(view.conflicts_model.rows) if c.kind == "sources_disagree")
    view.conflicts.selectRow(row)
    view.evidence_button.click()
    qtbot.waitUntil(lambda: "Evidence pack of client user" in tab.bar.text(), timeout=20_000)
    assert (tmp_path / "client.pdf").exists()
