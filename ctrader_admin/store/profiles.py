"""Connection profiles and app settings, stored as one JSON file.

No model here has a secret field: tokens live in the keyring (tokens.py) or in memory, never in
this file. Unknown keys in the file are ignored and dropped on the next save, so a hand-edited
``"token"`` key cannot survive either.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ctrader_admin.errors import ExpectedError
from ctrader_admin.store.atomic import write_private_text
from ctrader_admin.store.paths import AppPaths

log = logging.getLogger(__name__)

ProfileKind = Literal["sandbox", "remote"]

SANDBOX_PROFILE_ID = "sandbox"
MAX_ID_LENGTH = 40
MAX_NAME_LENGTH = 80

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_ENVIRONMENT = re.compile(r"^[A-Za-z0-9._-]+$")


class ProfileError(ExpectedError, ValueError):
    """A profile operation that cannot be done; the message is meant for the operator."""


class ProfileNotFoundError(ProfileError):
    pass


def is_loopback_host(host: str) -> bool:
    """True for hosts that never leave this computer: localhost, 127.0.0.0/8, ::1."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def normalize_base_url(value: str) -> str:
    """``scheme://host[:port]`` in lower case, or ValueError with a sentence for the dialog."""
    parts = urlsplit(value.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not parts.netloc:
        raise ValueError(
            "The server address must look like https://host:port "
            "(for example https://live-mybroker.webapi.ctrader.com:8443)."
        )
    if parts.username is not None or parts.password is not None:
        raise ValueError("The server address must not contain a user name or password.")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(
            "The server address must be only https://host:port, without a path, '?' or '#': "
            "the app adds /v2 and /cid itself."
        )
    host = parts.hostname or ""
    if not host:
        raise ValueError("The server address has no host name.")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("The port must be a number between 1 and 65535.") from None
    if port == 0:
        raise ValueError("The port must be a number between 1 and 65535.")
    if scheme == "http" and not is_loopback_host(host):
        raise ValueError(
            "Plain http:// is allowed only for this computer (localhost, 127.x.x.x or ::1), "
            "e.g. a sandbox started with `ctrader-admin sandbox --port N`. "
            "Use https:// for a remote server."
        )
    return f"{scheme}://{parts.netloc.lower()}"


def normalize_proxy_url(value: str) -> str:
    """``scheme://host:port`` of a proxy, or ValueError with a sentence for the dialog."""
    parts = urlsplit(value.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("The proxy address must look like http://proxy-host:3128.")
    if parts.username is not None or parts.password is not None:
        raise ValueError(
            "Put the proxy's user name in its own field and its password in the keyring, "
            "not in the address."
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("The proxy address must be only http://host:port, without a path.")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("The proxy port must be a number between 1 and 65535.") from None
    if not port:
        raise ValueError("The proxy address needs a port, e.g. http://proxy-host:3128.")
    return f"{scheme}://{parts.netloc.lower()}"


def _clean_names(values: list[str], what: str) -> list[str]:
    cleaned = [v.strip() for v in values]
    if any(not v for v in cleaned):
        raise ValueError(f"A {what} cannot be empty.")
    seen: set[str] = set()
    for v in cleaned:
        if v in seen:
            raise ValueError(f"The {what} {v!r} is listed twice.")
        seen.add(v)
    return cleaned


class Profile(BaseModel):
    """One backend connection as the operator configured it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    name: str
    kind: ProfileKind = "remote"
    base_url: str
    broker_names: list[str]
    broker_crm_name: str
    environments: list[str] = Field(default_factory=lambda: ["demo", "live"])
    manager_login: int | None = None
    color: str = "#4a6fa5"
    live: bool = False
    read_only: bool = False
    ca_bundle: Path | None = None  # checked by the api layer when it builds the client
    write_budget_per_hour: int = 500
    require_reason: bool = True
    require_ticket: bool = False
    remember_token: bool = True
    invite_enabled: bool = True  # email lookup through GET /v1/users
    timeout_seconds: float = 20.0
    # An HTTP(S) proxy every request of this profile goes through (CONNECT); its password is in
    # the keyring (tokens.py). None: straight to the server — never a proxy from the environment.
    proxy_url: str | None = None
    proxy_username: str | None = None

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        value = value.strip()
        if not _SLUG.match(value) or len(value) > MAX_ID_LENGTH:
            raise ValueError(
                f"The profile id must be 1–{MAX_ID_LENGTH} lower-case letters, digits and "
                "single dashes (for example 'acme-live')."
            )
        return value

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("The profile needs a name.")
        if len(value) > MAX_NAME_LENGTH:
            raise ValueError(f"The profile name must be at most {MAX_NAME_LENGTH} characters.")
        return value

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        return normalize_base_url(value)

    @field_validator("broker_names")
    @classmethod
    def _check_broker_names(cls, value: list[str]) -> list[str]:
        value = _clean_names(value, "White Label (brokerName)")
        if not value:
            raise ValueError("Add at least one White Label (brokerName) this manager handles.")
        return value

    @field_validator("broker_crm_name")
    @classmethod
    def _check_crm_name(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("The brokerCrmName is required (Spotware gives it with the WLs).")
        return value

    @field_validator("environments")
    @classmethod
    def _check_environments(cls, value: list[str]) -> list[str]:
        value = _clean_names(value, "environment")
        if not value:
            raise ValueError("Add at least one environment (usually demo and live).")
        for env in value:
            if not _ENVIRONMENT.match(env):
                raise ValueError(
                    f"The environment {env!r} may contain only letters, digits, '.', '_' and '-'."
                )
        return value

    @field_validator("manager_login")
    @classmethod
    def _check_manager_login(cls, value: int | None) -> int | None:
        if value is not None and value <= 0:
            raise ValueError("The manager login must be a positive number.")
        return value

    @field_validator("color")
    @classmethod
    def _check_color(cls, value: str) -> str:
        value = value.strip()
        if not _COLOR.match(value):
            raise ValueError("The colour must be written #RRGGBB (for example #2a9d8f).")
        return value.lower()

    @field_validator("write_budget_per_hour")
    @classmethod
    def _check_budget(cls, value: int) -> int:
        if value < 1:
            raise ValueError("The write budget must allow at least 1 write per hour.")
        return value

    @field_validator("proxy_url")
    @classmethod
    def _check_proxy_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return normalize_proxy_url(value)

    @field_validator("proxy_username")
    @classmethod
    def _check_proxy_username(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if len(value) > 200 or ":" in value:
            raise ValueError("The proxy user name must be at most 200 characters, without ':'.")
        return value

    @field_validator("timeout_seconds")
    @classmethod
    def _check_timeout(cls, value: float) -> float:
        if not 0 < value <= 600:
            raise ValueError("The timeout must be more than 0 and at most 600 seconds.")
        return value


def builtin_sandbox_profile() -> Profile:
    """The profile that is always there: the embedded sandbox, safe to practise on."""
    return Profile(
        id=SANDBOX_PROFILE_ID,
        name="Sandbox",
        kind="sandbox",
        base_url="https://sandbox.local",
        broker_names=["sandbox_main", "sandbox_eu"],
        broker_crm_name="sandbox_crm",
        environments=["demo", "live"],
        manager_login=30001,
        color="#2a9d8f",
        write_budget_per_hour=1000,
    )


def unique_name(wanted: str, taken: set[str]) -> str:
    """``wanted``, or ``wanted (2)``, ``(3)``… so it differs (ignoring case) from ``taken``."""
    lowered = {t.casefold() for t in taken}
    candidate, n = wanted, 1
    while candidate.casefold() in lowered:
        n += 1
        candidate = f"{wanted} ({n})"
    return candidate


def _copy_name(name: str, taken: set[str]) -> str:
    """'Name (copy)', then 'Name (copy 2)', … — free ignoring case, within the length limit."""
    lowered = {t.casefold() for t in taken}
    n = 1
    while True:
        suffix = " (copy)" if n == 1 else f" (copy {n})"
        candidate = name[: MAX_NAME_LENGTH - len(suffix)] + suffix
        if candidate.casefold() not in lowered:
            return candidate
        n += 1


def suggest_id(name: str, taken: set[str]) -> str:
    """A free slug derived from ``name``, for the profile dialog and for duplicates."""
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[: MAX_ID_LENGTH - 4] or "profile"
    base = base.strip("-")
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


class Settings(BaseModel):
    """Everything in settings.json. The built-in sandbox profile is always present."""

    model_config = ConfigDict(extra="ignore")

    profiles: list[Profile] = Field(default_factory=list)
    last_profile_id: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        ids: set[str] = set()
        names: set[str] = set()
        for profile in self.profiles:
            if profile.id in ids:
                raise ValueError(f"Two profiles have the id {profile.id!r}.")
            if profile.name.casefold() in names:
                raise ValueError(f"Two profiles are named {profile.name!r}.")
            ids.add(profile.id)
            names.add(profile.name.casefold())
        sandbox = next((p for p in self.profiles if p.id == SANDBOX_PROFILE_ID), None)
        if sandbox is None:
            builtin = builtin_sandbox_profile()
            builtin = builtin.model_copy(update={"name": unique_name(builtin.name, names)})
            self.profiles.insert(0, builtin)
            ids.add(SANDBOX_PROFILE_ID)
        elif sandbox.kind != "sandbox":
            raise ValueError(f"The profile id {SANDBOX_PROFILE_ID!r} is reserved for the sandbox.")
        if self.last_profile_id not in ids:
            self.last_profile_id = None
        return self

    def get(self, profile_id: str) -> Profile | None:
        return next((p for p in self.profiles if p.id == profile_id), None)


def validation_messages(error: ValidationError) -> dict[str, str]:
    """Field name → first message, worded for a dialog (pydantic's 'Value error, ' removed)."""
    messages: dict[str, str] = {}
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else ""
        message = str(item["msg"]).removeprefix("Value error, ")
        messages.setdefault(field, message)
    return messages


class ProfileStore:
    """Reads and writes settings.json; every change is validated, then saved at once."""

    def __init__(self, paths: AppPaths) -> None:
        self._paths = paths
        self._settings: Settings | None = None
        # Where the last load() moved a corrupt file, so the UI can tell the operator.
        self.recovered_file: Path | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            return self.load()
        return self._settings

    @property
    def profiles(self) -> list[Profile]:
        return list(self.settings.profiles)

    def load(self) -> Settings:
        """Read the file. Missing → defaults; unreadable or invalid → moved aside, defaults.

        Never raises for a bad file: the app must always start.
        """
        self.recovered_file = None
        path = self._paths.settings_file
        try:
            raw = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            self._settings = Settings()
            return self._settings
        except (OSError, UnicodeDecodeError) as exc:
            log.warning("Cannot read %s (%s); using defaults", path, type(exc).__name__)
            self._move_aside(path)
            self._settings = Settings()
            return self._settings
        try:
            self._settings = Settings.model_validate(json.loads(raw))
        except (ValueError, TypeError) as exc:  # JSONDecodeError and ValidationError included
            log.warning(
                "Settings file %s is invalid (%s); using defaults", path, type(exc).__name__
            )
            self._move_aside(path)
            self._settings = Settings()
        return self._settings

    def _move_aside(self, path: Path) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        target = path.with_name(f"{path.name}.corrupt-{stamp}")
        n = 1
        while target.exists():
            n += 1
            target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        try:
            path.replace(target)
        except OSError:
            log.warning("Could not move the bad settings file %s aside", path)
            return
        self.recovered_file = target

    def save(self, settings: Settings) -> None:
        """Validate again (it may have been mutated) and write atomically, owner-only."""
        settings = Settings.model_validate(settings.model_dump())
        self._paths.ensure_config_dir()
        text = json.dumps(settings.model_dump(mode="json"), indent=2, ensure_ascii=False)
        write_private_text(self._paths.settings_file, text + "\n")
        self._settings = settings

    def get(self, profile_id: str) -> Profile:
        profile = self.settings.get(profile_id)
        if profile is None:
            raise ProfileNotFoundError(f"There is no profile with the id {profile_id!r}.")
        return profile

    def add(self, profile: Profile) -> Profile:
        current = self.settings
        self._check_unique(profile, current.profiles)
        self._replace(current, [*current.profiles, profile])
        return profile

    def update(self, profile: Profile) -> Profile:
        """Replace the profile with the same id."""
        current = self.settings
        old = self.get(profile.id)
        if old.id == SANDBOX_PROFILE_ID and profile.kind != "sandbox":
            raise ProfileError("The built-in sandbox profile must stay a sandbox profile.")
        others = [p for p in current.profiles if p.id != profile.id]
        self._check_unique(profile, others)
        self._replace(current, [profile if p.id == profile.id else p for p in current.profiles])
        return profile

    def duplicate(self, profile_id: str) -> Profile:
        """A copy with a new id and the name '… (copy)', added right after the original."""
        current = self.settings
        source = self.get(profile_id)
        ids = {p.id for p in current.profiles}
        names = {p.name for p in current.profiles}
        copy_name = _copy_name(source.name, names)
        copy = Profile.model_validate(
            source.model_dump() | {"id": suggest_id(f"{source.id}-copy", ids), "name": copy_name}
        )
        index = current.profiles.index(source) + 1
        self._replace(current, [*current.profiles[:index], copy, *current.profiles[index:]])
        return copy

    def delete(self, profile_id: str) -> None:
        if profile_id == SANDBOX_PROFILE_ID:
            raise ProfileError("The built-in sandbox profile cannot be deleted.")
        current = self.settings
        self.get(profile_id)
        self._replace(current, [p for p in current.profiles if p.id != profile_id])

    def set_last_profile(self, profile_id: str | None) -> None:
        if profile_id is not None:
            self.get(profile_id)
        self.save(self.settings.model_copy(update={"last_profile_id": profile_id}))

    @staticmethod
    def _check_unique(profile: Profile, others: list[Profile]) -> None:
        if any(p.id == profile.id for p in others):
            raise ProfileError(f"A profile with the id {profile.id!r} already exists.")
        if any(p.name.casefold() == profile.name.casefold() for p in others):
            raise ProfileError(f"A profile named {profile.name!r} already exists.")

    def _replace(self, current: Settings, profiles: list[Profile]) -> None:
        self.save(Settings(profiles=profiles, last_profile_id=current.last_profile_id))
