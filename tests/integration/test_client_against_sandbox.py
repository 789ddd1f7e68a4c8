"""The client against the sandbox over real loopback sockets, in every dialect."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

import pytest

from ctrader_admin.api import (
    ApiClient,
    ChangeWhiteLabelRequest,
    ConnectionConfig,
    CreateCtidRequest,
    DeleteReferralRequest,
    Forbidden,
    LinkAccountRequest,
    NotFound,
    ReferralQuery,
    SetReferralRequest,
    TraderListQuery,
    UsersQuery,
)
from ctrader_admin.api.errors import BadRequest
from ctrader_admin.sandbox import BROKER_CRM_NAME, TRAINING_MANAGERS, Sandbox, trading_password

T = TypeVar("T")
FULL, LIMITED = TRAINING_MANAGERS
_emails = itertools.count(1)


def run(
    base_url: str, body: Callable[[ApiClient], Awaitable[T]], token: str | None = FULL.token
) -> T:
    async def main() -> T:
        async with ApiClient(ConnectionConfig(base_url=base_url, timeout=5), token=token) as client:
            return await body(client)

    return asyncio.run(main())


def fresh_email(dialect: str) -> str:
    return f"it-{dialect}-{next(_emails)}@example.org"


def test_login_returns_the_managers_token(base_url: str, dialect: str) -> None:
    async def body(client: ApiClient) -> str:
        return await client.login(FULL.login, FULL.password)

    assert run(base_url, body, token=None) == FULL.token


def test_create_user_then_the_same_email_returns_the_existing_user(
    base_url: str, dialect: str, sandbox: Sandbox
) -> None:
    email = fresh_email(dialect)
    request = CreateCtidRequest(email=email, broker_name="sandbox_main", preferred_language="de")

    async def body(client: ApiClient) -> tuple[object, object]:
        return await client.create_ctid(request), await client.create_ctid(request)

    first, second = run(base_url, body)
    assert first.created
    assert first.user.email == email
    assert first.user.status == "CTID_NEW"
    assert not second.created  # type: ignore[attr-defined]
    assert second.user.user_id == first.user.user_id  # type: ignore[attr-defined]
    assert sandbox.user(first.user.user_id)["email"] == email  # type: ignore[attr-defined,index]


def test_link_an_unlinked_account_and_read_its_partner_levels(
    base_url: str, dialect: str, sandbox: Sandbox
) -> None:
    login = sandbox.logins(broker_name="sandbox_main", environment="demo", linked=False)[0]
    email = fresh_email(dialect)

    async def body(client: ApiClient) -> tuple[int, int | None, str | None, str | None]:
        user = (await client.create_ctid(CreateCtidRequest(email=email))).user
        link = await client.link_account(
            LinkAccountRequest.with_password(
                password=trading_password(login),
                trader_login=login,
                user_id=user.user_id,
                broker_name="sandbox_main",
                environment_name="demo",
            )
        )
        assert link.ctid_trader_account_id is not None
        ctid = link.ctid_trader_account_id
        await client.set_referral(
            SetReferralRequest(
                broker_crm_name=BROKER_CRM_NAME, user_id=user.user_id, partner_id="IB-U1"
            )
        )
        await client.set_referral(
            SetReferralRequest(
                broker_crm_name=BROKER_CRM_NAME, ctid_trader_account_id=ctid, partner_id="IB-A1"
            )
        )
        user_level = await client.get_referral(
            ReferralQuery(broker_crm_name=BROKER_CRM_NAME, user_id=user.user_id)
        )
        account_level = await client.get_referral(
            ReferralQuery(broker_crm_name=BROKER_CRM_NAME, ctid_trader_account_id=ctid)
        )
        return (
            user.user_id,
            ctid,
            user_level.partner_id if user_level else None,
            account_level.partner_id if account_level else None,
        )

    user_id, ctid, user_partner, account_partner = run(base_url, body)
    # Array dialects list the account record with the user's: the client must pick the right one.
    assert (user_partner, account_partner) == ("IB-U1", "IB-A1")
    assert sandbox.link(trader_login=login)["ctid_trader_account_id"] == ctid  # type: ignore[index]
    assert sandbox.referral(user_id=user_id) == "IB-U1"


def test_link_with_a_wrong_password_is_refused(
    base_url: str, dialect: str, sandbox: Sandbox
) -> None:
    login = sandbox.logins(broker_name="sandbox_main", environment="demo", linked=False)[-1]
    email = fresh_email(dialect)

    async def body(client: ApiClient) -> None:
        user = (await client.create_ctid(CreateCtidRequest(email=email))).user
        await client.link_account(
            LinkAccountRequest.with_password(
                password="not-the-password",
                trader_login=login,
                user_id=user.user_id,
                broker_name="sandbox_main",
                environment_name="demo",
            )
        )

    with pytest.raises(BadRequest) as caught:
        run(base_url, body)
    assert caught.value.code == "WRONG_PASSWORD"
    assert "password is wrong" in str(caught.value)
    assert sandbox.link(trader_login=login) is None


def test_referral_delete_is_idempotent_and_reads_none_afterwards(
    base_url: str, dialect: str, sandbox: Sandbox
) -> None:
    email = fresh_email(dialect)

    async def body(client: ApiClient) -> object:
        user = (await client.create_ctid(CreateCtidRequest(email=email))).user
        query = ReferralQuery(broker_crm_name=BROKER_CRM_NAME, user_id=user.user_id)
        assert await client.get_referral(query) is None
        await client.set_referral(
            SetReferralRequest(
                broker_crm_name=BROKER_CRM_NAME, user_id=user.user_id, partner_id="X-1"
            )
        )
        delete = DeleteReferralRequest(broker_crm_name=BROKER_CRM_NAME, user_id=user.user_id)
        await client.delete_referral(delete)
        await client.delete_referral(delete)  # already gone: not an error, in any dialect
        return await client.get_referral(query)

    assert run(base_url, body) is None


def test_move_white_label_changes_the_account(
    base_url: str, dialect: str, sandbox: Sandbox
) -> None:
    login = sandbox.logins(broker_name="sandbox_main", environment="live")[0]

    async def body(client: ApiClient) -> tuple[str | None, str | None]:
        await client.change_white_label(
            ChangeWhiteLabelRequest(
                trader_login=login, broker_name="sandbox_eu", environment_name="live"
            )
        )
        after = (await client.get_trader(login)).broker_name
        await client.change_white_label(
            ChangeWhiteLabelRequest(
                trader_login=login, broker_name="sandbox_main", environment_name="live"
            )
        )
        return after, (await client.get_trader(login)).broker_name

    assert run(base_url, body) == ("sandbox_eu", "sandbox_main")


def test_trader_money_is_exact_with_the_accounts_digits(
    base_url: str, dialect: str, sandbox: Sandbox
) -> None:
    logins = sandbox.logins(broker_name="sandbox_main")

    async def body(client: ApiClient) -> list[tuple[int, Decimal | None, int]]:
        traders = await asyncio.gather(*(client.get_trader(login) for login in logins[:40]))
        return [(t.login, t.money("balance"), t.money_digits) for t in traders]

    rows = run(base_url, body)
    for login, balance, digits in rows:
        raw = sandbox.trader(login)
        assert raw is not None
        assert balance == Decimal(raw["balance"]).scaleb(-digits)
    assert len({digits for _, _, digits in rows}) >= 2  # the seed mixes currencies


def test_list_traders_follows_has_more_across_pages(
    base_url: str, dialect: str, sandbox: Sandbox
) -> None:
    query = TraderListQuery(
        from_=datetime(2015, 1, 1, tzinfo=UTC), to=datetime.now(UTC) + timedelta(days=1)
    )

    async def body(client: ApiClient) -> list[int]:
        return [t.login for t in await client.list_traders(query)]

    logins = run(base_url, body)
    visible = set(sandbox.logins(broker_name="sandbox_main")) | set(
        sandbox.logins(broker_name="sandbox_eu")
    )
    assert len(logins) > 25  # more than one page of 25
    assert len(logins) == len(set(logins))
    assert set(logins) == visible


def test_user_list_or_not_found_where_invite_is_off(base_url: str, dialect: str) -> None:
    async def body(client: ApiClient) -> list[int]:
        return [u.user_id for u in await client.list_users(UsersQuery(limit=50))]

    if dialect == "variant":  # Invite not enabled for this broker
        with pytest.raises(NotFound):
            run(base_url, body)
    else:
        users = run(base_url, body)
        assert len(users) == 50


def test_missing_rights_on_a_white_label(base_url: str, dialect: str, sandbox: Sandbox) -> None:
    eu_login = sandbox.logins(broker_name="sandbox_eu")[0]

    async def body(client: ApiClient) -> object:
        return await client.get_trader(eu_login)

    with pytest.raises(Forbidden) as caught:
        run(base_url, body, token=LIMITED.token)
    assert caught.value.code == "NOT_ENOUGH_RIGHTS"
    assert not caught.value.needs_login
    assert "no rights" in str(caught.value)
