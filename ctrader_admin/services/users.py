"""Create cTID users (prepared and applied by the write model, ``services/writes``)."""

from __future__ import annotations

from dataclasses import dataclass

from ctrader_admin.api import CreateCtidRequest, CreateCtidResult, CtidUser
from ctrader_admin.services.session import Session
from ctrader_admin.services.writes import Applied, NewUser, apply, prepare


@dataclass(frozen=True)
class CreatedUser:
    user: CtidUser
    created: bool  # False: the backend returned the existing user of this email

    @property
    def user_id(self) -> int:
        return self.user.user_id


def created(session: Session, applied: Applied) -> CreatedUser:
    """What an applied creation returned, remembered in the local directory."""
    request, result = applied.prepared.request, applied.result
    assert isinstance(request, CreateCtidRequest)
    assert isinstance(result, CreateCtidResult)
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


async def create_user(
    session: Session,
    *,
    email: str,
    broker_name: str | None,
    language: str | None,
    reason: str = "",
    ticket: str = "",
) -> CreatedUser:
    prepared = await prepare(session, NewUser(email, broker_name, language))
    prepared.check()
    return created(session, await apply(session, prepared, reason=reason, ticket=ticket))
