"""A read-only profile: every write control of every tab is disabled, the services refuse writes
themselves, and the backend never receives a PUT, POST or DELETE (other than the log-in)."""

from __future__ import annotations

import pytest
from pydantic import SecretStr
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot
from ui_helpers import MANAGER, run_async

from ctrader_admin.sandbox import Sandbox, trading_password
from ctrader_admin.services import accounts, partners, users
from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.services.errors import ReadOnlyProfile
from ctrader_admin.services.writes import UserTarget
from ctrader_admin.ui.accounts_tab import AccountsTab
from ctrader_admin.ui.context import UiContext
from ctrader_admin.ui.lookup_tab import LookupTab
from ctrader_admin.ui.partners_tab import PartnersTab
from ctrader_admin.ui.tab import Tab
from ctrader_admin.ui.users_tab import UsersTab
from ctrader_admin.ui.white_label_tab import WhiteLabelTab

TOKEN_PATH = "/v2/webserv/managers/token"
SHOWCASE_USER = 1000001


def write_controls(tabs: dict[str, Tab]) -> dict[str, QWidget]:
    lookup = tabs["lookup"]
    users_tab = tabs["users"]
    accounts_tab = tabs["accounts"]
    wl = tabs["wl"]
    partners_tab = tabs["partners"]
    assert isinstance(lookup, LookupTab)
    assert isinstance(users_tab, UsersTab)
    assert isinstance(accounts_tab, AccountsTab)
    assert isinstance(wl, WhiteLabelTab)
    assert isinstance(partners_tab, PartnersTab)
    return {
        "Lookup: set user partnerId": lookup.set_user_partner,
        "Lookup: delete user partnerId": lookup.delete_user_partner,
        "Lookup: link another account": lookup.link_more,
        "Lookup: register as partner": lookup.register_partner,
        "Lookup: set account partnerId": lookup.set_account_partner,
        "Lookup: delete account partnerId": lookup.delete_account_partner,
        "Lookup: move to White Label": lookup.move_wl,
        "Users: create": users_tab.create_button,
        "Accounts: link": accounts_tab.link_button,
        "Accounts: password": accounts_tab.password,
        "White Label: move": wl.move_button,
        "Partners: set": partners_tab.set_button,
        "Partners: delete": partners_tab.delete_button,
        "Partners: register a partner": partners_tab.register_button,
    }


def non_token_writes(sandbox: Sandbox) -> list[str]:
    return [
        f"{e.method} {e.path}"
        for e in sandbox.request_log
        if e.method in ("PUT", "POST", "DELETE", "PATCH") and e.path != TOKEN_PATH
    ]


def test_a_read_only_profile_disables_every_write_and_sends_none(
    qtbot: QtBot, ctx: UiContext, backoffice: Backoffice, sandbox: Sandbox
) -> None:
    tabs: dict[str, Tab] = {
        "lookup": LookupTab(ctx),
        "users": UsersTab(ctx),
        "accounts": AccountsTab(ctx),
        "wl": WhiteLabelTab(ctx),
        "partners": PartnersTab(ctx),
    }
    for tab in tabs.values():
        qtbot.addWidget(tab)
        tab.show()
    lookup = tabs["lookup"]
    assert isinstance(lookup, LookupTab)
    # On the writable sandbox, with a case on screen, the write controls are there to use.
    with qtbot.waitSignal(lookup.finished, timeout=10_000):
        lookup.search_for(f"user:{SHOWCASE_USER}")
    controls = write_controls(tabs)
    assert [name for name, widget in controls.items() if not widget.isEnabled()] == [
        "Lookup: set account partnerId",  # no linked account known locally yet
        "Lookup: delete account partnerId",
        "Lookup: move to White Label",
    ]

    read_only = backoffice.profiles.get("sandbox").model_copy(
        update={"id": "sandbox-ro", "name": "Sandbox (read-only)", "read_only": True}
    )
    backoffice.profiles.add(read_only)
    backoffice.settings = backoffice.profiles.load()
    run_async(qtbot, backoffice.open("sandbox-ro"))
    session = ctx.session
    assert session.profile.read_only
    run_async(qtbot, session.login(MANAGER.login, MANAGER.password, remember=False))
    ctx.session_changed.emit()

    # Reads still work on a read-only connection: a case with a linked account in Lookup…
    link = sandbox.link(trader_login=5200001)
    assert link is not None
    backoffice.directory.upsert_link(
        "sandbox-ro",
        link["ctid_trader_account_id"],
        user_id=SHOWCASE_USER,
        login=5200001,
        environment="live",
        source="test",
    )
    with qtbot.waitSignal(lookup.finished, timeout=10_000):
        lookup.search_for(f"user:{SHOWCASE_USER}")
    assert lookup.case is not None
    assert lookup.model.rows
    lookup.table.selectRow(0)  # a user's case selects no account by itself
    assert lookup.copy_login.isEnabled()  # not a write: stays available
    # …an account in White Label, a partnerId in Partners.
    wl = tabs["wl"]
    assert isinstance(wl, WhiteLabelTab)
    wl.login.setText("5200001")
    with qtbot.waitSignal(wl.finished, timeout=10_000):
        wl.read_button.click()
    assert wl.account is not None
    partners_tab = tabs["partners"]
    assert isinstance(partners_tab, PartnersTab)
    partners_tab.target_id.setText(str(SHOWCASE_USER))
    with qtbot.waitSignal(partners_tab.finished, timeout=10_000):
        partners_tab.read_button.click()
    assert partners_tab.partner_id.text() == "IB-1042"

    controls = write_controls(tabs)
    assert {name: widget.isEnabled() for name, widget in controls.items()} == dict.fromkeys(
        controls, False
    )
    for tab in tabs.values():
        note = getattr(tab, "read_only_note", None)
        if note is not None:
            assert note.isVisible(), f"{tab.title} does not say why its writes are disabled"

    # Enter in a form field does not get round the disabled button either.
    users_tab = tabs["users"]
    assert isinstance(users_tab, UsersTab)
    users_tab.email.setText("read.only@example.com")
    users_tab.email.returnPressed.emit()
    accounts_tab = tabs["accounts"]
    assert isinstance(accounts_tab, AccountsTab)
    accounts_tab.login.setText("3100010")
    accounts_tab.user_id.setText(str(SHOWCASE_USER))
    accounts_tab.login.returnPressed.emit()
    qtbot.wait(100)

    # The services refuse on their own, before anything is journaled or sent.
    login = sandbox.logins(broker_name="sandbox_main", environment="demo", linked=False)[0]
    attempts = {
        "create_user": users.create_user(
            session, email="read.only@example.com", broker_name="sandbox_main", language="en"
        ),
        "link_account": accounts.link_account(
            session,
            login=login,
            password=SecretStr(trading_password(login)),
            user_id=SHOWCASE_USER,
            broker_name="sandbox_main",
            environment="demo",
            reason="test",
        ),
        "move_white_label": accounts.move_white_label(
            session,
            login=login,
            environment="demo",
            target_broker_name="sandbox_eu",
            reason="test",
        ),
        "set_partner": partners.set_partner(
            session, UserTarget(SHOWCASE_USER), "IB-9", reason="test"
        ),
        "delete_partner": partners.delete_partner(
            session, UserTarget(SHOWCASE_USER), reason="test"
        ),
    }
    for _name, attempt in attempts.items():
        with pytest.raises(ReadOnlyProfile, match="read-only: nothing was sent"):
            run_async(qtbot, attempt)

    assert non_token_writes(sandbox) == []
    assert backoffice.journal.page(None, 0, 10) == []
    assert sandbox.referral(user_id=SHOWCASE_USER) == "IB-1042"
    assert sandbox.link(trader_login=login) is None
