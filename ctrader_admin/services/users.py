"""Create cTID users."""

from __future__ import annotations

from dataclasses import dataclass

from ctrader_admin.api import CreateCtidRequest, CtidUser
from ctrader_admin.services.session import Session, WriteIntent
from ctrader_admin.services.validation import build, white_label_of


@dataclass(frozen=True)
class CreatedUser:
    user: CtidUser
    created: bool  # False: the backend returned the existing user of this email

    @property
    def user_id(self) -> int:
        return self.user.user_id


async def create_user(
    session: Session,
    *,
    email: str,
    broker_name: str | None,
    language: str | None,
    reason: str = "",
    ticket: str = "",
) -> CreatedUser:
    if broker_name and broker_name.strip():
        broker_name = white_label_of(session.profile, broker_name)
    request = build(
        CreateCtidRequest,
        email=email,
        broker_name=broker_name or None,
        preferred_language=language or None,
    )
    intent = WriteIntent(
        action="create_user",
        target=f"email:{request.email}",
        before=None,
        after=None,
        reason=reason,
        ticket=ticket,
        broker_name=request.broker_name,
        request=request.wire(),
    )
    result = await session.write(intent, lambda: session.client.create_ctid(request))
    session.directory.upsert_user(
        session.profile.id,
        result.user.user_id,
        email=request.email,
        broker_name=request.broker_name,
        preferred_language=request.preferred_language,
        created_ms=result.user.utc_create_timestamp,
        source="created" if result.created else "create-existing",
    )
    return CreatedUser(user=result.user, created=result.created)
