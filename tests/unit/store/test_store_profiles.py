from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from ctrader_admin.store.paths import AppPaths
from ctrader_admin.store.profiles import (
    SANDBOX_PROFILE_ID,
    Profile,
    ProfileError,
    ProfileNotFoundError,
    ProfileStore,
    Settings,
    builtin_sandbox_profile,
    is_loopback_host,
    suggest_id,
    validation_messages,
)


def make_profile(**overrides: Any) -> Profile:
    fields: dict[str, Any] = {
        "id": "acme-live",
        "name": "Acme live",
        "kind": "remote",
        "base_url": "https://live-acme.webapi.ctrader.com:8443",
        "broker_names": ["acme"],
        "broker_crm_name": "acme_crm",
        "manager_login": 1234,
        "color": "#AA0000",
        "live": True,
    }
    fields.update(overrides)
    return Profile(**fields)


def looks_secret(key: str) -> bool:
    # remember_token is the boolean "save the token in the keyring" choice, not a secret.
    return key != "remember_token" and bool(SECRET_KEY.search(key))


SECRET_KEY = re.compile(r"token|password|secret|hash", re.IGNORECASE)


def messages_for(**overrides: Any) -> dict[str, str]:
    with pytest.raises(ValidationError) as info:
        make_profile(**overrides)
    return validation_messages(info.value)


# --- the Profile model --------------------------------------------------------------------------


def test_defaults_and_normalisation() -> None:
    profile = make_profile(base_url="HTTPS://Live-Acme.example.com:8443/", color="#AA00FF")
    assert profile.base_url == "https://live-acme.example.com:8443"
    assert profile.color == "#aa00ff"
    assert profile.environments == ["demo", "live"]
    assert profile.write_budget_per_hour == 500
    assert profile.remember_token is True
    assert profile.invite_enabled is True
    assert profile.timeout_seconds == 20
    assert profile.ca_bundle is None


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8765",
        "http://127.3.4.5:8765",
        "http://localhost:8765",
        "http://[::1]:8765",
        "https://example.com",
    ],
)
def test_accepted_addresses(url: str) -> None:
    assert make_profile(base_url=url).base_url == url


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("http://live-acme.example.com:8080", "Plain http:// is allowed only for this computer"),
        ("http://10.0.0.1:8080", "Plain http://"),
        ("ftp://example.com", "must look like https://host:port"),
        ("example.com:8443", "must look like https://host:port"),
        ("https://example.com:8443/v2", "without a path"),
        ("https://example.com:8443?token=abc", "without a path"),
        ("https://user:pw@example.com:8443", "user name or password"),
        ("https://example.com:99999", "between 1 and 65535"),
        ("https://example.com:0", "between 1 and 65535"),
    ],
)
def test_rejected_addresses_say_why(url: str, fragment: str) -> None:
    assert fragment in messages_for(base_url=url)["base_url"]


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"id": "Acme Live"}, "id", "lower-case letters"),
        ({"id": "a" * 41}, "id", "lower-case letters"),
        ({"name": "   "}, "name", "needs a name"),
        ({"broker_names": []}, "broker_names", "at least one White Label"),
        ({"broker_names": ["acme", " "]}, "broker_names", "cannot be empty"),
        ({"broker_names": ["acme", "acme"]}, "broker_names", "listed twice"),
        ({"broker_crm_name": ""}, "broker_crm_name", "brokerCrmName is required"),
        ({"environments": []}, "environments", "at least one environment"),
        ({"environments": ["live 2"]}, "environments", "may contain only"),
        ({"manager_login": 0}, "manager_login", "positive"),
        ({"color": "teal"}, "color", "#RRGGBB"),
        ({"write_budget_per_hour": 0}, "write_budget_per_hour", "at least 1"),
        ({"timeout_seconds": 0}, "timeout_seconds", "more than 0"),
        ({"kind": "other"}, "kind", ""),
    ],
)
def test_validation_messages(overrides: dict[str, Any], field: str, fragment: str) -> None:
    messages = messages_for(**overrides)
    assert field in messages
    assert fragment in messages[field]
    assert not messages[field].startswith("Value error")


def test_is_loopback_host() -> None:
    assert is_loopback_host("localhost")
    assert is_loopback_host("127.0.0.1")
    assert is_loopback_host("[::1]")
    assert not is_loopback_host("localhost.example.com")
    assert not is_loopback_host("192.168.1.1")


def test_no_model_has_a_secret_field() -> None:
    for model in (Profile, Settings):
        assert not [f for f in model.model_fields if looks_secret(f)]


def test_suggest_id() -> None:
    assert suggest_id("Acme Live (EU)", set()) == "acme-live-eu"
    assert suggest_id("Acme Live", {"acme-live"}) == "acme-live-2"
    assert suggest_id("!!!", set()) == "profile"


# --- Settings -----------------------------------------------------------------------------------


def test_sandbox_is_always_present() -> None:
    settings = Settings()
    assert [p.id for p in settings.profiles] == [SANDBOX_PROFILE_ID]
    sandbox = settings.profiles[0]
    assert sandbox == builtin_sandbox_profile()
    assert sandbox.kind == "sandbox"
    assert sandbox.broker_names == ["sandbox_main", "sandbox_eu"]
    assert sandbox.manager_login == 30001
    assert sandbox.write_budget_per_hour == 1000


def test_sandbox_added_without_clashing_with_a_user_profile_named_sandbox() -> None:
    settings = Settings(profiles=[make_profile(name="Sandbox")])
    assert len({p.name.casefold() for p in settings.profiles}) == 2


def test_unknown_last_profile_is_forgotten() -> None:
    assert Settings(last_profile_id="gone").last_profile_id is None


def test_duplicate_ids_or_names_are_rejected() -> None:
    with pytest.raises(ValidationError, match="Two profiles have the id"):
        Settings(profiles=[make_profile(), make_profile(name="Other")])
    with pytest.raises(ValidationError, match="Two profiles are named"):
        Settings(profiles=[make_profile(), make_profile(id="other", name="ACME LIVE")])


# --- ProfileStore -------------------------------------------------------------------------------


def test_missing_file_gives_defaults_and_writes_nothing(paths: AppPaths) -> None:
    store = ProfileStore(paths)
    assert [p.id for p in store.load().profiles] == [SANDBOX_PROFILE_ID]
    assert store.recovered_file is None
    assert not paths.settings_file.exists()


def test_add_save_and_reload(paths: AppPaths) -> None:
    store = ProfileStore(paths)
    store.add(make_profile())
    store.set_last_profile("acme-live")

    again = ProfileStore(paths)
    assert again.get("acme-live") == make_profile()
    assert again.settings.last_profile_id == "acme-live"
    assert [p.id for p in again.profiles] == [SANDBOX_PROFILE_ID, "acme-live"]


def test_a_change_keeps_what_another_process_saved_meanwhile(paths: AppPaths) -> None:
    """The app loaded its settings at start; the CLI then adds a profile. The app's next change
    (here: remembering the last profile) must not write its older copy over the new profile."""
    app = ProfileStore(paths)
    app.load()
    ProfileStore(paths).add(make_profile())

    app.set_last_profile(SANDBOX_PROFILE_ID)
    app.add(make_profile(id="acme-demo", name="Acme demo", live=False))
    app.set_last_profile("acme-live")  # known from the file, not from what the app loaded

    again = ProfileStore(paths)
    assert [p.id for p in again.profiles] == [SANDBOX_PROFILE_ID, "acme-live", "acme-demo"]
    assert again.settings.last_profile_id == "acme-live"


_ADD_PROFILES = """
import sys
from ctrader_admin.store.paths import AppPaths
from ctrader_admin.store.profiles import Profile, ProfileStore, builtin_sandbox_profile
worker = sys.argv[1]
store = ProfileStore(AppPaths.from_environment())
store.load()
for n in range(5):
    fields = {"id": f"w{worker}-{n}", "name": f"Worker {worker} #{n}"}
    store.add(Profile.model_validate(builtin_sandbox_profile().model_dump() | fields))
    store.set_last_profile(f"w{worker}-{n}")
"""


def test_processes_adding_profiles_at_once_lose_none(paths: AppPaths) -> None:
    workers = [subprocess.Popen([sys.executable, "-c", _ADD_PROFILES, str(w)]) for w in range(4)]
    assert [w.wait(timeout=120) for w in workers] == [0, 0, 0, 0]
    ids = {p.id for p in ProfileStore(paths).profiles}
    assert ids == {SANDBOX_PROFILE_ID} | {f"w{w}-{n}" for w in range(4) for n in range(5)}


def test_file_and_folder_are_private(paths: AppPaths) -> None:
    ProfileStore(paths).add(make_profile())
    assert stat.S_IMODE(paths.settings_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(paths.config_dir.stat().st_mode) == 0o700
    # No temporary file left; the lock that serialises processes' changes stays, private.
    assert sorted(f.name for f in paths.config_dir.iterdir()) == [
        "settings.json",
        "settings.json.lock",
    ]
    assert stat.S_IMODE((paths.config_dir / "settings.json.lock").stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        '{"profiles": "nope"}',
        "[]",
        b"\xff\xfe\x00garbage",
    ],
)
def test_corrupt_file_is_moved_aside_and_defaults_used(
    paths: AppPaths, content: str | bytes
) -> None:
    paths.ensure_config_dir()
    raw = content.encode() if isinstance(content, str) else content
    paths.settings_file.write_bytes(raw)

    store = ProfileStore(paths)
    settings = store.load()

    assert [p.id for p in settings.profiles] == [SANDBOX_PROFILE_ID]
    assert store.recovered_file is not None
    assert store.recovered_file.name.startswith("settings.json.corrupt-")
    assert store.recovered_file.read_bytes() == raw
    assert not paths.settings_file.exists()


def _write_settings(paths: AppPaths, profiles: list[Any], last: str | None = None) -> None:
    paths.ensure_config_dir()
    data = {"profiles": profiles, "last_profile_id": last}
    paths.settings_file.write_text(json.dumps(data), encoding="utf-8")


def _good(**overrides: Any) -> dict[str, Any]:
    return make_profile(**overrides).model_dump(mode="json")


def test_one_broken_profile_is_set_aside_alone_and_the_others_load(paths: AppPaths) -> None:
    broken = _good(id="acme-demo", name="Acme demo") | {"base_url": "https://acme:99999"}
    _write_settings(paths, [_good(), broken, _good(id="beta", name="Beta")], last="beta")

    store = ProfileStore(paths)
    settings = store.load()

    assert [p.id for p in settings.profiles] == [SANDBOX_PROFILE_ID, "acme-live", "beta"]
    assert settings.last_profile_id == "beta"
    (problem,) = store.problems
    assert "'Acme demo'" in problem
    assert "The port must be a number between 1 and 65535 (base_url)." in problem
    assert "the other profiles are loaded" in problem
    # Kept, as it was, where the operator can take it back.
    kept_file = store.recovered_file
    assert kept_file is not None
    assert kept_file.parent == paths.config_dir
    assert re.fullmatch(r"settings\.broken-\d{8}T\d{6}Z\.json", kept_file.name)
    assert str(kept_file) in problem
    kept = json.loads(kept_file.read_text("utf-8"))
    assert kept["profiles"] == [broken]
    assert stat.S_IMODE(kept_file.stat().st_mode) == 0o600
    # The settings file no longer holds it: the next start is quiet and loses nothing else.
    again = ProfileStore(paths)
    assert [p.id for p in again.load().profiles] == [SANDBOX_PROFILE_ID, "acme-live", "beta"]
    assert again.problems == []
    assert again.recovered_file is None


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ({"id": "x"}, "Missing: name, base_url, broker_names, broker_crm_name."),
        ("just a string", "entry 2"),
        (_good(name="Other"), "Two profiles have the id 'acme-live'."),
        (_good(id="other", name="ACME LIVE"), "Two profiles are named 'ACME LIVE'."),
        (
            _good(id=SANDBOX_PROFILE_ID, name="Fake sandbox"),
            "The profile id 'sandbox' is reserved for the sandbox.",
        ),
        (_good(id="x2", name="X2") | {"color": "red"}, "The colour must be written #RRGGBB"),
    ],
)
def test_each_kind_of_broken_entry_is_named_with_its_reason(
    paths: AppPaths, entry: object, words: str
) -> None:
    _write_settings(paths, [_good(), entry])

    store = ProfileStore(paths)
    ids = [p.id for p in store.load().profiles]

    assert ids == [SANDBOX_PROFILE_ID, "acme-live"]
    assert store.get(SANDBOX_PROFILE_ID).kind == "sandbox"
    (problem,) = store.problems
    assert words in problem
    assert store.recovered_file is not None
    assert json.loads(store.recovered_file.read_text("utf-8"))["profiles"] == [entry]


def test_a_peek_neither_moves_nor_reports(paths: AppPaths) -> None:
    _write_settings(paths, [_good(), {"id": "x"}], last="acme-live")
    before = paths.settings_file.read_bytes()

    store = ProfileStore(paths)
    assert store.load(repair=False).last_profile_id == "acme-live"

    assert store.problems == []
    assert paths.settings_file.read_bytes() == before
    assert [f.name for f in paths.config_dir.iterdir()] == ["settings.json"]
    ProfileStore(paths).load()  # the load that follows tells and sets aside
    assert len(list(paths.config_dir.glob("*.broken-*"))) == 1


def test_broken_profiles_stay_in_the_file_when_they_cannot_be_kept_elsewhere(
    paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_settings(paths, [_good(), {"id": "x"}])
    before = paths.settings_file.read_bytes()

    def refuse(path: Path, text: str) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr("ctrader_admin.store.profiles.write_private_text", refuse)
    store = ProfileStore(paths)

    assert [p.id for p in store.load().profiles] == [SANDBOX_PROFILE_ID, "acme-live"]
    (problem,) = store.problems
    assert "It is ignored for now; settings.json is left as it is" in problem
    assert paths.settings_file.read_bytes() == before
    assert store.recovered_file is None


def test_two_corrupt_files_in_the_same_second_both_kept(paths: AppPaths) -> None:
    paths.ensure_config_dir()
    for _ in range(2):
        paths.settings_file.write_text("{bad")
        ProfileStore(paths).load()
    assert len(list(paths.config_dir.glob("settings.json.corrupt-*"))) == 2


def test_sandbox_removed_from_file_comes_back(paths: AppPaths) -> None:
    paths.ensure_config_dir()
    data = Settings(profiles=[make_profile()]).model_dump(mode="json")
    data["profiles"] = [p for p in data["profiles"] if p["id"] != SANDBOX_PROFILE_ID]
    paths.settings_file.write_text(json.dumps(data))

    store = ProfileStore(paths)
    assert store.get(SANDBOX_PROFILE_ID).kind == "sandbox"
    assert store.get("acme-live").name == "Acme live"
    assert store.recovered_file is None


def test_sandbox_cannot_be_deleted_or_turned_remote(paths: AppPaths) -> None:
    store = ProfileStore(paths)
    with pytest.raises(ProfileError, match="cannot be deleted"):
        store.delete(SANDBOX_PROFILE_ID)
    remote = make_profile(id=SANDBOX_PROFILE_ID, name="Sandbox")
    with pytest.raises(ProfileError, match="must stay a sandbox"):
        store.update(remote)
    assert store.get(SANDBOX_PROFILE_ID).kind == "sandbox"


def test_sandbox_settings_can_be_edited(paths: AppPaths) -> None:
    store = ProfileStore(paths)
    edited = builtin_sandbox_profile().model_copy(update={"require_ticket": True})
    store.update(edited)
    assert ProfileStore(paths).get(SANDBOX_PROFILE_ID).require_ticket is True


def test_ids_and_names_stay_unique(paths: AppPaths) -> None:
    store = ProfileStore(paths)
    store.add(make_profile())
    with pytest.raises(ProfileError, match="id 'acme-live' already exists"):
        store.add(make_profile(name="Another"))
    with pytest.raises(ProfileError, match="named 'ACME live' already exists"):
        store.add(make_profile(id="another", name="ACME live"))
    store.add(make_profile(id="acme-demo", name="Acme demo"))
    with pytest.raises(ProfileError, match="named 'Acme live' already exists"):
        store.update(make_profile(id="acme-demo", name="Acme live"))


def test_update_replaces_in_place(paths: AppPaths) -> None:
    store = ProfileStore(paths)
    store.add(make_profile())
    store.update(make_profile(name="Acme LIVE (EU)", read_only=True))
    profile = ProfileStore(paths).get("acme-live")
    assert profile.name == "Acme LIVE (EU)"
    assert profile.read_only is True


def test_duplicate_gets_new_id_and_name(paths: AppPaths) -> None:
    store = ProfileStore(paths)
    store.add(make_profile())
    first = store.duplicate("acme-live")
    second = store.duplicate("acme-live")
    assert (first.id, first.name) == ("acme-live-copy", "Acme live (copy)")
    assert (second.id, second.name) == ("acme-live-copy-2", "Acme live (copy 2)")
    assert first.base_url == make_profile().base_url
    ids = [p.id for p in ProfileStore(paths).profiles]
    assert ids == [SANDBOX_PROFILE_ID, "acme-live", "acme-live-copy-2", "acme-live-copy"]


def test_duplicate_of_sandbox_is_deletable(paths: AppPaths) -> None:
    store = ProfileStore(paths)
    copy = store.duplicate(SANDBOX_PROFILE_ID)
    assert copy.kind == "sandbox"
    store.delete(copy.id)
    assert [p.id for p in store.profiles] == [SANDBOX_PROFILE_ID]


def test_delete_and_not_found(paths: AppPaths) -> None:
    store = ProfileStore(paths)
    store.add(make_profile())
    store.set_last_profile("acme-live")
    store.delete("acme-live")
    with pytest.raises(ProfileNotFoundError):
        store.get("acme-live")
    with pytest.raises(ProfileNotFoundError):
        store.delete("acme-live")
    with pytest.raises(ProfileNotFoundError):
        store.set_last_profile("acme-live")
    assert ProfileStore(paths).settings.last_profile_id is None


def test_settings_file_never_holds_a_secret(paths: AppPaths) -> None:
    """Even a hand-edited secret key is dropped: the file never carries one after a save."""
    store = ProfileStore(paths)
    store.add(make_profile(ca_bundle=Path("/etc/ssl/ca.pem")))
    data = json.loads(paths.settings_file.read_text())
    data["profiles"][1]["token"] = "s3cr3t-token-value"
    data["profiles"][1]["password"] = "hunter22"
    data["webservToken"] = "s3cr3t-token-value"
    paths.settings_file.write_text(json.dumps(data))

    store = ProfileStore(paths)
    store.update(store.get("acme-live").model_copy(update={"read_only": True}))

    text = paths.settings_file.read_text()
    assert "s3cr3t" not in text
    assert "hunter22" not in text

    def keys(node: object) -> set[str]:
        if isinstance(node, dict):
            return set(node) | {k for v in node.values() for k in keys(v)}
        if isinstance(node, list):
            return {k for v in node for k in keys(v)}
        return set()

    assert "remember_token" in text  # the check below does look at real keys
    assert not [k for k in keys(json.loads(text)) if looks_secret(k)]
