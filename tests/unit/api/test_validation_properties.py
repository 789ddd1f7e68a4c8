"""Request models refuse what the backend would refuse, before sending (docs/design.md rule 3).

For each request model: generated invalid input raises pydantic's ValidationError and never
reaches the transport; generated valid input serialises to the documented wire names only.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import string
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, ClassVar

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from ctrader_admin.api import (
    ApiClient,
    ChangeWhiteLabelRequest,
    ConnectionConfig,
    CreateCtidRequest,
    DeleteReferralRequest,
    LinkAccountRequest,
    ReferralQuery,
    SetReferralRequest,
    TraderListQuery,
    UsersQuery,
)
from ctrader_admin.api.iso639 import ISO_639_1
from ctrader_admin.api.models import ManagerCredentials

PROPERTY = settings(max_examples=60, deadline=None, database=None)
TOKEN = "tok-0d6e5a44-property-tests"
HEX = "0123456789abcdef"
QUERY_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}$")

# --- building blocks -----------------------------------------------------------------------------

ids = st.integers(1, 2**63 - 1)
bad_ids = st.one_of(st.integers(max_value=0), st.integers(min_value=2**63, max_value=2**80))

_label = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=12)
_local = st.text(string.ascii_letters + string.digits + "_+-", min_size=1, max_size=20)
emails = st.builds(
    lambda local, more, domain, tld: f"{'.'.join([local, *more])}@{'.'.join(domain)}.{tld}",
    _local,
    st.lists(_local, max_size=2),
    st.lists(_label, min_size=1, max_size=3),
    st.text(string.ascii_lowercase, min_size=2, max_size=6),
)
bad_emails = st.one_of(
    st.text(max_size=40).filter(lambda s: "@" not in s),
    st.builds("{}@{}".format, _local, _label),  # no dot in the domain
    st.builds("{}..{}@{}.com".format, _local, _local, _label),
    st.builds("{} {}@{}.com".format, _local, _local, _label),
    st.builds("{}@-{}.com".format, _local, _label),
    st.builds("{}@{}.com-".format, _local, _label),
    st.builds("{}@{}@{}.com".format, _local, _local, _label),
    st.builds(lambda local: local * 260 + "@example.com", _local),  # longer than 254
)

languages = st.sampled_from(sorted(ISO_639_1)).flatmap(
    lambda code: st.sampled_from([code, code.upper(), f" {code} "])
)
bad_languages = st.one_of(
    st.text(string.ascii_letters, min_size=2, max_size=2).filter(
        lambda s: s.lower() not in ISO_639_1
    ),
    st.text(string.ascii_lowercase, min_size=3, max_size=8),
    st.text(string.digits + "-_", max_size=3),
    st.sampled_from(["", "e", "en-GB", "en_US", "eng", "english", "zz"]),
)

md5s = st.binary(max_size=64).map(lambda raw: hashlib.md5(raw).hexdigest())
bad_md5s = st.one_of(
    st.text(HEX, max_size=64).filter(lambda s: len(s) != 32),  # wrong length
    md5s.map(str.upper).filter(lambda s: s != s.lower()),  # the API wants lowercase
    st.tuples(md5s, st.integers(0, 31), st.sampled_from(list("gzGZ -_!é\x00"))).map(
        lambda t: t[0][: t[1]] + t[2] + t[0][t[1] + 1 :]  # one non-hex character
    ),
    md5s.flatmap(lambda h: st.sampled_from([h + "\n", h + " ", " " + h, "\t" + h])),
)

names = st.text(string.ascii_letters + string.digits + "_- ", min_size=1, max_size=100).filter(
    str.strip
)
bad_names = st.one_of(
    st.text(" \t\r\n", max_size=6),  # empty or only whitespace
    st.text(string.ascii_letters, min_size=101, max_size=160),
)

partner_ids = st.text(
    st.characters(categories=["L", "N", "P", "S"]), min_size=1, max_size=64
) | st.text(string.ascii_letters + string.digits + "-_. ", min_size=1, max_size=64).filter(
    lambda s: s == s.strip()
)
_clean_partner = st.text(string.ascii_letters + string.digits + "-_", min_size=1, max_size=40)
bad_partner_ids = st.one_of(
    st.just(""),
    st.text(string.ascii_letters + string.digits, min_size=65, max_size=120),
    _clean_partner.flatmap(
        lambda p: st.sampled_from([f" {p}", f"{p} ", f"\t{p}", f"{p}\n", f"\u00a0{p}"])
    ),
    st.tuples(_clean_partner, st.characters(categories=["Cc", "Cf"]), st.integers(1, 39)).map(
        lambda t: t[0][: t[2]] + t[1] + t[0][t[2] :]  # a control character inside
    ),
)

_zones = st.sampled_from(
    [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30))]
)
_span = {"min_value": datetime(2000, 1, 1), "max_value": datetime(2099, 12, 31)}
aware = st.datetimes(**_span, timezones=_zones)
naive = st.datetimes(**_span)


@st.composite
def windows(draw: st.DrawFn) -> tuple[datetime, datetime]:
    a, b = draw(aware), draw(aware)
    if a == b:
        b = b + timedelta(milliseconds=draw(st.integers(1, 10**9)))
    return (a, b) if a < b else (b, a)


# --- invalid inputs, per model -------------------------------------------------------------------


def _level(**common: Any) -> st.SearchStrategy[dict[str, Any]]:
    """userId xor ctidTraderAccountId, plus the given fields."""
    return st.one_of(
        st.fixed_dictionaries({**common, "user_id": ids}),
        st.fixed_dictionaries({**common, "ctid_trader_account_id": ids}),
    )


def _with(valid: st.SearchStrategy[dict[str, Any]], **bad: Any) -> st.SearchStrategy[dict]:
    """Valid kwargs with one field replaced by a bad value."""
    return st.tuples(valid, st.fixed_dictionaries(bad)).map(lambda t: {**t[0], **t[1]})


VALID: dict[type[BaseModel], st.SearchStrategy[dict[str, Any]]] = {
    CreateCtidRequest: st.fixed_dictionaries(
        {"email": emails},
        optional={"broker_name": names, "preferred_language": languages},
    ),
    LinkAccountRequest: st.fixed_dictionaries(
        {
            "trader_login": ids,
            "trader_password_hash": md5s,
            "user_id": ids,
            "broker_name": names,
            "environment_name": names,
        }
    ),
    ChangeWhiteLabelRequest: st.fixed_dictionaries(
        {"trader_login": ids, "broker_name": names, "environment_name": names}
    ),
    SetReferralRequest: _level(broker_crm_name=names, partner_id=partner_ids),
    ReferralQuery: _level(broker_crm_name=names),
    DeleteReferralRequest: st.fixed_dictionaries(
        {"broker_crm_name": names, "user_id": ids}, optional={"ctid_trader_account_id": ids}
    ),
    ManagerCredentials: st.fixed_dictionaries(
        {"login": ids, "password": st.text(min_size=1, max_size=40)}
    ),
    TraderListQuery: st.tuples(windows(), st.none() | ids).map(
        lambda t: {"from_": t[0][0], "to": t[0][1]} | ({"group_id": t[1]} if t[1] else {})
    ),
    UsersQuery: st.fixed_dictionaries(
        {},
        optional={
            "created_from": st.integers(0, 2**62),
            "limit": st.integers(1, 1000),
            "skip": st.integers(0, 2**40),
        },
    ),
}

INVALID: dict[type[BaseModel], st.SearchStrategy[dict[str, Any]]] = {
    CreateCtidRequest: st.one_of(
        _with(VALID[CreateCtidRequest], email=bad_emails),
        _with(VALID[CreateCtidRequest], preferred_language=bad_languages),
        _with(VALID[CreateCtidRequest], broker_name=bad_names),
    ),
    LinkAccountRequest: st.one_of(
        _with(VALID[LinkAccountRequest], trader_login=bad_ids),
        _with(VALID[LinkAccountRequest], user_id=bad_ids),
        _with(VALID[LinkAccountRequest], trader_password_hash=bad_md5s),
        _with(VALID[LinkAccountRequest], broker_name=bad_names),
        _with(VALID[LinkAccountRequest], environment_name=bad_names),
    ),
    ChangeWhiteLabelRequest: st.one_of(
        _with(VALID[ChangeWhiteLabelRequest], trader_login=bad_ids),
        _with(VALID[ChangeWhiteLabelRequest], broker_name=bad_names),
        _with(VALID[ChangeWhiteLabelRequest], environment_name=bad_names),
    ),
    SetReferralRequest: st.one_of(
        _with(VALID[SetReferralRequest], partner_id=bad_partner_ids),
        _with(VALID[SetReferralRequest], broker_crm_name=bad_names),
        st.fixed_dictionaries(  # both levels
            {
                "broker_crm_name": names,
                "partner_id": partner_ids,
                "user_id": ids,
                "ctid_trader_account_id": ids,
            }
        ),
        st.fixed_dictionaries({"broker_crm_name": names, "partner_id": partner_ids}),  # neither
        _level(broker_crm_name=names, partner_id=partner_ids).map(  # a bad id on its level
            lambda kw: {
                k: (-abs(v) if k.endswith("_id") and k != "partner_id" else v)
                for k, v in kw.items()
            }
        ),
    ),
    ReferralQuery: st.one_of(
        st.fixed_dictionaries(
            {"broker_crm_name": names, "user_id": ids, "ctid_trader_account_id": ids}
        ),
        st.fixed_dictionaries({"broker_crm_name": names}),
        _with(VALID[ReferralQuery], broker_crm_name=bad_names),
        st.fixed_dictionaries({"broker_crm_name": names, "user_id": bad_ids}),
        st.fixed_dictionaries({"broker_crm_name": names, "ctid_trader_account_id": bad_ids}),
    ),
    DeleteReferralRequest: st.one_of(
        st.fixed_dictionaries({"broker_crm_name": names}),  # no userId
        st.fixed_dictionaries({"broker_crm_name": names, "ctid_trader_account_id": ids}),
        _with(VALID[DeleteReferralRequest], user_id=bad_ids),
        _with(VALID[DeleteReferralRequest], ctid_trader_account_id=bad_ids),
        _with(VALID[DeleteReferralRequest], broker_crm_name=bad_names),
    ),
    ManagerCredentials: st.one_of(
        _with(VALID[ManagerCredentials], login=bad_ids),
        _with(VALID[ManagerCredentials], password=st.just("")),
    ),
    TraderListQuery: st.one_of(
        st.fixed_dictionaries({"from_": naive, "to": aware}),
        st.fixed_dictionaries({"from_": aware, "to": naive}),
        st.fixed_dictionaries({"from_": naive, "to": naive}),
        windows().map(lambda w: {"from_": w[1], "to": w[0]}),  # from after to
        aware.map(lambda d: {"from_": d, "to": d}),  # empty window
        _with(VALID[TraderListQuery], group_id=bad_ids),
    ),
    UsersQuery: st.one_of(
        _with(VALID[UsersQuery], created_from=st.integers(max_value=-1)),
        _with(VALID[UsersQuery], limit=st.integers(max_value=0)),
        _with(VALID[UsersQuery], limit=st.integers(min_value=1001)),
        _with(VALID[UsersQuery], skip=st.integers(max_value=-1)),
    ),
}

MODELS = list(VALID)
MODEL_IDS = [m.__name__ for m in MODELS]


def test_every_request_model_is_covered() -> None:
    assert set(VALID) == set(INVALID)
    assert len(MODELS) == 9


# --- invalid input is refused --------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS, ids=MODEL_IDS)
@PROPERTY
@given(data=st.data())
def test_invalid_input_raises_validation_error(model: type[BaseModel], data: st.DataObject) -> None:
    kwargs = data.draw(INVALID[model], label="kwargs")
    with pytest.raises(ValidationError):
        model(**kwargs)


@pytest.mark.parametrize("model", MODELS, ids=MODEL_IDS)
@PROPERTY
@given(data=st.data())
def test_unknown_fields_are_refused(model: type[BaseModel], data: st.DataObject) -> None:
    kwargs = data.draw(VALID[model], label="kwargs")
    extra = data.draw(st.sampled_from(["token", "webservToken", "password2", "kycNotPassed"]))
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        model(**kwargs, **{extra: "x"})


# --- ... and never reaches the transport ---------------------------------------------------------


class Wire:
    """A transport that records every request, answering what each endpoint would."""

    ANSWERS: ClassVar[dict[str, Any]] = {
        "/v2/webserv/managers/token": {"webservToken": TOKEN},
        "/cid/ctid/create": {"userId": 1},
        "/v2/webserv/traders": {"trader": [], "hasMore": False},
        "/v1/users": {"users": []},
    }

    def __init__(self, *, refuse: bool = False) -> None:
        self.refuse = refuse
        self.sent: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        if self.refuse:
            pytest.fail(f"invalid input reached the transport: {request.method} {request.url}")
        answer = self.ANSWERS.get(request.url.path)
        return httpx.Response(200, json=answer) if answer is not None else httpx.Response(200)


def run_with_client(wire: Wire, action: Callable[[ApiClient], Any]) -> Any:
    async def go() -> Any:
        client = ApiClient(
            ConnectionConfig(base_url="https://broker.example:8443"),
            transport=httpx.MockTransport(wire),
            token=TOKEN,
        )
        async with client:
            return await action(client)

    return asyncio.run(go())


async def send(client: ApiClient, model: type[BaseModel], kwargs: dict[str, Any]) -> Any:
    """What a caller does: build the request, hand it to the client (or let the client build it
    for the calls that take plain values)."""
    if model is ManagerCredentials:
        return await client.login(kwargs.get("login"), kwargs.get("password"))  # type: ignore[arg-type]
    if model is UsersQuery and "skip" not in kwargs:
        users = client.iter_users(
            created_from=kwargs.get("created_from", 0), page_size=kwargs.get("limit", 1000)
        )
        return [user async for user in users]
    senders: dict[type[BaseModel], Callable[[Any], Any]] = {
        CreateCtidRequest: client.create_ctid,
        LinkAccountRequest: client.link_account,
        ChangeWhiteLabelRequest: client.change_white_label,
        SetReferralRequest: client.set_referral,
        ReferralQuery: client.get_referral,
        DeleteReferralRequest: client.delete_referral,
        TraderListQuery: client.list_traders,
        UsersQuery: client.list_users,
    }
    return await senders[model](model(**kwargs))


@pytest.mark.parametrize("model", MODELS, ids=MODEL_IDS)
@PROPERTY
@given(data=st.data())
def test_invalid_input_never_reaches_the_transport(
    model: type[BaseModel], data: st.DataObject
) -> None:
    kwargs = data.draw(INVALID[model], label="kwargs")
    wire = Wire(refuse=True)

    with pytest.raises(ValidationError):
        run_with_client(wire, lambda client: send(client, model, kwargs))

    assert wire.sent == []


@PROPERTY
@given(login=st.integers(max_value=0))
def test_get_trader_with_a_bad_login_never_reaches_the_transport(login: int) -> None:
    wire = Wire(refuse=True)
    with pytest.raises(ValueError, match="positive"):
        run_with_client(wire, lambda client: client.get_trader(login))
    assert wire.sent == []


# --- valid input serialises to the documented wire names -----------------------------------------

DOCUMENTED_KEYS: dict[type[BaseModel], tuple[set[str], set[str]]] = {
    # model: (always present, present only when given)
    CreateCtidRequest: ({"email"}, {"brokerName", "preferredLanguage"}),
    LinkAccountRequest: (
        {
            "traderLogin",
            "traderPasswordHash",
            "userId",
            "brokerName",
            "environmentName",
            "returnAccountDetails",
        },
        set(),
    ),
    ChangeWhiteLabelRequest: ({"traderLogin", "brokerName", "environmentName"}, set()),
    SetReferralRequest: ({"brokerCrmName", "partnerId"}, {"userId", "ctidTraderAccountId"}),
    ReferralQuery: ({"brokerCrmName"}, {"userId", "ctidTraderAccountId"}),
    DeleteReferralRequest: ({"brokerCrmName", "userId"}, {"ctidTraderAccountId"}),
    ManagerCredentials: ({"login", "hashedPassword"}, set()),
    TraderListQuery: ({"from", "to"}, {"groupId"}),
    UsersQuery: ({"createdFrom", "limit", "skip"}, set()),
}
SNAKE_TO_WIRE = {
    "email": "email", "broker_name": "brokerName", "preferred_language": "preferredLanguage",
    "trader_login": "traderLogin", "trader_password_hash": "traderPasswordHash",
    "user_id": "userId", "environment_name": "environmentName",
    "broker_crm_name": "brokerCrmName", "partner_id": "partnerId",
    "ctid_trader_account_id": "ctidTraderAccountId", "login": "login", "password": "hashedPassword",
    "from_": "from", "to": "to", "group_id": "groupId", "created_from": "createdFrom",
    "limit": "limit", "skip": "skip",
}  # fmt: skip


@pytest.mark.parametrize("model", MODELS, ids=MODEL_IDS)
@PROPERTY
@given(data=st.data())
def test_valid_input_serialises_to_documented_keys(
    model: type[BaseModel], data: st.DataObject
) -> None:
    kwargs = data.draw(VALID[model], label="kwargs")
    wire = model(**kwargs).wire()  # type: ignore[attr-defined]

    always, optional = DOCUMENTED_KEYS[model]
    given_keys = {SNAKE_TO_WIRE[k] for k in kwargs}
    assert always <= set(wire)
    assert set(wire) - always == given_keys & optional
    json.dumps(wire)  # plain JSON values only

    if model is LinkAccountRequest:
        assert wire["returnAccountDetails"] is True
    if model is CreateCtidRequest:
        assert wire["email"] == kwargs["email"].strip()
        if "preferred_language" in kwargs:
            assert wire["preferredLanguage"] == kwargs["preferred_language"].strip().lower()
    if model is ManagerCredentials:
        assert wire["hashedPassword"] == hashlib.md5(kwargs["password"].encode()).hexdigest()
    if model is TraderListQuery:
        for key, moment in (("from", kwargs["from_"]), ("to", kwargs["to"])):
            assert QUERY_TIME.match(wire[key])
            sent = datetime.strptime(wire[key], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC)
            assert timedelta(0) <= moment - sent < timedelta(milliseconds=1)
    for key in ("traderLogin", "userId", "ctidTraderAccountId", "groupId", "login"):
        if key in wire:
            assert isinstance(wire[key], int)
            assert 0 < wire[key] < 2**63


@pytest.mark.parametrize("model", MODELS, ids=MODEL_IDS)
@settings(max_examples=25, deadline=None, database=None)
@given(data=st.data())
def test_valid_input_is_sent_exactly_as_serialised(
    model: type[BaseModel], data: st.DataObject
) -> None:
    kwargs = data.draw(VALID[model], label="kwargs")
    wire = Wire()

    run_with_client(wire, lambda client: send(client, model, kwargs))

    assert len(wire.sent) == 1
    request = wire.sent[0]
    if model is ManagerCredentials:
        expected = ManagerCredentials(**kwargs).wire()
    elif model is UsersQuery and "skip" not in kwargs:
        expected = UsersQuery(
            created_from=kwargs.get("created_from", 0), limit=kwargs.get("limit", 1000)
        ).wire()
    else:
        expected = model(**kwargs).wire()  # type: ignore[attr-defined]
    params = dict(request.url.params)
    if request.method in ("POST", "PUT"):
        assert json.loads(request.content) == expected
        params.pop("token", None)
        assert params == {}
    else:
        assert request.content == b""
        params.pop("token", None)
        assert params == {k: str(v) for k, v in expected.items()}
