"""The token and passwords never leave memory in clear (docs/design.md rule 5)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import logging
import traceback
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from ctrader_admin import redaction
from ctrader_admin.api import (
    ApiConnectionError,
    ApiError,
    ApiTimeoutError,
    CreateCtidRequest,
    LinkAccountRequest,
    OutcomeUnknown,
    ReferralQuery,
    ResponseValidationError,
    ServerError,
    StatusError,
    Unauthorized,
    UsersQuery,
)
from ctrader_admin.api.errors import BadRequest, InvalidCredentials, error_from_response
from ctrader_admin.api.models import ManagerCredentials
from ctrader_admin.log_redaction import install_log_redaction
from ctrader_admin.redaction import MASK, AppText, redact, register_secret


def unique(prefix: str) -> str:
    """A fresh secret per test: the registry is process-wide, so tests must not share values."""
    return f"{prefix}-{uuid.uuid4().hex}"


# --- redact() ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "GET https://h:8443/v2/webserv/traders/7?token=3c1d-aa&x=1",
            "GET https://h:8443/v2/webserv/traders/7?token=***&x=1",
        ),
        (
            "https://h/cid/ctid/create?brokerName=wl&token=zz9",
            "https://h/cid/ctid/create?brokerName=wl&token=***",
        ),
        ("<Request('GET', 'https://h/x?token=abc')>", "<Request('GET', 'https://h/x?token=***')>"),
        ("webservToken=abc def", "webservToken=*** def"),
        ('{"webservToken": "0f3e-77"}', '{"webservToken": "***"}'),
        ('{"webservToken":"0f3e-77","n":1}', '{"webservToken":"***","n":1}'),
        (
            '{"login": 1001, "hashedPassword": "5f4dcc3b5aa765d61d8327deb882cf99"}',
            '{"login": 1001, "hashedPassword": "***"}',
        ),
        (
            '{"traderLogin": 7, "traderPasswordHash": "e10adc3949ba59abbe56e057f20f883e"}',
            '{"traderLogin": 7, "traderPasswordHash": "***"}',
        ),
        ("{'token': 'abc', 'login': 7}", "{'token': '***', 'login': 7}"),
        ("{'password': 'hunter2'}", "{'password': '***'}"),
        ("Authorization: Bearer eyJhbGciOi.x-y_z", "Authorization: Bearer ***"),
        ("authorization: basic dXNlcjpwYXNz", "authorization: basic ***"),
        ('{"Authorization": "Bearer 0f3e-77"}', '{"Authorization": "Bearer ***"}'),
        ("{'authorization': 'Bearer 0f3e-77'}", "{'authorization': 'Bearer ***'}"),
    ],
)
def test_redact_by_position(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "GET /v2/webserv/traders?from=2024-01-01T00:00:00.000&groupId=3",
        '{"brokerCrmName": "sandbox_crm", "partnerId": "IB-0042", "userId": 41}',
        "tokenizer tokens are fine; so is the word token alone",
        "Authorization required",
        "",
    ],
)
def test_redact_leaves_ordinary_text_alone(text: str) -> None:
    assert redact(text) == text


def test_registered_secret_is_masked_wherever_it_appears_as_a_whole_token() -> None:
    secret = unique("sek")
    register_secret(secret)

    assert redact(f"({secret})") == f"({MASK})"
    assert redact(f"{secret} and again {secret}.") == f"{MASK} and again {MASK}."
    assert redact(json.dumps({"note": secret})) == json.dumps({"note": MASK})
    assert redact(f"/x/{secret}?a={secret}&b") == f"/x/{MASK}?a={MASK}&b"
    # Inside a longer word it is another word: a password "sandbox" leaves "sandbox_main".
    assert redact(f"x{secret}y") == f"x{secret}y"


def test_a_secret_that_extends_another_is_masked_whole() -> None:
    short = unique("pre")
    long = short + "-tail-part"
    register_secret(short)
    register_secret(long)

    assert redact(f"[{long}]") == f"[{MASK}]"
    assert "tail-part" not in redact(long)


def test_short_and_empty_secrets_are_not_tracked() -> None:
    word = uuid.uuid4().hex[:5]  # below the minimum length: would mask ordinary words
    register_secret(word)
    register_secret("")
    register_secret(None)

    assert redact(f"the {word} stays") == f"the {word} stays"


# --- nothing leaks from a working session --------------------------------------------------------


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """Everything logged anywhere in the process, formatted as a file handler would."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


def test_session_never_leaks_token_or_passwords(
    router: respx.MockRouter,
    make_client: Any,
    caplog: pytest.LogCaptureFixture,
    log_stream: io.StringIO,
) -> None:
    for name in (None, "httpx", "httpcore", "ctrader_admin"):
        caplog.set_level(logging.DEBUG, logger=name)
    token = unique("tok")  # issued by the server, never passed in by the test
    password = unique("mgr-pw")
    hashed = hashlib.md5(password.encode()).hexdigest()
    account_password = unique("acct-pw")
    account_hash = hashlib.md5(account_password.encode()).hexdigest()
    secrets = [token, password, hashed, account_password, account_hash]
    url9 = f"https://broker.example:8443/v2/webserv/traders/9?token={token}"

    router.post("/v2/webserv/managers/token").respond(200, json={"webservToken": token})
    router.get("/v2/webserv/traders/7").mock(  # retried once, then fine
        side_effect=[
            httpx.Response(503, text=f"<html>upstream {url9} failed for {token}</html>"),
            httpx.Response(200, json={"login": 7}),
        ]
    )
    router.get("/v2/webserv/traders/8").respond(
        401,
        json={"error": {"errorCode": "CID_NON_EXISTED_TOKEN", "description": f"{token} unknown"}},
    )
    router.get("/v2/webserv/traders/9").mock(side_effect=httpx.ReadTimeout(f"timed out: {url9}"))
    router.get("/v2/webserv/traders/10").respond(502, text=f"bad gateway for token={token}")
    router.post("/cid/ctid/create").mock(
        side_effect=httpx.RemoteProtocolError(f"peer closed while sending {url9}")
    )
    router.post("/cid/ctid/link").respond(
        400,
        json={
            "errorCode": "WRONG_PASSWORD",
            "description": f"traderPasswordHash {account_hash} does not match",
        },
    )
    router.get("/cid/oauth2/ctid/referral").respond(200, text=f"<p>token={token}; {token}</p>")
    router.get("/v1/users").mock(
        side_effect=httpx.ConnectError(f"refused; headers Authorization: Bearer {token}")
    )

    errors: list[ApiError] = []

    async def session() -> str:
        async with make_client(token=None) as client:
            await client.login(1001, password)
            await client.get_trader(7)
            for action in (
                lambda: client.get_trader(8),
                lambda: client.get_trader(9),
                lambda: client.get_trader(10),
                lambda: client.create_ctid(CreateCtidRequest(email="ana@example.com")),
                lambda: client.link_account(
                    LinkAccountRequest.with_password(
                        password=account_password,
                        trader_login=3000123,
                        user_id=41,
                        broker_name="sandbox_main",
                        environment_name="live",
                    )
                ),
                lambda: client.get_referral(ReferralQuery(broker_crm_name="c", user_id=41)),
                lambda: client.list_users(UsersQuery()),
            ):
                try:
                    await action()
                except ApiError as exc:
                    errors.append(exc)
                    logging.getLogger("ctrader_admin.ui").warning("call failed: %r", exc)
                    logging.getLogger("ctrader_admin.ui").exception("details: %s", exc.detail)
            return repr(client)

    client_repr = asyncio.run(session())

    # The scenario happened as intended (else the scan below would prove nothing).
    assert [type(e) for e in errors] == [
        Unauthorized,
        ApiTimeoutError,
        ServerError,
        OutcomeUnknown,
        BadRequest,
        ResponseValidationError,
        ApiConnectionError,
    ]
    assert f"{MASK} unknown" in str(errors[0])
    logs = log_stream.getvalue()
    assert (
        f"HTTP Request: GET https://broker.example:8443/v2/webserv/traders/7?token={MASK}" in logs
    )
    assert "retry 1" in logs
    assert "Traceback" in logs
    assert client_repr == "ApiClient('https://broker.example:8443', logged in)"

    texts = [logs, caplog.text, client_repr]
    for record in caplog.records:
        texts += [record.getMessage(), record.exc_text or ""]
    for error in errors:
        texts += [str(error), repr(error), error.message, error.detail or "", *map(str, error.args)]
        texts.append("".join(traceback.format_exception(error)))
        if isinstance(error, StatusError):
            texts.append(error.description or "")
        if isinstance(error, OutcomeUnknown):
            texts.append(error.what_to_check)
    blob = "\n".join(texts)
    for secret in secrets:
        assert secret not in blob
    assert MASK in blob


def test_log_exception_with_the_token_in_its_message_is_redacted(
    router: respx.MockRouter,
    make_client: Any,
    caplog: pytest.LogCaptureFixture,
    log_stream: io.StringIO,
) -> None:
    caplog.set_level(logging.DEBUG)
    token = unique("tok")
    make_client(token=token)  # seeing the token registers it
    log = logging.getLogger("ctrader_admin.services.demo")

    try:
        raise RuntimeError(f"backend rejected {token} (url ...?token={token}&n=1)")
    except RuntimeError:
        log.exception("operation failed with %s", token)

    (record,) = [r for r in caplog.records if r.exc_text]
    assert record.exc_info is None  # no handler can format the raw exception unredacted
    assert f"RuntimeError: backend rejected {MASK} (url ...?token={MASK}&n=1)" in record.exc_text
    assert record.getMessage() == f"operation failed with {MASK}"
    for text in (record.exc_text, record.getMessage(), caplog.text, log_stream.getvalue()):
        assert token not in text
    assert "RuntimeError: backend rejected ***" in log_stream.getvalue()


def test_log_redaction_masks_token_urls_even_when_never_registered(
    caplog: pytest.LogCaptureFixture, log_stream: io.StringIO
) -> None:
    install_log_redaction()
    caplog.set_level(logging.DEBUG)
    stranger = unique("unregistered")
    log = logging.getLogger("httpx")

    log.info("HTTP Request: %s %s", "GET", f"https://h/v2/webserv/traders/7?token={stranger}")
    try:
        raise ValueError(f'body was {{"webservToken": "{stranger}"}}')
    except ValueError:
        log.exception("parse failed")

    assert stranger not in log_stream.getvalue()
    assert stranger not in caplog.text
    assert "token=***" in log_stream.getvalue()
    assert '{"webservToken": "***"}' in log_stream.getvalue()


def test_request_models_do_not_show_passwords() -> None:
    password = unique("pw")
    credentials = ManagerCredentials(login=1001, password=password)

    assert password not in repr(credentials)
    assert password not in str(credentials)
    assert password not in json.dumps(credentials.wire())
    assert credentials.wire()["hashedPassword"] == hashlib.md5(password.encode()).hexdigest()


# --- the app's own words are never rewritten ----------------------------------------------------

WRONG_LOGIN = "The manager login or password is wrong."
# Passwords that are words of the app's sentences (or of the backend's codes).
WORDY_PASSWORDS = ["password", "login", "the", "manager", "wrong", "is wrong.", "account"]


@pytest.fixture
def own_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Word-like secrets registered by a test stay in that test (the registry is process-wide:
    "password" registered for good would mask the word in every later test)."""
    monkeypatch.setattr(redaction, "_known_secrets", set(redaction._known_secrets))


@pytest.mark.usefixtures("own_registry")
@pytest.mark.parametrize("password", WORDY_PASSWORDS)
def test_a_wrong_password_that_is_a_word_leaves_the_message_readable(
    router: respx.MockRouter,
    make_client: Any,
    caplog: pytest.LogCaptureFixture,
    log_stream: io.StringIO,
    password: str,
) -> None:
    install_log_redaction()
    caplog.set_level(logging.DEBUG)
    router.post("/v2/webserv/managers/token").respond(
        401, json={"errorCode": "WRONG_PASSWORD", "description": "Wrong password"}
    )
    router.post("/cid/ctid/link").respond(400, json={"errorCode": "WRONG_PASSWORD"})
    register_secret(password)  # what login() does, whatever its length

    async def session() -> tuple[ApiError, ApiError]:
        async with make_client(token="tok-" + uuid.uuid4().hex) as client:
            with pytest.raises(InvalidCredentials) as login:
                await client.login(1001, password)
            with pytest.raises(BadRequest) as link:
                await client.link_account(
                    LinkAccountRequest.with_password(
                        password="trader-" + uuid.uuid4().hex,
                        trader_login=7,
                        user_id=41,
                        broker_name="wl",
                        environment_name="demo",
                    )
                )
            return login.value, link.value

    login, link = asyncio.run(session())
    log = logging.getLogger("ctrader_admin.ui")
    log.warning("Log-in refused: %s", login)
    log.warning("Log-in refused: %r", login)
    try:
        raise RuntimeError("the dialog failed") from login
    except RuntimeError:
        log.exception("while logging in")

    assert login.message == WRONG_LOGIN
    assert str(login) == WRONG_LOGIN
    assert link.message == "The trading account password is wrong. (WRONG_PASSWORD)"
    logged = log_stream.getvalue()
    assert f"Log-in refused: {WRONG_LOGIN}" in logged
    assert f"Log-in refused: InvalidCredentials({WRONG_LOGIN!r})" in logged
    assert f"InvalidCredentials: {WRONG_LOGIN}" in logged  # in the traceback
    assert MASK not in logged.replace("token=***", "")


@pytest.mark.usefixtures("own_registry")
def test_outside_text_is_still_masked_next_to_the_apps_words() -> None:
    register_secret("password")
    register_secret("hunter2-plus")
    body = json.dumps({"errorCode": "X_UNKNOWN", "description": "got hunter2-plus as password"})

    error = error_from_response(400, body.encode())

    # The backend's words are outside text: masked where they enter the app's sentence.
    assert error.message == f"got {MASK} as {MASK} (X_UNKNOWN)"
    assert redact(AppText(WRONG_LOGIN)) == WRONG_LOGIN
    assert isinstance(redact(AppText(WRONG_LOGIN)), AppText)
    assert redact(AppText("see ?token=abc")) == f"see ?token={MASK}"  # positions still apply
    quoted = f"{WRONG_LOGIN} — the user typed password again"
    assert redact(quoted, keep=[WRONG_LOGIN]) == f"{WRONG_LOGIN} — the user typed {MASK} again"
