"""The rules of profile administration, without a widget: what a form's text becomes, what may
change on which profile, naming and duplicates, the list's marks."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ctrader_admin.services import profile_admin
from ctrader_admin.services.profile_admin import ProfileInput, ProfileInvalid
from ctrader_admin.store.paths import AppPaths
from ctrader_admin.store.profiles import SANDBOX_PROFILE_ID, Profile, ProfileStore

COLOURS = ("#4a6fa5", "#2e7d32", "#6a4c93")
ACME = Profile(
    id="acme-live",
    name="Acme Live",
    base_url="https://live-acme.webapi.example:8443",
    broker_names=["acme_main"],
    broker_crm_name="acme_crm",
    environments=["live"],
    manager_login=40001,
    color="#6a4c93",
    live=True,
)


@pytest.fixture
def store(tmp_path: Path) -> ProfileStore:
    profiles = ProfileStore(AppPaths.under(tmp_path))
    profiles.load()
    profiles.add(ACME)
    return profiles


def test_a_profile_round_trips_through_its_form() -> None:
    assert profile_admin.profile_from_input(ProfileInput.of(ACME), ACME) == ACME


def test_form_text_becomes_lists_and_a_login() -> None:
    form = replace(
        ProfileInput.of(ACME),
        broker_names="acme_main;\nacme_eu, ",
        environments="demo,live",
        manager_login=" 40002 ",
    )
    profile = profile_admin.profile_from_input(form, ACME)
    assert profile.broker_names == ["acme_main", "acme_eu"]
    assert profile.environments == ["demo", "live"]
    assert profile.manager_login == 40002


def test_every_wrong_field_is_named_in_the_form_order() -> None:
    form = replace(ProfileInput.of(ACME), manager_login="4000l", color="purple", name="")
    with pytest.raises(ProfileInvalid) as caught:
        profile_admin.profile_from_input(form, ACME)
    assert list(caught.value.problems) == ["name", "color", "manager_login"]
    message = caught.value.message
    assert message.startswith("Not saved. Please correct:\n• Name: ")
    assert "• Manager login: The manager login must be a whole number" in message


def test_one_wrong_field_is_one_sentence() -> None:
    form = replace(ProfileInput.of(ACME), write_budget_per_hour=0)
    with pytest.raises(ProfileInvalid) as caught:
        profile_admin.profile_from_input(form, ACME)
    assert caught.value.message == (
        "Not saved. Write budget: The write budget must allow at least 1 write per hour."
    )


def test_the_sandbox_keeps_its_connection_whatever_the_form_says(store: ProfileStore) -> None:
    sandbox = store.get(SANDBOX_PROFILE_ID)
    form = replace(
        ProfileInput.of(sandbox),
        base_url="https://elsewhere.example",
        proxy_url="http://proxy.example:3128",
        name="Training",
    )
    profile = profile_admin.profile_from_input(form, sandbox)
    assert profile.base_url == sandbox.base_url
    assert profile.proxy_url is None
    assert profile.name == "Training"


def test_what_may_change(store: ProfileStore) -> None:
    builtin = profile_admin.editable(store.get(SANDBOX_PROFILE_ID))
    assert (builtin.deletable, builtin.connection, builtin.id) == (False, False, False)
    saved = profile_admin.editable(ACME)
    assert (saved.deletable, saved.connection, saved.id, saved.duplicable) == (
        True,
        True,
        False,
        True,
    )
    new = profile_admin.editable(None)
    assert (new.id, new.duplicable, new.deletable) == (True, False, True)


def test_a_taken_name_or_id_is_refused_on_its_field(store: ProfileStore) -> None:
    twin_name = ACME.model_copy(update={"id": "acme-2", "name": "ACME live"})
    with pytest.raises(ProfileInvalid) as caught:
        profile_admin.save_profile(store, twin_name, new=True)
    assert list(caught.value.problems) == ["name"]
    twin_id = ACME.model_copy(update={"name": "Acme again"})
    with pytest.raises(ProfileInvalid) as caught:
        profile_admin.save_profile(store, twin_id, new=True)
    assert list(caught.value.problems) == ["id"]
    assert [p.id for p in store.profiles] == [SANDBOX_PROFILE_ID, ACME.id]


def test_renaming_a_saved_profile_is_not_a_duplicate_of_itself(store: ProfileStore) -> None:
    renamed = ACME.model_copy(update={"name": "Acme (live)"})
    profile_admin.save_profile(store, renamed, new=False)
    assert store.get(ACME.id).name == "Acme (live)"


def test_a_new_profile_gets_a_free_name_id_and_colour(store: ProfileStore) -> None:
    store.add(ACME.model_copy(update={"id": "new-profile", "name": "New profile"}))
    draft = profile_admin.new_profile(store.profiles, COLOURS)
    assert (draft.name, draft.id) == ("New profile (2)", "new-profile-2")
    used = {p.color for p in store.profiles}
    assert draft.color not in used
    assert draft.color in COLOURS
    assert draft.base_url == "https://"
    assert draft.broker_names == ""
    assert profile_admin.id_for_name("Acme Live", store.profiles) == "acme-live-2"


def test_pasted_columns_and_names() -> None:
    assert profile_admin.join_lines("a\nb\r\n c ,\n") == "a, b, c"
    assert profile_admin.join_lines("a, b") == "a, b"
    assert profile_admin.split_names("a, b;c\n") == ["a", "b", "c"]


def test_the_list_marks(store: ProfileStore) -> None:
    rows = profile_admin.profile_rows(store.profiles, in_use=ACME.id)
    assert [row.marks() for row in rows] == ["built-in", "LIVE · in use"]


def test_a_missing_ca_bundle_is_said_after_saving(tmp_path: Path) -> None:
    missing = ACME.model_copy(update={"ca_bundle": tmp_path / "nope.pem"})
    note = profile_admin.saved_note(missing)
    assert note is not None
    assert "is not a file on this computer" in note
    (tmp_path / "ca.pem").write_text("x")
    assert (
        profile_admin.saved_note(ACME.model_copy(update={"ca_bundle": tmp_path / "ca.pem"})) is None
    )
