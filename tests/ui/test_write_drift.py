"""Drift on a single write in the GUI: the partnerId changes while the confirmation dialog is
open (another operator's client on the same sandbox). Confirming sends nothing; the message bar
says what changed (was → now) and the journal records the refusal."""

from __future__ import annotations

from pytestqt.qtbot import QtBot
from ui_helpers import MANAGER, run_async, wait_for_dialog

from ctrader_admin.api import ApiClient, ConnectionConfig, SetReferralRequest
from ctrader_admin.sandbox import Sandbox
from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.ui.context import UiContext
from ctrader_admin.ui.notify import Level
from ctrader_admin.ui.partners_tab import PartnersTab

SHOWCASE_USER = 1000001  # sandbox seed: IB-1042 at user level


async def someone_else_sets(backoffice: Backoffice, sandbox: Sandbox, partner_id: str) -> None:
    """Another operator's client on the same sandbox, with a log-in of its own."""
    profile = backoffice.session.profile if backoffice.session else None
    assert profile is not None
    config = ConnectionConfig(base_url=profile.base_url, timeout=profile.timeout_seconds)
    async with ApiClient(config, transport=sandbox.transport()) as other:
        other.token = await other.login(MANAGER.login, MANAGER.password)
        request = SetReferralRequest(
            broker_crm_name=profile.broker_crm_name, user_id=SHOWCASE_USER, partner_id=partner_id
        )
        await other.set_referral(request)


def sends(sandbox: Sandbox, since: int) -> list[str]:
    return [e.method for e in sandbox.request_log[since:] if e.method in ("PUT", "POST", "DELETE")]


def test_a_partner_id_changed_while_the_operator_confirms_is_not_overwritten(
    qtbot: QtBot, ctx: UiContext, backoffice: Backoffice, sandbox: Sandbox
) -> None:
    tab = PartnersTab(ctx)
    qtbot.addWidget(tab)
    tab.show()
    tab.user_level.setChecked(True)
    tab.target_id.setText(str(SHOWCASE_USER))
    tab.set_button.click()
    value = wait_for_dialog(qtbot, "valueDialog")
    value.editor.setText("MINE")  # type: ignore[attr-defined]
    value.accept()
    dialog = wait_for_dialog(qtbot, "confirmWriteDialog")
    shown = " ".join(label.text() for label in dialog.findChildren(type(tab.partner_id)))
    assert "IB-1042 → MINE" in shown  # what the operator confirms
    run_async(qtbot, someone_else_sets(backoffice, sandbox, "THEIRS"))
    mark = len(sandbox.request_log)
    dialog.reason.setText("CRM says MINE")  # type: ignore[attr-defined]
    dialog.accept()
    qtbot.waitUntil(lambda: not tab._working, timeout=10_000)

    assert sends(sandbox, mark) == []  # the re-read only: nothing written
    assert sandbox.referral(user_id=SHOWCASE_USER) == "THEIRS"
    assert tab.bar.level is Level.ERROR
    assert (
        f"Not sent: the partnerId of user {SHOWCASE_USER} changed since it was confirmed — was "
        "IB-1042, now THEIRS." in tab.bar.text()
    )
    entry = backoffice.journal.page(None, 0, 1)[0]
    assert (entry.action, entry.target, entry.before, entry.after, entry.outcome) == (
        "set_partner",
        f"user:{SHOWCASE_USER}",
        "IB-1042",
        "MINE",
        "refused",
    )
    assert entry.reason == "CRM says MINE"
    assert "now THEIRS" in (entry.error or "")
