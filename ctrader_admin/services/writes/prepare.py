"""``prepare(session, change)``: check the change, read its target's value once, resolve a link's
owner once, and judge it (write / skip / error) with the exact request. Nothing is written.
Single writes, bulk planning and reverts all start here."""

from __future__ import annotations

from dataclasses import replace

from pydantic import ValidationError

from ctrader_admin.api import (
    ApiError,
    ChangeWhiteLabelRequest,
    CreateCtidRequest,
    DeleteReferralRequest,
    Forbidden,
    LinkAccountRequest,
    NotFound,
    SetReferralRequest,
)
from ctrader_admin.redaction import register_secret
from ctrader_admin.services.errors import InvalidInput, ServiceError
from ctrader_admin.services.session import Session
from ctrader_admin.services.validation import (
    build,
    environment_of,
    problems_of,
    white_label_of,
)
from ctrader_admin.services.writes.changes import (
    Change,
    LinkAccount,
    NewUser,
    PartnerCode,
    ValueChange,
    WhiteLabel,
)
from ctrader_admin.services.writes.prepared import Prepared, Problem, Verdict
from ctrader_admin.services.writes.reading import Current, link_owner, read_current
from ctrader_admin.services.writes.requests import WriteRequest
from ctrader_admin.services.writes.targets import (
    AccountTarget,
    EmailTarget,
    LinkTarget,
    UserTarget,
)
from ctrader_admin.store.profiles import Profile


def _refused(change: Change, problem: Problem, exc: InvalidInput) -> Prepared:
    return Prepared(
        change, _target_of(change), "error", problem=problem, problems=exc.problems, failure=exc
    )


def _target_of(change: Change) -> UserTarget | LinkTarget | AccountTarget:
    match change:
        case PartnerCode(target=target):
            return target
        case WhiteLabel(account=account) | LinkAccount(account=account):
            return account
        case NewUser():
            raise AssertionError("a new user has no target before it is prepared")


def validate_partner_id(partner_id: str) -> str:
    """Check a partnerId typed by an operator, before any request (the form's live check)."""
    request = build(SetReferralRequest, broker_crm_name="x", user_id=1, partner_id=partner_id)
    return request.partner_id


async def prepare(session: Session, change: Change) -> Prepared:
    """The verdict on ``change``. Read failures and bad input become an error verdict (see
    ``Prepared.check``); only a lost log-in is raised, since nothing else can go on."""
    match change:
        case NewUser():
            return _new_user(session, change)
        case LinkAccount():
            return _link(session, change)
    try:
        checked = check(session, change)
    except InvalidInput as exc:
        no_rights = isinstance(change, WhiteLabel) and "White Label" in exc.problems
        return _refused(change, "no_rights" if no_rights else "invalid", exc)
    target = checked.target
    assert not isinstance(target, EmailTarget)
    try:
        current = await read_current(session, target)
    except (NotFound, Forbidden) as exc:
        kind: Problem = "not_found" if isinstance(exc, NotFound) else "no_rights"
        return Prepared(change, target, "error", problem=kind, failure=exc)
    except ApiError as exc:
        if exc.needs_login:
            raise
        return Prepared(change, target, "error", problem="read_failed", failure=exc)
    return judge(session, checked, current)


def check(session: Session, change: ValueChange) -> Prepared:
    """The checks that need no backend: the change with its request, not yet judged (verdict
    write, current unknown). Raises InvalidInput naming each bad field."""
    if isinstance(change, WhiteLabel):
        environment = environment_of(session.profile, change.account.environment)
        broker_name = white_label_of(session.profile, change.broker_name)
        account = AccountTarget(change.account.login, environment)
        request = build(
            ChangeWhiteLabelRequest,
            trader_login=account.login,
            broker_name=broker_name,
            environment_name=environment,
        )
        change = WhiteLabel(account, broker_name)
        return Prepared(change, account, "write", request=request, environment=environment)
    if change.code is None and isinstance(change.target, LinkTarget):
        return Prepared(change, change.target, "write")  # the request needs the link's owner
    partner_request = _partner_request(session, change.target, change.code)
    if isinstance(partner_request, SetReferralRequest):
        change = PartnerCode(change.target, partner_request.partner_id)  # as it will be sent
    return Prepared(change, change.target, "write", request=partner_request)


def judged(session: Session, change: ValueChange, current: Current) -> Prepared:
    """``prepare`` with the value already read (a bulk job's re-check); InvalidInput for a
    change that fails the checks."""
    return judge(session, check(session, change), current)


def judge(session: Session, checked: Prepared, current: Current) -> Prepared:
    """The verdict once the target's value is known: skip when it is already as asked, an
    error when the link's owner is not who the operator said, else the exact request."""
    change = checked.change
    if isinstance(change, WhiteLabel):
        verdict: Verdict = "skip" if current.value == change.broker_name else "write"
        return replace(checked, verdict=verdict, current=current.value, broker_name=current.value)
    assert isinstance(change, PartnerCode)
    target = change.target
    if isinstance(target, LinkTarget):
        known = link_owner(session, target, current.owner)
        if target.owner is not None and known is not None and known != target.owner:
            mismatch = f"account link {target.ctid} belongs to user {known}, not {target.owner}"
            return replace(
                checked,
                verdict="error",
                current=current.value,
                problem="mismatch",
                problems={"userId": mismatch},
                failure=ServiceError(mismatch),
            )
        target = replace(target, owner=target.owner or known)
    base = replace(checked, target=target, current=current.value)
    if current.value == change.code:
        return replace(base, verdict="skip")
    if checked.request is not None:
        return base
    try:
        request = _partner_request(session, target, change.code)
    except InvalidInput as exc:
        return replace(base, verdict="error", problem="invalid", problems=exc.problems, failure=exc)
    return replace(base, request=request)


def _partner_request(
    session: Session, target: UserTarget | LinkTarget, code: str | None
) -> WriteRequest:
    crm = session.profile.broker_crm_name
    ids: dict[str, int | None] = (
        {"user_id": target.user_id}
        if isinstance(target, UserTarget)
        else {"ctid_trader_account_id": target.ctid}
    )
    if code is not None:
        return build(SetReferralRequest, broker_crm_name=crm, partner_id=code, **ids)
    if isinstance(target, LinkTarget):
        if target.owner is None:
            raise InvalidInput(
                {
                    "userId": "the owner of this account link is not known locally; "
                    "look the account up first or give its userId"
                }
            )
        ids["user_id"] = target.owner  # the backend wants the link's owner too
    return build(DeleteReferralRequest, broker_crm_name=crm, **ids)


def _link(session: Session, change: LinkAccount) -> Prepared:
    # Registered before anything else: typed into the wrong field (the reason, say), it is
    # masked in the journal and the logs like the manager's password.
    register_secret(change.password.get_secret_value())
    try:
        if not change.password.get_secret_value():
            raise InvalidInput({"Account password": "is required"})
        environment = environment_of(session.profile, change.account.environment)
        broker_name = white_label_of(session.profile, change.broker_name)
        try:
            request = LinkAccountRequest.with_password(
                password=change.password,
                trader_login=change.account.login,
                user_id=change.user_id,
                broker_name=broker_name,
                environment_name=environment,
            )
        except ValidationError as exc:
            raise InvalidInput(problems_of(exc)) from None
    except InvalidInput as exc:
        return _refused(change, "invalid", exc)
    account = AccountTarget(change.account.login, environment)
    change = replace(change, account=account, broker_name=broker_name)
    return Prepared(
        change,
        account,
        "write",
        request=request,
        broker_name=broker_name,
        environment=environment,
    )


def new_user_request(profile: Profile, change: NewUser) -> CreateCtidRequest:
    """The request that creates the user, or InvalidInput naming each bad field (the form checks
    with this too, before it asks for confirmation)."""
    if not change.email.strip():
        raise InvalidInput({"Email": "is required"})
    broker_name = change.broker_name
    if broker_name and broker_name.strip():
        broker_name = white_label_of(profile, broker_name)
    return build(
        CreateCtidRequest,
        email=change.email,
        broker_name=broker_name or None,
        preferred_language=change.language or None,
    )


def _new_user(session: Session, change: NewUser) -> Prepared:
    try:
        request = new_user_request(session.profile, change)
    except InvalidInput as exc:
        return Prepared(
            change,
            EmailTarget(change.email),
            "error",
            problem="invalid",
            problems=exc.problems,
            failure=exc,
        )
    return Prepared(
        change,
        EmailTarget(request.email),
        "write",
        request=request,
        broker_name=request.broker_name,
    )
