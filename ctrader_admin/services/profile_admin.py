"""Profile administration: the rules behind any editor of connection profiles (the Profiles
dialog today) — what a form's text becomes, what may change on which profile, a new profile's
defaults, naming and duplicate checks, and the marks the list shows. No widgets here: the dialog
only shows what these functions decide."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ctrader_admin.errors import ExpectedError
from ctrader_admin.ids import NotAnId, parse_id
from ctrader_admin.store.profiles import (
    SANDBOX_PROFILE_ID,
    Profile,
    ProfileStore,
    suggest_id,
    unique_name,
    validation_messages,
)

# Profile field → the words on its label, in the order the form shows them.
FIELD_LABELS: dict[str, str] = {
    "name": "Name",
    "id": "Profile id",
    "color": "Colour",
    "base_url": "Server URL",
    "ca_bundle": "CA bundle",
    "timeout_seconds": "Timeout",
    "proxy_url": "Proxy",
    "proxy_username": "Proxy user",
    "broker_names": "White Labels",
    "broker_crm_name": "brokerCrmName",
    "environments": "Environments",
    "manager_login": "Manager login",
    "write_budget_per_hour": "Write budget",
    "attribution_period_days": "Attribution period",
}

_LIST_SEPARATORS = re.compile(r"[,;\r\n]+")
_LINE_BREAKS = re.compile(r"[\s,;]*[\r\n][\s,;]*")
_HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def split_names(text: str) -> list[str]:
    """'a, b' or one per line → ['a', 'b']; empty pieces (a trailing comma) are dropped."""
    return [part.strip() for part in _LIST_SEPARATORS.split(text) if part.strip()]


def join_lines(text: str) -> str:
    """A pasted column (one name per line) as 'a, b', for a one-line field."""
    if "\n" not in text and "\r" not in text:
        return text
    return _LINE_BREAKS.sub(", ", text).strip(", ")


def is_colour(text: str) -> bool:
    return bool(_HEX_COLOUR.match(text))


@dataclass(frozen=True)
class ProfileInput:
    """A profile as a form holds it: text as typed (lists on one line, the login as text), so
    that what the operator sees, what is compared for unsaved edits and what is validated are
    one value."""

    id: str
    name: str
    color: str
    base_url: str
    ca_bundle: str
    timeout_seconds: float
    proxy_url: str
    proxy_username: str
    broker_names: str
    broker_crm_name: str
    environments: str
    manager_login: str
    live: bool
    read_only: bool
    write_budget_per_hour: int
    attribution_period_days: int
    require_reason: bool
    require_ticket: bool
    remember_token: bool
    invite_enabled: bool

    @classmethod
    def of(cls, profile: Profile) -> ProfileInput:
        return cls.from_values(profile.model_dump())

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> ProfileInput:
        login = values["manager_login"]
        return cls(
            id=str(values["id"]),
            name=str(values["name"]),
            color=str(values["color"]),
            base_url=str(values["base_url"]),
            ca_bundle=str(values["ca_bundle"] or ""),
            timeout_seconds=float(values["timeout_seconds"]),
            proxy_url=str(values.get("proxy_url") or ""),
            proxy_username=str(values.get("proxy_username") or ""),
            broker_names=", ".join(values["broker_names"]),
            broker_crm_name=str(values["broker_crm_name"]),
            environments=", ".join(values["environments"]),
            manager_login="" if login is None else str(login),
            live=bool(values["live"]),
            read_only=bool(values["read_only"]),
            write_budget_per_hour=int(values["write_budget_per_hour"]),
            attribution_period_days=int(values.get("attribution_period_days", 90)),
            require_reason=bool(values["require_reason"]),
            require_ticket=bool(values["require_ticket"]),
            remember_token=bool(values["remember_token"]),
            invite_enabled=bool(values["invite_enabled"]),
        )


class ProfileInvalid(ExpectedError):
    """A profile that cannot be saved as it is. ``problems`` maps a Profile field ('' for the
    profile as a whole) to what is wrong, for the form to mark; the message lists them all."""

    def __init__(self, problems: dict[str, str]) -> None:
        ordered = [f for f in FIELD_LABELS if f in problems]
        ordered += [f for f in problems if f not in FIELD_LABELS]
        self.problems = {field: problems[field] for field in ordered}
        lines = []
        for field, message in self.problems.items():
            label = FIELD_LABELS.get(field)
            lines.append(f"{label}: {message}" if label else message)
        if len(lines) == 1:
            text = f"Not saved. {lines[0]}"
        else:
            text = "Not saved. Please correct:\n" + "\n".join(f"• {line}" for line in lines)
        super().__init__(text)


@dataclass(frozen=True)
class Editable:
    """What the operator may change on the profile in an editor."""

    draft: bool  # a new profile, not saved yet
    builtin: bool  # the built-in sandbox
    sandbox: bool  # a sandbox profile: its connection is the app's, not the operator's

    @property
    def id(self) -> bool:
        """The id cannot change once saved: the journal and the keyring refer to it."""
        return self.draft

    @property
    def connection(self) -> bool:
        return not self.sandbox

    @property
    def deletable(self) -> bool:
        return not self.builtin

    @property
    def duplicable(self) -> bool:
        return not self.draft


def editable(stored: Profile | None) -> Editable:
    """The rules for ``stored`` (None: a new profile)."""
    return Editable(
        draft=stored is None,
        builtin=stored is not None and stored.id == SANDBOX_PROFILE_ID,
        sandbox=stored is not None and stored.kind == "sandbox",
    )


def profile_from_input(form: ProfileInput, stored: Profile | None) -> Profile:
    """The profile the form describes, replacing ``stored`` (None: a new one); ProfileInvalid
    names every field that is wrong. A sandbox's connection is kept whatever the form says."""
    problems: dict[str, str] = {}
    login: int | None = None
    try:
        login = parse_id(form.manager_login.strip())
    except NotAnId as exc:
        problems["manager_login"] = f"The manager login {exc.reason}, for example 30001."
    sandbox = stored is not None and stored.kind == "sandbox"
    ca_text = form.ca_bundle.strip()
    values: dict[str, Any] = {
        "id": form.id.strip(),
        "name": form.name,
        "kind": stored.kind if stored is not None else "remote",
        "base_url": stored.base_url if sandbox and stored else form.base_url,
        "ca_bundle": (
            stored.ca_bundle
            if sandbox and stored
            else (Path(ca_text).expanduser() if ca_text else None)
        ),
        "timeout_seconds": form.timeout_seconds,
        "proxy_url": None if sandbox else form.proxy_url,
        "proxy_username": None if sandbox else form.proxy_username,
        "broker_names": split_names(form.broker_names),
        "broker_crm_name": form.broker_crm_name,
        "environments": split_names(form.environments),
        "manager_login": login,
        "color": form.color,
        "live": form.live,
        "read_only": form.read_only,
        "write_budget_per_hour": form.write_budget_per_hour,
        "attribution_period_days": form.attribution_period_days,
        "require_reason": form.require_reason,
        "require_ticket": form.require_ticket,
        "remember_token": form.remember_token,
        "invite_enabled": form.invite_enabled,
    }
    try:
        profile = Profile.model_validate(values)
    except ValidationError as exc:
        raise ProfileInvalid(validation_messages(exc) | problems) from None
    if problems:
        raise ProfileInvalid(problems)
    return profile


def save_profile(store: ProfileStore, profile: Profile, *, new: bool) -> None:
    """Add ``profile`` (``new``) or replace the one with its id. A name or id another profile
    has is a ProfileInvalid on that field; OSError when the settings file cannot be written."""
    try:
        if new:
            store.add(profile)
        else:
            store.update(profile)
    except ValueError as exc:  # ProfileError, or the settings file's own rules
        others = [p for p in store.profiles if new or p.id != profile.id]
        if any(p.name.casefold() == profile.name.casefold() for p in others):
            raise ProfileInvalid({"name": str(exc)}) from None
        if any(p.id == profile.id for p in others):
            raise ProfileInvalid({"id": str(exc)}) from None
        raise ProfileInvalid({"": str(exc)}) from None


def saved_note(profile: Profile) -> str | None:
    """A warning to give after saving, if any: a CA bundle that is not a file here."""
    if profile.ca_bundle is not None and not profile.ca_bundle.is_file():
        return (
            f"Note: the CA bundle {profile.ca_bundle} is not a file on this computer; "
            "connecting will fail until it is."
        )
    return None


def new_profile(profiles: Sequence[Profile], colours: Sequence[str]) -> ProfileInput:
    """A new profile's form: a free name and id, the first colour no profile uses yet, and the
    defaults of every other field."""
    name = unique_name("New profile", {p.name for p in profiles})
    used = {p.color for p in profiles}
    defaults = {
        field: info.get_default(call_default_factory=True)
        for field, info in Profile.model_fields.items()
        if not info.is_required()
    }
    return ProfileInput.from_values(
        defaults
        | {
            "id": suggest_id(name, {p.id for p in profiles}),
            "name": name,
            "base_url": "https://",
            "broker_names": [],
            "broker_crm_name": "",
            "color": next((c for c in colours if c not in used), colours[0]),
        }
    )


def id_for_name(name: str, profiles: Sequence[Profile]) -> str:
    """The id a new profile's name suggests (until the operator types their own)."""
    return suggest_id(name or "profile", {p.id for p in profiles})


@dataclass(frozen=True)
class ProfileRow:
    """One profile in a list, with the marks an operator checks before choosing it."""

    key: str  # the profile id, or the editor's key of its unsaved new profile
    name: str
    colour: str
    live: bool = False
    read_only: bool = False
    builtin: bool = False
    in_use: bool = False
    draft: bool = False

    def marks(self) -> str:
        words = []
        if self.live:
            words.append("LIVE")
        if self.read_only:
            words.append("read-only")
        if self.builtin:
            words.append("built-in")
        if self.in_use:
            words.append("in use")
        if self.draft:
            words.append("not saved")
        return " · ".join(words)


def profile_rows(profiles: Sequence[Profile], in_use: str | None) -> list[ProfileRow]:
    return [
        ProfileRow(
            key=p.id,
            name=p.name,
            colour=p.color,
            live=p.live,
            read_only=p.read_only,
            builtin=p.id == SANDBOX_PROFILE_ID,
            in_use=p.id == in_use,
        )
        for p in profiles
    ]


def delete_question(profile: Profile, *, in_use: bool) -> str:
    text = (
        f"Delete the profile “{profile.name}” ({profile.base_url})?\n\n"
        "Its journal entries stay. A token remembered for it is forgotten."
    )
    if in_use:
        text += " It is the connection in use: the app switches to the Sandbox when you close"
        text += " this window."
    return text
