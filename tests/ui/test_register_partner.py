"""Register a partner in the desktop app (issue #11): the guided dialog from the Partners tab and
from a user's case in Lookup — a new cTID user, an email that already has one (said plainly), a
code another partner carries (refused, nothing sent), account level, a code that does not read
back, a read-only connection — and the work order the Accounts tab offers for an account that is
already linked to another user."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot
from ui_helpers import MANAGER, clipped, run_async, wait_for_dialog

from ctrader_admin.sandbox import Sandbox, trading_password
from ctrader_admin.services import attribution
from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.ui.accounts_tab import AccountsTab
from ctrader_admin.ui.context import LinkRequest, UiContext
from ctrader_admin.ui.lookup_tab import LookupTab
from ctrader_admin.ui.partners_tab import PartnersTab
from ctrader_admin.ui.register_partner_dialog import RegisterPartnerDialog
from ctrader_admin.ui.work_order_dialog import WorkOrderDialog

EMILY, DANIEL = 1000001, 1000004
EMILY_LIVE, DANIEL_LIVE = 5200001, 5200005
REFERRAL = "/cid/oauth2/ctid/referral"


def writes(sandbox: Sandbox) -> list[str]:
    return [
        f"{e.method} {e.path}"
        for e in sandbox.request_log
        if e.method != "GET" and e.path != "/v2/webserv/managers/token"
    ]


def import_directory(backoffice: Backoffice, sandbox: Sandbox) -> None:
    directory = backoffice.directory
    directory.import_rows("sandbox", directory.preview_csv(sandbox.crm_export_csv()).rows_ok)


def dialog_for(qtbot: QtBot, ctx: UiContext, query: str) -> RegisterPartnerDialog:
    dialog = RegisterPartnerDialog(ctx.window, ctx, query=query)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.find_person()
    qtbot.waitUntil(lambda: dialog.person is not None or dialog.bar.isVisible(), timeout=10_000)
    return dialog


def confirm(qtbot: QtBot, reason: str = "new partner", ticket: str = "CRM-3") -> None:
    confirm_dialog = wait_for_dialog(qtbot, "confirmWriteDialog")
    confirm_dialog.reason.setText(reason)  # type: ignore[attr-defined]
    confirm_dialog.ticket.setText(ticket)  # type: ignore[attr-defined]
    confirm_dialog.accept()


def register(qtbot: QtBot, dialog: RegisterPartnerDialog, *, confirmed: bool = True) -> None:
    assert dialog.register_button.isEnabled(), dialog.register_button.toolTip()
    dialog.register_button.click()
    if confirmed:
        confirm(qtbot)
    qtbot.waitUntil(
        lambda: dialog.registration is not None or dialog.bar.isVisible(), timeout=10_000
    )


def test_a_new_partner_gets_a_ctid_user_and_the_proposed_code_reads_back(
    qtbot: QtBot, ctx: UiContext, sandbox: Sandbox
) -> None:
    dialog = dialog_for(qtbot, ctx, "brand.new.ib@example.com")
    assert dialog.create_row.isVisible()
    assert not dialog.code_box.isEnabled()  # no user yet: nowhere to register

    dialog.create_button.click()
    confirm(qtbot)
    qtbot.waitUntil(lambda: dialog.person is not None and not dialog.person.needs_user)
    user = dialog.person.user_id if dialog.person else None
    assert f"Created cTID user {user} for brand.new.ib@example.com." in dialog.found.text()
    assert dialog.code.text() == f"IB-{user}"
    assert "Proposed: the rule IB-<userId>" in dialog.code_note.text()

    register(qtbot, dialog)
    assert dialog.registration is not None
    assert dialog.registration.matches
    assert f"Read back from the server: IB-{user} — it matches." in dialog.outcome.text()
    assert sandbox.referral(user_id=user) == f"IB-{user}"
    assert clipped(dialog) == []


def test_an_email_that_already_has_a_user_is_said_plainly(
    qtbot: QtBot, ctx: UiContext, sandbox: Sandbox
) -> None:
    sandbox.config.dialect = dataclasses.replace(sandbox.config.dialect, invite_enabled=False)
    dialog = dialog_for(qtbot, ctx, "emily.carter@example.com")
    dialog.create_button.click()
    confirm(qtbot)
    qtbot.waitUntil(lambda: dialog.person is not None and not dialog.person.needs_user)

    said = f"This email already has cTID user {EMILY}; it will be used."
    assert said in dialog.found.text()
    assert dialog.code.text() == "IB-1042"  # the code she carries: nothing new to send


def test_a_code_another_partner_carries_is_refused_before_any_write(
    qtbot: QtBot, ctx: UiContext, backoffice: Backoffice, sandbox: Sandbox
) -> None:
    run_async(qtbot, attribution.refresh_registry(ctx.session, backoffice.ledger, [EMILY]))
    dialog = dialog_for(qtbot, ctx, f"user:{DANIEL}")
    dialog.code.setText("IB-1042")
    sandbox.clear_log()

    register(qtbot, dialog, confirmed=False)

    assert "IB-1042 is already carried by partner user 1000001" in dialog.bar.text()
    assert dialog.registration is None
    assert writes(sandbox) == []


def test_account_level_from_a_users_case_in_lookup(
    qtbot: QtBot, ctx: UiContext, backoffice: Backoffice, sandbox: Sandbox
) -> None:
    import_directory(backoffice, sandbox)
    link = sandbox.link(trader_login=DANIEL_LIVE)
    assert link is not None
    lookup = LookupTab(ctx)
    qtbot.addWidget(lookup)
    lookup.show()
    with qtbot.waitSignal(lookup.finished, timeout=10_000):
        lookup.search_for(f"user:{DANIEL}")
    assert lookup.register_partner.isEnabled()

    lookup.register_partner.click()  # opens the dialog on this user, found at once
    dialog = wait_for_dialog(qtbot, "registerPartnerDialog")
    assert isinstance(dialog, RegisterPartnerDialog)
    qtbot.waitUntil(lambda: dialog.where.count() > 1, timeout=10_000)
    index = next(i for i in range(dialog.where.count()) if dialog.where.itemData(i) == DANIEL_LIVE)
    dialog.where.setCurrentIndex(index)
    dialog.code.setText("AFF-31")
    register(qtbot, dialog)

    assert dialog.registration is not None
    assert dialog.registration.matches
    assert sandbox.referral(ctid_trader_account_id=link["ctid_trader_account_id"]) == "AFF-31"
    assert sandbox.referral(user_id=DANIEL) is None
    dialog.reject()  # closing it reloads the case, and says what was done
    qtbot.waitUntil(lambda: "AFF-31" in lookup.bar.text(), timeout=10_000)
    assert "it matches" in lookup.bar.text()
    row = next(r for r in lookup.model.rows if r.login == DANIEL_LIVE)
    assert row.partner_id == "AFF-31"  # the reloaded case shows it


def test_a_code_that_does_not_read_back_is_shown_as_an_error(
    qtbot: QtBot, ctx: UiContext, sandbox: Sandbox
) -> None:
    dialog = dialog_for(qtbot, ctx, f"user:{DANIEL}")
    dialog.code.setText("IB-LOST")
    sandbox.script_faults("ignored")

    register(qtbot, dialog)

    assert dialog.registration is not None
    assert not dialog.registration.matches
    assert "reading it back shows (none), NOT IB-LOST" in dialog.outcome.text()
    assert dialog.outcome.property("tone") == "error"


def test_a_read_only_connection_refuses_and_sends_nothing(
    qtbot: QtBot, ctx: UiContext, backoffice: Backoffice, sandbox: Sandbox
) -> None:
    read_only = backoffice.profiles.get("sandbox").model_copy(
        update={"id": "sandbox-ro", "name": "Sandbox (read-only)", "read_only": True}
    )
    backoffice.profiles.add(read_only)
    run_async(qtbot, backoffice.open("sandbox-ro"))
    run_async(qtbot, ctx.session.login(MANAGER.login, MANAGER.password, remember=False))
    tab = PartnersTab(ctx)
    qtbot.addWidget(tab)
    assert not tab.register_button.isEnabled()
    sandbox.clear_log()

    dialog = dialog_for(qtbot, ctx, "brand.new.ib@example.com")

    assert "is read-only: nothing was sent" in dialog.bar.text()
    assert not dialog.register_button.isEnabled()
    assert sandbox.request_log == []


def test_the_partners_tab_opens_the_dialog(qtbot: QtBot, ctx: UiContext) -> None:
    tab = PartnersTab(ctx)
    qtbot.addWidget(tab)
    assert tab.register_button.isEnabled()
    tab.register_button.click()
    dialog = wait_for_dialog(qtbot, "registerPartnerDialog")
    assert dialog.windowTitle() == "Register a partner"
    dialog.reject()
    qtbot.waitUntil(lambda: not dialog.isVisible())


def test_linking_an_account_held_by_another_user_offers_a_work_order(
    qtbot: QtBot, ctx: UiContext, backoffice: Backoffice, sandbox: Sandbox, tmp_path: Path
) -> None:
    import_directory(backoffice, sandbox)
    tab = AccountsTab(ctx)
    qtbot.addWidget(tab)
    tab.prefill(
        LinkRequest(
            user_id=DANIEL, login=EMILY_LIVE, environment="live", white_label="sandbox_main"
        )
    )
    tab.password.setText(trading_password(EMILY_LIVE))
    sandbox.clear_log()

    tab.link_button.click()
    dialog = wait_for_dialog(qtbot, "workOrderDialog")
    assert isinstance(dialog, WorkOrderDialog)
    assert "already linked to cTID user 1000001" in dialog.why.text()
    dialog.reason.setText("duplicate cTID")
    dialog.ticket.setText("SUP-31")
    text = dialog.text.toPlainText()
    assert "From:             cTID user 1000001" in text
    assert "To:               cTID user 1000004" in text
    assert "Why:              duplicate cTID" in text
    assert "Ticket:           SUP-31" in text
    dialog.copy()
    assert QGuiApplication.clipboard().text() == text
    target = tmp_path / "order.txt"
    run_async(qtbot, dialog.save_to(target))
    assert target.read_text(encoding="utf-8") == text
    assert trading_password(EMILY_LIVE) not in text
    assert clipped(dialog) == []
    dialog.reject()
    assert writes(sandbox) == []  # no link was attempted


def test_a_backend_already_linked_answer_becomes_a_work_order_too(
    qtbot: QtBot, ctx: UiContext, backoffice: Backoffice, sandbox: Sandbox
) -> None:
    """The directory did not know the link: the backend's refusal (journaled failed, which is
    true: nothing changed) is turned into the same offer, the owner left to find out."""
    tab = AccountsTab(ctx)
    qtbot.addWidget(tab)
    tab.prefill(
        LinkRequest(
            user_id=DANIEL, login=EMILY_LIVE, environment="live", white_label="sandbox_main"
        )
    )
    tab.password.setText(trading_password(EMILY_LIVE))

    tab.link_button.click()
    confirm(qtbot, reason="duplicate cTID")
    dialog = wait_for_dialog(qtbot, "workOrderDialog")

    assert isinstance(dialog, WorkOrderDialog)
    assert "(the backend refused the link)" in dialog.why.text()
    assert "Nothing was changed" in dialog.why.text()
    assert "its current cTID user (not known here" in dialog.text.toPlainText()
    assert "Why:              duplicate cTID" in dialog.text.toPlainText()
    assert tab.result is None
    entry = backoffice.journal.page(None, 0, 1)[0]
    assert (entry.action, entry.outcome) == ("link_account", "failed")
    dialog.reject()
