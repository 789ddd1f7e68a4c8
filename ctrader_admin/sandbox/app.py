"""The Sandbox: state, knobs, request log, the Starlette app, and read helpers for tests."""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.routing import Route

from .calls import Call, Reply
from .config import SandboxConfig
from .control import control_routes
from .errors import ApiError, Code
from .faults import FaultScript, ScriptedFault
from .handlers.invite import invitation_json
from .invitations import ExplicitInvitation, add_invitations, parse_request
from .pipeline import Pipeline
from .request_log import LoggedRequest, RequestLog
from .routes import ENDPOINTS, Endpoint
from .seed import seed_plant
from .storage import Storage
from .trader_view import trader_to
from .transport import InProcessTransport

_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def _unknown_endpoint(call: Call) -> Reply:
    raise ApiError(404, Code.NOT_FOUND, "No such endpoint on this server")


# Anything the sandbox does not serve: answered in the dialect's error shape, and logged.
_FALLBACK = Endpoint("*", "/{path:path}", _unknown_endpoint, "none")


# One row per trading-account link, and one per user without a link. The first six columns are
# what the directory import reads; the last three are the CRM's partner programme: the person's
# own partner code (empty: not a partner), the code of the partner the CRM attributed the
# client to (empty: a direct client) and when (ISO 8601, UTC). The CRM's partner columns repeat
# on every row of one userId.
CRM_EXPORT_COLUMNS = (
    "userId",
    "email",
    "login",
    "ctidTraderAccountId",
    "brokerName",
    "environment",
    "partnerCode",
    "referredByPartnerCode",
    "referredAt",
)


class Sandbox:
    """A cTrader broker backend for one plant, in one SQLite database.

    ``config`` may be changed at runtime (dialect, faults, latency, cap); the next request sees it.
    """

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self._storage = Storage(self.config.db_path)
        try:
            with self._storage.transaction() as tx:
                # A file keeps its state: seed only a new, empty database.
                if tx.is_empty():
                    now_ms = int(self.config.clock() * 1000)
                    seed_plant(tx, self.config.seed, self.config.users, now_ms)
        except BaseException:
            self._storage.close()
            raise
        self._log = RequestLog(self.config.request_log_limit)
        self._script = FaultScript()
        pipeline = Pipeline(
            lambda: self.config, self._storage, self._log, self.config.seed, self._script
        )
        routes = [Route(e.path, pipeline.endpoint(e), methods=[e.method]) for e in ENDPOINTS]
        routes += control_routes(
            lambda: self.config, self._log, self._add_invitations_json, self._script
        )
        routes.append(Route(_FALLBACK.path, pipeline.endpoint(_FALLBACK), methods=_ALL_METHODS))
        self.app = Starlette(routes=routes)

    def transport(self) -> httpx.AsyncBaseTransport:
        """An in-process transport for ``httpx.AsyncClient(transport=...)``: no port opened."""
        return InProcessTransport(self.app, lambda: self.config.dialect)

    # --- request log ---------------------------------------------------------------------------

    @property
    def request_log(self) -> list[LoggedRequest]:
        """A copy, in arrival order."""
        return self._log.entries()

    def clear_log(self) -> None:
        self._log.clear()

    def wait_until_idle(self, timeout: float = 30.0) -> bool:
        """Wait until no request is being served (a stalled one is logged only when it ends)."""
        return self._log.wait_until_idle(timeout)

    # --- scripted faults -----------------------------------------------------------------------

    def script_faults(self, *writes: ScriptedFault) -> None:
        """The faults of the next write requests, in order (faults.FaultScript), replacing any
        left; none given: clear the script."""
        self._script.replace(writes)

    def scripted_faults(self) -> list[ScriptedFault]:
        """The scripted faults not used yet."""
        return self._script.pending()

    # --- state changes outside the API ---------------------------------------------------------

    def invalidate_token(self, manager_login: int) -> None:
        """The manager's token stops working, as after a password change."""
        with self._storage.transaction() as tx:
            tx.invalidate_token(manager_login)

    # --- direct reads for tests and benchmarks (no HTTP, no faults, not logged) ----------------

    def referral(
        self, *, user_id: int | None = None, ctid_trader_account_id: int | None = None
    ) -> str | None:
        """The partnerId at user level (user_id) or on one link (ctid_trader_account_id)."""
        if (user_id is None) == (ctid_trader_account_id is None):
            raise ValueError("give exactly one of user_id and ctid_trader_account_id")
        with self._storage.transaction() as tx:
            if user_id is not None:
                return tx.user_referral(user_id)
            assert ctid_trader_account_id is not None
            return tx.account_referral(ctid_trader_account_id)

    def trader(self, login: int) -> dict[str, Any] | None:
        """The TraderTO as GET /v2/webserv/traders/{login} would return it."""
        with self._storage.transaction() as tx:
            found = tx.trader(login)
        return None if found is None else trader_to(*found)

    def user(self, user_id: int) -> dict[str, Any] | None:
        """The stored cTID user (the API has no read for it)."""
        with self._storage.transaction() as tx:
            user = tx.user(user_id)
        return None if user is None else dataclasses.asdict(user)

    def link(
        self, *, trader_login: int | None = None, ctid_trader_account_id: int | None = None
    ) -> dict[str, Any] | None:
        """The user-account link of a trading account or with this id."""
        if (trader_login is None) == (ctid_trader_account_id is None):
            raise ValueError("give exactly one of trader_login and ctid_trader_account_id")
        with self._storage.transaction() as tx:
            if trader_login is not None:
                found = tx.link_of_trader(trader_login)
            else:
                assert ctid_trader_account_id is not None
                found = tx.link(ctid_trader_account_id)
        return None if found is None else dataclasses.asdict(found)

    def logins(
        self,
        *,
        broker_name: str | None = None,
        environment: str | None = None,
        linked: bool | None = None,
    ) -> list[int]:
        """Trading-account logins matching every given filter, ascending."""
        with self._storage.transaction() as tx:
            return tx.logins(broker_name, environment, linked)

    def crm_export_csv(self) -> str:
        """The broker CRM's export (CRM_EXPORT_COLUMNS): users and links for the directory
        import, and the CRM's partner codes and client attributions, which disagree with
        cTrader in a few rows on purpose (attribution_seed.py)."""
        with self._storage.transaction() as tx:
            rows = tx.crm_rows()
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CRM_EXPORT_COLUMNS)
        for *directory, own_code, referred_by, referred_ms in rows:
            referred_at = "" if referred_ms is None else _iso_utc(referred_ms)
            values = [*directory, own_code, referred_by, referred_at]
            writer.writerow(["" if value is None else value for value in values])
        return out.getvalue()

    # --- cTrader Invite, over time -------------------------------------------------------------

    def add_invitations(
        self,
        count: int = 0,
        *,
        partner_user_id: int | None = None,
        rows: Sequence[ExplicitInvitation] = (),
    ) -> list[dict[str, Any]]:
        """New Invite attributions stamped at the sandbox clock, after every existing one:
        ``count`` new users invited by ``partner_user_id`` (else the partners in turn), or the
        explicit ``rows``. Returns them as GET /v1/social/invitedUsers lists them."""
        now_ms = int(self.config.clock() * 1000)
        with self._storage.transaction() as tx:
            added = add_invitations(
                tx, now_ms, count=count, partner_user_id=partner_user_id, explicit=rows
            )
        return [invitation_json(row) for row in added]

    def _add_invitations_json(self, body: Any) -> dict[str, Any]:
        count, partner, explicit = parse_request(body)
        added = self.add_invitations(count, partner_user_id=partner, rows=explicit)
        summary: dict[str, Any] = {"added": len(added)}
        if added:
            summary["firstCreateTimestamp"] = added[0]["createTimestamp"]
            summary["lastCreateTimestamp"] = added[-1]["createTimestamp"]
            summary["invitedUsers"] = added[:1000]  # all of a small batch; a big one is paged
        return summary

    def writes_in_window(self, start: float, end: float) -> int:
        """Accepted (not rate-limited) writes that arrived in [start, end), by config.clock."""
        with self._storage.transaction() as tx:
            return tx.writes_between(start, end)

    def close(self) -> None:
        self._storage.close()


def _iso_utc(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
