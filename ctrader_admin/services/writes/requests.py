"""The exact request of a prepared write: how it is sent, and how a plan shows it."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from ctrader_admin.api import (
    ApiClient,
    ChangeWhiteLabelRequest,
    CreateCtidRequest,
    DeleteReferralRequest,
    LinkAccountRequest,
    SetReferralRequest,
)

WriteRequest = (
    SetReferralRequest
    | DeleteReferralRequest
    | ChangeWhiteLabelRequest
    | LinkAccountRequest
    | CreateCtidRequest
)
REFERRAL_PATH = "/cid/oauth2/ctid/referral"
MOVE_WL_PATH = "/cid/ctid/changeCtidTraderAccount"
LINK_PATH = "/cid/ctid/link"
CREATE_PATH = "/cid/ctid/create"


class Call(BaseModel):
    """The request a write sends, as the backend will see it, without the token."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: Literal["PUT", "DELETE", "POST"]
    path: str
    body: dict[str, Any] | None = None
    query: dict[str, Any] | None = None

    def describe(self) -> str:
        params = self.query or self.body or {}
        inner = ", ".join(f"{key}={value}" for key, value in params.items())
        return f"{self.method} {self.path} {{{inner}}}"


def call_of(request: WriteRequest) -> Call:
    wire = request.wire()
    match request:
        case SetReferralRequest():
            return Call(method="PUT", path=REFERRAL_PATH, body=wire)
        case DeleteReferralRequest():
            return Call(method="DELETE", path=REFERRAL_PATH, query=wire)
        case ChangeWhiteLabelRequest():
            return Call(method="POST", path=MOVE_WL_PATH, body=wire)
        case LinkAccountRequest():
            return Call(method="POST", path=LINK_PATH, body=wire)
        case CreateCtidRequest():
            return Call(method="POST", path=CREATE_PATH, body=wire)


def send(client: ApiClient, request: WriteRequest) -> Awaitable[object]:
    """The client call that sends ``request``."""
    match request:
        case SetReferralRequest():
            return client.set_referral(request)
        case DeleteReferralRequest():
            return client.delete_referral(request)
        case ChangeWhiteLabelRequest():
            return client.change_white_label(request)
        case LinkAccountRequest():
            return client.link_account(request)
        case CreateCtidRequest():
            return client.create_ctid(request)
