"""New cTrader Invite attributions on a live sandbox, so that incremental pulls can be shown.

Not part of Spotware's API: used by POST /_sandbox/invitations, ``Sandbox.add_invitations`` and
``ctrader-admin sandbox --invite-every``. New rows are stamped at the sandbox clock, one
millisecond apart and always after every row already there, so "everything since the last
createdFrom" is exactly the new rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .records import Invitation, User
from .storage import FIRST_USER_ID, Tx

MAX_NEW_INVITATIONS = 1_000_000


class InvitationRequestError(ValueError):
    """The request cannot be served; the message says why, in a trainer's words."""


@dataclass(frozen=True)
class ExplicitInvitation:
    invited_user_id: int
    partner_user_id: int
    broker_partner_id: str | None = None
    create_ts: int | None = None


def parse_request(body: Any) -> tuple[int, int | None, list[ExplicitInvitation]]:
    """(count, partnerUserId, explicit rows) from the control endpoint's JSON body:
    ``{"count": N, "partnerUserId": P?}`` or ``{"invitations": [{"invitedUserId",
    "partnerUserId", "brokerPartnerId"?, "createTimestamp"?}, ...]}``."""
    if not isinstance(body, Mapping):
        raise InvitationRequestError("expected a JSON object")
    unknown = sorted(set(body) - {"count", "partnerUserId", "invitations"})
    if unknown:
        raise InvitationRequestError(f"unknown keys {unknown}")
    if ("count" in body) == ("invitations" in body):
        raise InvitationRequestError("give either 'count' or 'invitations'")
    partner = _optional_int(body, "partnerUserId")
    if "count" in body:
        return _int(body, "count"), partner, []
    rows = body["invitations"]
    if not isinstance(rows, list) or not rows:
        raise InvitationRequestError("'invitations' must be a non-empty list")
    explicit = []
    for row in rows:
        if not isinstance(row, Mapping):
            raise InvitationRequestError("each invitation must be an object")
        code = row.get("brokerPartnerId")
        if code is not None and not isinstance(code, str):
            raise InvitationRequestError("'brokerPartnerId' must be a string")
        explicit.append(
            ExplicitInvitation(
                _int(row, "invitedUserId"),
                _int(row, "partnerUserId"),
                code,
                _optional_int(row, "createTimestamp"),
            )
        )
    return 0, partner, explicit


def add_invitations(
    tx: Tx,
    now_ms: int,
    *,
    count: int = 0,
    partner_user_id: int | None = None,
    explicit: Sequence[ExplicitInvitation] = (),
) -> list[Invitation]:
    """``count`` new users who signed up through a partner's Invite link (the given partner, else
    the plant's partners in turn), or the ``explicit`` rows between existing users."""
    if not 0 <= count <= MAX_NEW_INVITATIONS:
        raise InvitationRequestError(f"count must be within 0..{MAX_NEW_INVITATIONS}")
    latest = tx.latest_invitation_ts()
    start = now_ms if latest is None else max(now_ms, latest + 1)
    if explicit:
        rows = [_explicit_row(tx, row, start + i) for i, row in enumerate(explicit)]
    else:
        rows = _new_signups(tx, count, partner_user_id, start)
    tx.add_invitations(rows)
    return rows


def _explicit_row(tx: Tx, row: ExplicitInvitation, default_ts: int) -> Invitation:
    invited = _existing_user(tx, row.invited_user_id, "invitedUserId")
    _existing_user(tx, row.partner_user_id, "partnerUserId")
    code = row.broker_partner_id
    if code is None:
        code = _broker_partner_id(tx, row.partner_user_id)
    when = default_ts if row.create_ts is None else row.create_ts
    return Invitation(invited.user_id, row.partner_user_id, code, invited.broker_name, when)


def _new_signups(tx: Tx, count: int, partner_user_id: int | None, start: int) -> list[Invitation]:
    if partner_user_id is not None:
        partner_ids = [_existing_user(tx, partner_user_id, "partnerUserId").user_id]
    else:
        partner_ids = [p for p, _ in tx.partner_codes()]
        if not partner_ids and count:
            raise InvitationRequestError(
                "this sandbox has no partner with a code yet: give partnerUserId"
            )
    # (userId, brokerPartnerId, White Label): an invitee signs up on the partner's White Label.
    partners = [
        (p, _broker_partner_id(tx, p), _existing_user(tx, p, "partnerUserId").broker_name)
        for p in partner_ids
    ]
    first_id = max(FIRST_USER_ID, tx.max_user_id() + 1)
    users: list[User] = []
    rows: list[Invitation] = []
    for i in range(count):
        partner_id, code, broker = partners[i % len(partners)]
        user_id, at = first_id + i, start + i
        users.append(
            User(
                user_id,
                f"invited.{user_id}@inbox.test",
                f"ctid{user_id}",
                broker,
                "en",
                "CTID_NEW",
                at,
            )
        )
        rows.append(Invitation(user_id, partner_id, code, broker, at))
    tx.add_users(users)
    return rows


def _broker_partner_id(tx: Tx, partner_user_id: int) -> str | None:
    """What the broker answered Invite's webhook with: its CRM code for the partner, else the
    code registered in cTrader, else nothing ("if known")."""
    crm = tx.crm_partner_code(partner_user_id)
    if crm is not None:
        return crm
    return dict(tx.partner_codes()).get(partner_user_id)


def _existing_user(tx: Tx, user_id: int, key: str) -> User:
    user = tx.user(user_id)
    if user is None:
        raise InvitationRequestError(f"'{key}' {user_id} is not a user of this sandbox")
    return user


def _int(body: Mapping[str, Any], key: str) -> int:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvitationRequestError(f"'{key}' must be an integer")
    return value


def _optional_int(body: Mapping[str, Any], key: str) -> int | None:
    return None if body.get(key) is None else _int(body, key)
