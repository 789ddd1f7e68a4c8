"""The sandbox's knobs: which documented variant it speaks, which faults it injects, and the rest.

Every knob may be changed on a live sandbox (``sandbox.config.faults = Faults(...)``); the next
request sees the new value.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, get_args

ErrorShape = Literal["nested", "flat", "toplevel"]
RateLimitStatus = Literal[400, 429]
AuthFailureStatus = Literal[401, 403]
ReferralRead = Literal["object", "array"]
ReferralNone = Literal["empty", "404"]
ReferralPutBody = Literal["ids", "empty"]
ReferralDeleteMissing = Literal["ok", "error"]
ChangeWlBody = Literal["empty", "ids"]


def _check_choice(name: str, value: object, allowed: object) -> None:
    choices = get_args(allowed)
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices!r}, not {value!r}")


@dataclass
class Dialect:
    """Which variant the sandbox speaks where Spotware's docs leave a choice (docs/sandbox.md)."""

    error_shape: ErrorShape = "nested"
    rate_limit_status: RateLimitStatus = 400
    auth_failure_status: AuthFailureStatus = 401
    referral_read: ReferralRead = "object"
    # Object mode only: no record -> 200 with an empty body, or 404 REFERRAL_NOT_FOUND.
    referral_none: ReferralNone = "empty"
    referral_put_body: ReferralPutBody = "ids"
    referral_delete_missing: ReferralDeleteMissing = "ok"
    change_wl_body: ChangeWlBody = "empty"
    invite_enabled: bool = True

    def __post_init__(self) -> None:
        _check_choice("error_shape", self.error_shape, ErrorShape)
        _check_choice("rate_limit_status", self.rate_limit_status, RateLimitStatus)
        _check_choice("auth_failure_status", self.auth_failure_status, AuthFailureStatus)
        _check_choice("referral_read", self.referral_read, ReferralRead)
        _check_choice("referral_none", self.referral_none, ReferralNone)
        _check_choice("referral_put_body", self.referral_put_body, ReferralPutBody)
        _check_choice(
            "referral_delete_missing", self.referral_delete_missing, ReferralDeleteMissing
        )
        _check_choice("change_wl_body", self.change_wl_body, ChangeWlBody)
        if not isinstance(self.invite_enabled, bool):
            raise ValueError("invite_enabled must be a bool")


DIALECTS: dict[str, Dialect] = {
    "default": Dialect(),
    # Every right-hand-column variant of docs/sandbox.md at once.
    "variant": Dialect(
        error_shape="flat",
        rate_limit_status=429,
        auth_failure_status=403,
        referral_read="array",
        referral_put_body="empty",
        referral_delete_missing="error",
        change_wl_body="ids",
        invite_enabled=False,
    ),
    "toplevel": Dialect(error_shape="toplevel", referral_none="404"),
}


@dataclass
class Faults:
    """Injected failures. Each rate is the probability, per request, of that fault.

    One seeded draw per eligible request picks at most one fault, so the rates are exact as long
    as they add up to at most 1. The token endpoint and the /_sandbox control endpoints are never
    faulted.
    """

    # 500 UNKNOWN_ERROR, nothing applied.
    error_rate: float = 0.0
    # The connection is cut before a complete response; nothing applied.
    drop_rate: float = 0.0
    # Sleep first; a client that gave up meanwhile is not served (nothing applied).
    stall_before_rate: float = 0.0
    # Apply first, then sleep before answering: the client times out but the write happened.
    stall_after_rate: float = 0.0
    stall_seconds: float = 30.0
    writes_only: bool = False

    def __post_init__(self) -> None:
        for name in ("error_rate", "drop_rate", "stall_before_rate", "stall_after_rate"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{name} must be a number")
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], not {value!r}")
        if isinstance(self.stall_seconds, bool) or not isinstance(self.stall_seconds, int | float):
            raise ValueError("stall_seconds must be a number")
        if self.stall_seconds < 0:
            raise ValueError("stall_seconds must not be negative")
        if not isinstance(self.writes_only, bool):
            raise ValueError("writes_only must be a bool")

    @property
    def any(self) -> bool:
        return (
            self.error_rate + self.drop_rate + self.stall_before_rate + self.stall_after_rate
        ) > 0.0


@dataclass
class SandboxConfig:
    """How one sandbox is built and how it behaves."""

    # ":memory:" or a file path; a file keeps its state across restarts and is seeded only once.
    db_path: str = ":memory:"
    # Drives the seed data and the fault and jitter draws, so runs are reproducible.
    seed: int = 20260101
    users: int = 300
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    # Non-GET requests accepted per rolling hour for the whole plant; None = no cap.
    write_cap_per_hour: int | None = 1000
    traders_page_size: int = 100_000
    dialect: Dialect = field(default_factory=Dialect)
    faults: Faults = field(default_factory=Faults)
    clock: Callable[[], float] = time.time
    # True: every API request gets a bare 403 (no error code), as a gateway answers an IP address
    # that is not whitelisted; for training and for Test connection's tests.
    refuse_as_not_whitelisted: bool = False
    # The request log keeps the newest entries only, so a long benchmark cannot exhaust memory.
    request_log_limit: int = 100_000

    def __post_init__(self) -> None:
        if self.users < 0:
            raise ValueError("users must not be negative")
        if self.latency_ms < 0 or self.jitter_ms < 0:
            raise ValueError("latency_ms and jitter_ms must not be negative")
        if self.write_cap_per_hour is not None and self.write_cap_per_hour < 0:
            raise ValueError("write_cap_per_hour must be None or >= 0")
        if self.traders_page_size < 1:
            raise ValueError("traders_page_size must be at least 1")
        if self.request_log_limit < 1:
            raise ValueError("request_log_limit must be at least 1")
