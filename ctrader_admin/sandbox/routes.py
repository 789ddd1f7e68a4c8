"""The Spotware endpoints the sandbox serves, and how each is protected."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .calls import Handler
from .handlers import ctid, invite, referral, token, traders

Auth = Literal["none", "query", "bearer"]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    auth: Auth  # "query": ?token=  "bearer": Authorization: Bearer (the /v1 Invite reads)
    takes_body: bool = False
    invite: bool = False  # exists only while dialect.invite_enabled

    @property
    def is_write(self) -> bool:
        return self.method != "GET"

    @property
    def guarded(self) -> bool:
        """Rate limits and faults apply to every endpoint except the token endpoint."""
        return self.auth != "none"


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("POST", "/v2/webserv/managers/token", token.issue_token, "none", takes_body=True),
    Endpoint("POST", "/cid/ctid/create", ctid.create_user, "query", takes_body=True),
    Endpoint("POST", "/cid/ctid/link", ctid.link_account, "query", takes_body=True),
    Endpoint(
        "POST",
        "/cid/ctid/changeCtidTraderAccount",
        ctid.change_white_label,
        "query",
        takes_body=True,
    ),
    Endpoint("PUT", "/cid/oauth2/ctid/referral", referral.put_referral, "query", takes_body=True),
    Endpoint("GET", "/cid/oauth2/ctid/referral", referral.get_referral, "query"),
    Endpoint("DELETE", "/cid/oauth2/ctid/referral", referral.delete_referral, "query"),
    Endpoint("GET", "/v2/webserv/traders/{login}", traders.get_trader, "query"),
    Endpoint("GET", "/v2/webserv/traders", traders.list_traders, "query"),
    Endpoint("GET", "/v2/webserv/tradergroups", traders.list_trader_groups, "query"),
    Endpoint("GET", "/v1/users", invite.list_users, "bearer", invite=True),
    Endpoint("GET", "/v1/social/invitedUsers", invite.list_invited_users, "bearer", invite=True),
)
