"""Connection profiles and app settings, stored as one JSON file.

No model here has a secret field: tokens live in the keyring (tokens.py) or in memory, never in
this file. Unknown keys in the file are ignored and dropped on the next save, so a hand-edited
``"token"`` key cannot survive either.

Size (~600 lines): about fifty short definitions — the settings file's models and the checks that
belong to its schema; reading and writing the file is a small part.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ctrader_admin.errors import ExpectedError
from ctrader_admin.store.atomic import write_private_text
from ctrader_admin.store.ownership import exclusive
from ctrader_admin.store.paths import AppPaths

log = logging.getLogger(__name__)

ProfileKind = Literal["sandbox", "remote"]

SANDBOX_PROFILE_ID = "sandbox"
_LOCK_NAME = "settings.json.lock"
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
    # cTrader Invite's guaranteed attribution period for this broker, in days (the conflict
    # report says whether a disputed client is still inside it).
    attribution_period_days: int = 90
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

    @field_validator("attribution_period_days")
    @classmethod
    def _check_period(cls, value: int) -> int:
        if not 0 <= value <= 3650:
            raise ValueError("The guaranteed attribution period must be 0–3650 days.")
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


def conflict_with(profile: Profile, others: list[Profile]) -> str | None:
    """Why ``profile`` cannot sit beside ``others`` in one settings file, or None."""
    if any(p.id == profile.id for p in others):
        return f"Two profiles have the id {profile.id!r}."
    if any(p.name.casefold() == profile.name.casefold() for p in others):
        return f"Two profiles are named {profile.name!r}."
    if profile.id == SANDBOX_PROFILE_ID and profile.kind != "sandbox":
        return f"The profile id {SANDBOX_PROFILE_ID!r} is reserved for the sandbox."
    return None


class Settings(BaseModel):
    """Everything in settings.json. The built-in sandbox profile is always present."""

    model_config = ConfigDict(extra="ignore")

    profiles: list[Profile] = Field(default_factory=list)
    last_profile_id: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        for index, profile in enumerate(self.profiles):
            problem = conflict_with(profile, self.profiles[:index])
            if problem is not None:
                raise ValueError(problem)
        if self.get(SANDBOX_PROFILE_ID) is None:
            builtin = builtin_sandbox_profile()
            names = {p.name for p in self.profiles}
            builtin = builtin.model_copy(update={"name": unique_name(builtin.name, names)})
            self.profiles.insert(0, builtin)
        if self.get(self.last_profile_id or "") is None:
            self.last_profile_id = None
        return self

    def get(self, profile_id: str) -> Profile | None:
        return next((p for p in self.profiles if p.id == profile_id), None)

    def find(self, wanted: str) -> Profile:
        """The one resolver of ``--profile``: an id, else a name (any case; names are unique
        regardless of case). Raises ProfileNotFoundError naming the profiles that exist."""
        text = wanted.strip()
        found = self.get(text) or next(
            (p for p in self.profiles if p.name.casefold() == text.casefold()), None
        )
        if found is None:
            known = ", ".join(f"{p.id} ({p.name})" for p in self.profiles)
            raise ProfileNotFoundError(f"There is no profile {wanted!r}. Known profiles: {known}.")
        return found


def validation_messages(error: ValidationError) -> dict[str, str]:
    """Field name → first message, worded for a dialog (pydantic's 'Value error, ' removed)."""
    messages: dict[str, str] = {}
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else ""
        message = str(item["msg"]).removeprefix("Value error, ")
        messages.setdefault(field, message)
    return messages


@dataclass(frozen=True)
class BrokenProfile:
    """One entry of the settings file that could not be loaded, and why (for the operator)."""

    entry: int  # 1-based position in the file's "profiles" list
    label: str  # its name or id as written, else "entry N"
    problem: str
    raw: object  # the entry exactly as it was in the file, kept for the operator to recover


def _label(raw: object, entry: int) -> str:
    if isinstance(raw, dict):
        for key in ("name", "id"):
            value = raw.get(key)
            if isinstance(value, str) and value.strip():
                return f"{value.strip()!r}"
    return f"entry {entry}"


def _problem(error: ValidationError) -> str:
    """The first problem of each field, as sentences naming the field as written in the file."""
    messages = validation_messages(error)
    missing = [field for field, message in messages.items() if message == "Field required"]
    sentences = [
        f"{message.rstrip('.')} ({field})." if field else f"{message.rstrip('.')}."
        for field, message in messages.items()
        if field not in missing
    ]
    if missing:
        sentences.append(f"Missing: {', '.join(missing)}.")
    return " ".join(sentences)


def _read_profiles(data: object) -> tuple[Settings, list[BrokenProfile]]:
    """The file's valid profiles as Settings, and the entries that are not: one bad profile must
    not cost the operator the others. ValueError when the file's shape itself is wrong."""
    if not isinstance(data, dict):
        raise ValueError("the settings file is not a JSON object")
    entries = data.get("profiles", [])
    if not isinstance(entries, list):
        raise ValueError("'profiles' is not a list")
    good: list[Profile] = []
    broken: list[BrokenProfile] = []
    for entry, raw in enumerate(entries, start=1):
        try:
            profile = Profile.model_validate(raw)
        except ValidationError as exc:
            broken.append(BrokenProfile(entry, _label(raw, entry), _problem(exc), raw))
            continue
        problem = conflict_with(profile, good)
        if problem is not None:
            broken.append(BrokenProfile(entry, _label(raw, entry), problem, raw))
            continue
        good.append(profile)
    last = data.get("last_profile_id")
    return Settings(profiles=good, last_profile_id=last if isinstance(last, str) else None), broken


class ProfileStore:
    """Reads and writes settings.json; every change is validated, then saved at once."""

    def __init__(self, paths: AppPaths) -> None:
        self._paths = paths
        self._settings: Settings | None = None
        # Where the last load() put what it could not use (the whole file, or its broken
        # profiles), and what it could not use, in sentences for the operator.
        self.recovered_file: Path | None = None
        self.problems: list[str] = []

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            return self.load()
        return self._settings

    @property
    def profiles(self) -> list[Profile]:
        return list(self.settings.profiles)

    def load(self, *, repair: bool = True) -> Settings:
        """Read the file. Missing → defaults. Unreadable or not settings at all → moved aside,
        defaults. A profile that is invalid → set aside alone into a ``settings.broken-….json``
        beside the file, the others load. ``problems`` says what happened, in words.

        ``repair=False`` only reads (nothing is moved or rewritten, ``problems`` stays empty):
        for a peek that must leave the reporting to the load that follows.
        Never raises for a bad file: the app must always start.
        """
        self.recovered_file = None
        self.problems = []
        path = self._paths.settings_file
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            settings, broken = _read_profiles(data)
        except FileNotFoundError:
            self._settings = Settings()
            return self._settings
        except (OSError, ValueError) as exc:  # UnicodeDecodeError and JSONDecodeError included
            log.warning("Settings file %s is unusable (%s); using defaults", path, exc)
            self._settings = Settings()
            if repair:
                self._move_aside(path)
            return self._settings
        self._settings = settings
        if broken and repair:
            self._set_aside(path, settings, broken)
        return settings

    def _move_aside(self, path: Path) -> None:
        target = _free_name(path.with_name(f"{path.name}.corrupt-{_stamp()}"))
        try:
            path.replace(target)
        except OSError:
            log.warning("Could not move the bad settings file %s aside", path)
            self.problems.append(
                f"The settings file {path} cannot be read; the app runs on the built-in "
                "sandbox profile until it is fixed or removed."
            )
            return
        self.recovered_file = target
        self.problems.append(
            f"The settings file could not be read, so every profile was set aside in {target}; "
            "the app runs on the built-in sandbox profile."
        )

    def _set_aside(self, path: Path, settings: Settings, broken: list[BrokenProfile]) -> None:
        """Write the broken entries, as they were, to a file of their own, then the file without
        them: they are told once, kept for the operator, and the next save cannot drop them."""
        target = _free_name(path.with_name(f"{path.stem}.broken-{_stamp()}.json"))
        kept = {
            "note": "Profiles that ctrader-admin could not load. Fix them, then add them back "
            "(Profiles… → Add, or into the 'profiles' list of settings.json).",
            "problems": [f"{b.label} (entry {b.entry}): {b.problem}" for b in broken],
            "profiles": [b.raw for b in broken],
        }
        where = f"It is kept in {target}"
        try:
            write_private_text(target, json.dumps(kept, indent=2, ensure_ascii=False) + "\n")
        except OSError as exc:
            log.warning("Could not write %s (%s); settings.json is left as it is", target, exc)
            where = "It is ignored for now; settings.json is left as it is"
        else:
            self.recovered_file = target
            try:
                self.save(settings)
            except OSError as exc:  # the broken entries are safe in target either way
                log.warning("Could not rewrite %s without the broken profiles (%s)", path, exc)
        for b in broken:
            log.warning("Profile %s (entry %d) set aside: %s", b.label, b.entry, b.problem)
            self.problems.append(
                f"The profile {b.label} could not be loaded: {b.problem} {where}; "
                "the other profiles are loaded."
            )

    def save(self, settings: Settings) -> None:
        """Validate again (it may have been mutated) and write atomically, owner-only."""
        settings = Settings.model_validate(settings.model_dump())
        self._paths.ensure_config_dir()
        text = json.dumps(settings.model_dump(mode="json"), indent=2, ensure_ascii=False)
        write_private_text(self._paths.settings_file, text + "\n")
        self._settings = settings

    def get(self, profile_id: str) -> Profile:
        return _existing(self.settings, profile_id)

    def add(self, profile: Profile) -> Profile:
        def edit(current: Settings) -> list[Profile]:
            self._check_unique(profile, current.profiles)
            return [*current.profiles, profile]

        self._change_profiles(edit)
        return profile

    def update(self, profile: Profile) -> Profile:
        """Replace the profile with the same id."""
        if profile.id == SANDBOX_PROFILE_ID and profile.kind != "sandbox":
            raise ProfileError("The built-in sandbox profile must stay a sandbox profile.")

        def edit(current: Settings) -> list[Profile]:
            _existing(current, profile.id)
            others = [p for p in current.profiles if p.id != profile.id]
            self._check_unique(profile, others)
            return [profile if p.id == profile.id else p for p in current.profiles]

        self._change_profiles(edit)
        return profile

    def duplicate(self, profile_id: str) -> Profile:
        """A copy with a new id and the name '… (copy)', added right after the original."""
        made: list[Profile] = []

        def edit(current: Settings) -> list[Profile]:
            source = _existing(current, profile_id)
            ids = {p.id for p in current.profiles}
            copy_name = _copy_name(source.name, {p.name for p in current.profiles})
            copy = Profile.model_validate(
                source.model_dump()
                | {"id": suggest_id(f"{source.id}-copy", ids), "name": copy_name}
            )
            made.append(copy)
            index = current.profiles.index(source) + 1
            return [*current.profiles[:index], copy, *current.profiles[index:]]

        self._change_profiles(edit)
        return made[0]

    def delete(self, profile_id: str) -> None:
        if profile_id == SANDBOX_PROFILE_ID:
            raise ProfileError("The built-in sandbox profile cannot be deleted.")

        def edit(current: Settings) -> list[Profile]:
            _existing(current, profile_id)
            return [p for p in current.profiles if p.id != profile_id]

        self._change_profiles(edit)

    def set_last_profile(self, profile_id: str | None) -> None:
        def edit(current: Settings) -> Settings:
            if profile_id is not None:
                _existing(current, profile_id)
            return current.model_copy(update={"last_profile_id": profile_id})

        self._change(edit)

    @staticmethod
    def _check_unique(profile: Profile, others: list[Profile]) -> None:
        if any(p.id == profile.id for p in others):
            raise ProfileError(f"A profile with the id {profile.id!r} already exists.")
        if any(p.name.casefold() == profile.name.casefold() for p in others):
            raise ProfileError(f"A profile named {profile.name!r} already exists.")

    def _change_profiles(self, edit: Callable[[Settings], list[Profile]]) -> None:
        self._change(
            lambda current: Settings(
                profiles=edit(current), last_profile_id=current.last_profile_id
            )
        )

    def _change(self, edit: Callable[[Settings], Settings]) -> None:
        """Read the file afresh, edit, save, all under the settings lock: what another process
        saved meanwhile (a profile the CLI added while the app runs, its last profile) is kept
        instead of being overwritten by this process's older copy."""
        self._paths.ensure_config_dir()
        told, recovered = self.problems, self.recovered_file  # not told yet, maybe
        with exclusive(self._paths.settings_file.with_name(_LOCK_NAME)):
            fresh = self.load()
            self.problems = [*told, *self.problems]
            self.recovered_file = self.recovered_file or recovered
            self.save(edit(fresh))


def _existing(settings: Settings, profile_id: str) -> Profile:
    profile = settings.get(profile_id)
    if profile is None:
        raise ProfileNotFoundError(f"There is no profile with the id {profile_id!r}.")
    return profile


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def _free_name(target: Path) -> Path:
    """``target``, or the same name with -2, -3… before the suffix, whichever does not exist."""
    candidate, n = target, 1
    while candidate.exists():
        n += 1
        suffix = ".json" if target.name.endswith(".json") else ""
        candidate = target.with_name(f"{target.name.removesuffix(suffix)}-{n}{suffix}")
    return candidate
