"""The profiles dialog against a real ProfileStore in the test's own settings folder."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from keyring.backend import KeyringBackend
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QCheckBox,
    QColorDialog,
    QDoubleSpinBox,
    QFileDialog,
    QGroupBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)
from pytestqt.qtbot import QtBot
from ui_helpers import MANAGER, wait_for_dialog

from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.services.profile_admin import split_names
from ctrader_admin.store.paths import AppPaths
from ctrader_admin.store.profiles import SANDBOX_PROFILE_ID, Profile
from ctrader_admin.store.tokens import SERVICE_NAME
from ctrader_admin.ui.dialogs import ask
from ctrader_admin.ui.notify import Level
from ctrader_admin.ui.profiles.dialog import ProfilesDialog
from ctrader_admin.ui.profiles.widgets import ChoiceDialog

LIVE = Profile(
    id="acme-live",
    name="Acme Live",
    base_url="https://live-acme.webapi.example:8443",
    broker_names=["acme_main", "acme_eu"],
    broker_crm_name="acme_crm",
    environments=["live"],
    manager_login=40001,
    color="#6a4c93",
    live=True,
)


@pytest.fixture
def dialog(qtbot: QtBot, window: QWidget, backoffice: Backoffice) -> Iterator[ProfilesDialog]:
    backoffice.profiles.add(LIVE)
    widget = ProfilesDialog(window, backoffice)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.hide()


def settings_json(paths: AppPaths) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(paths.settings_file.read_text(encoding="utf-8"))
    return data


def stored(paths: AppPaths, profile_id: str) -> dict[str, Any] | None:
    return next((p for p in settings_json(paths)["profiles"] if p["id"] == profile_id), None)


def click_row(qtbot: QtBot, dialog: ProfilesDialog, profile_id: str) -> None:
    """A real mouse click on the profile in the list."""
    index = dialog.model.index(dialog.model.row_of(profile_id), 0)
    rect = dialog.table.visualRect(index)
    qtbot.mouseClick(dialog.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def shown_question(qtbot: QtBot, name: str) -> ChoiceDialog:
    dialog = wait_for_dialog(qtbot, name)
    assert isinstance(dialog, ChoiceDialog)
    return dialog


PROXY_PASSWORD = "proxy-pw-4471"


def fill_new_profile(dialog: ProfilesDialog) -> None:
    dialog.form.name_edit.setText("Globex Demo")
    dialog.form.url_edit.setText("https://demo-globex.webapi.example:8443")
    dialog.form.wl_edit.setText("globex_main,\nglobex_asia")
    dialog.form.crm_edit.setText("globex_crm")
    dialog.form.env_edit.setText("demo")
    dialog.form.login_edit.setText("50007")
    dialog.form.colour_edit.setText("#E76F51")
    dialog.form.read_only_check.setChecked(True)
    dialog.form.budget_spin.setValue(120)
    dialog.form.ticket_check.setChecked(True)
    dialog.form.remember_check.setChecked(False)
    dialog.form.invite_check.setChecked(False)
    dialog.form.timeout_spin.setValue(35.5)
    dialog.form.proxy_edit.setText("http://Proxy.Globex.example:3128")
    dialog.form.proxy_user_edit.setText("agent7")
    dialog.form.proxy_password_edit.setText(PROXY_PASSWORD)
    dialog.form.period_spin.setValue(60)


def add_draft(qtbot: QtBot, dialog: ProfilesDialog) -> None:
    dialog.add_button.click()
    qtbot.waitUntil(lambda: dialog.model.row_of("") >= 0)


def all_keys(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from all_keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from all_keys(item)


def test_add_saves_every_field_and_no_secret(
    qtbot: QtBot,
    dialog: ProfilesDialog,
    backoffice: Backoffice,
    paths: AppPaths,
    memory_keyring: KeyringBackend,
) -> None:
    add_draft(qtbot, dialog)
    assert dialog.form.id_edit.isReadOnly() is False
    fill_new_profile(dialog)
    assert dialog.form.id_edit.text() == "globex-demo"  # follows the name until typed
    assert dialog.form.wl_edit.text() == "globex_main, globex_asia"  # a pasted column is joined
    qtbot.keyClick(dialog.form.name_edit, Qt.Key.Key_Return)  # Enter = Save
    assert dialog.bar.level is Level.SUCCESS, dialog.bar.text()
    saved = stored(paths, "globex-demo")
    assert saved is not None
    assert saved | {"ca_bundle": None} == {
        "id": "globex-demo",
        "name": "Globex Demo",
        "kind": "remote",
        "base_url": "https://demo-globex.webapi.example:8443",
        "broker_names": ["globex_main", "globex_asia"],
        "broker_crm_name": "globex_crm",
        "environments": ["demo"],
        "manager_login": 50007,
        "color": "#e76f51",
        "live": False,
        "read_only": True,
        "ca_bundle": None,
        "write_budget_per_hour": 120,
        "require_reason": True,
        "require_ticket": True,
        "remember_token": False,
        "invite_enabled": False,
        "timeout_seconds": 35.5,
        "proxy_url": "http://proxy.globex.example:3128",
        "proxy_username": "agent7",
        "attribution_period_days": 60,
    }
    # Now a saved profile: its id is fixed, the list shows it, nothing is left unsaved.
    assert dialog.form.id_edit.isReadOnly()
    assert dialog.model.row_of("") == -1
    assert dialog.model.rows[dialog.model.row_of("globex-demo")].read_only
    assert not dialog.has_unsaved_edits()
    # No secret anywhere in the file: neither a key nor the session's token or password.
    text = paths.settings_file.read_text(encoding="utf-8")
    keys = {k.lower() for k in all_keys(settings_json(paths))}
    assert not keys & {"token", "password", "secret", "api_key"}
    session = backoffice.session
    assert session is not None
    assert session.client.token
    assert session.client.token not in text
    assert MANAGER.password not in text
    # The proxy's password went to the keyring only, and left the form.
    assert PROXY_PASSWORD not in text
    assert dialog.form.proxy_password_edit.text() == ""
    qtbot.waitUntil(
        lambda: memory_keyring.get_password(SERVICE_NAME, "globex-demo/proxy") == PROXY_PASSWORD
    )


def test_loopback_http_is_accepted(qtbot: QtBot, dialog: ProfilesDialog, paths: AppPaths) -> None:
    add_draft(qtbot, dialog)
    fill_new_profile(dialog)
    dialog.form.url_edit.setText("http://127.0.0.1:8081")
    assert dialog.save()
    saved = stored(paths, "globex-demo")
    assert saved is not None
    assert saved["base_url"] == "http://127.0.0.1:8081"


INVALID: dict[str, tuple[Callable[[ProfilesDialog], None], str, str]] = {
    "http to a remote host": (
        lambda d: d.form.url_edit.setText("http://live-acme.webapi.example:8443"),
        "base_url",
        "Server URL: Plain http:// is allowed only for this computer",
    ),
    "empty White Labels": (
        lambda d: d.form.wl_edit.setText(" , "),
        "broker_names",
        "White Labels: Add at least one White Label",
    ),
    "bad colour": (
        lambda d: d.form.colour_edit.setText("purple"),
        "color",
        "Colour: The colour must be written #RRGGBB",
    ),
    "budget 0": (
        lambda d: d.form.budget_spin.setValue(0),
        "write_budget_per_hour",
        "Write budget: The write budget must allow at least 1 write per hour",
    ),
    "non-numeric manager login": (
        lambda d: d.form.login_edit.setText("4000l"),
        "manager_login",
        "Manager login: The manager login must be a whole number made of the digits 0–9",
    ),
}


@pytest.mark.parametrize("case", INVALID)
def test_invalid_input_names_the_field_and_saves_nothing(
    qtbot: QtBot, dialog: ProfilesDialog, paths: AppPaths, case: str
) -> None:
    spoil, field, message = INVALID[case]
    before = paths.settings_file.read_bytes()
    # On an existing profile…
    click_row(qtbot, dialog, LIVE.id)
    spoil(dialog)
    assert dialog.save() is False
    assert dialog.bar.level is Level.ERROR
    assert message in dialog.bar.text()
    assert dialog.invalid_fields() == [field]
    assert dialog.form.labels[field].property("invalid") is True
    assert dialog.form.fields[field].hasFocus()
    assert paths.settings_file.read_bytes() == before
    # …and on a new one.
    dialog.reject()
    discard = shown_question(qtbot, "unsavedProfileDialog")
    assert dialog.isVisible()
    discard.choose("discard")
    qtbot.waitUntil(lambda: not dialog.isVisible())
    dialog.show()
    add_draft(qtbot, dialog)
    fill_new_profile(dialog)
    spoil(dialog)
    assert dialog.save() is False
    assert message in dialog.bar.text()
    assert paths.settings_file.read_bytes() == before
    # Editing the field takes the red mark away.
    dialog.form.fields[field].setFocus()
    if isinstance(dialog.form.fields[field], QLineEdit):
        qtbot.keyClicks(dialog.form.fields[field], "x")
    else:
        qtbot.keyClick(dialog.form.fields[field], Qt.Key.Key_Up)
    assert field not in dialog.invalid_fields()


def test_several_errors_are_listed_and_a_taken_name_is_named(
    qtbot: QtBot, dialog: ProfilesDialog, paths: AppPaths
) -> None:
    before = paths.settings_file.read_bytes()
    add_draft(qtbot, dialog)
    assert dialog.save() is False  # a fresh draft has no White Labels nor brokerCrmName
    assert dialog.invalid_fields() == ["base_url", "broker_names", "broker_crm_name"]
    fill_new_profile(dialog)
    dialog.form.name_edit.setText("acme live")  # names are unique ignoring case
    assert dialog.save() is False
    assert "Name: A profile named 'acme live' already exists." in dialog.bar.text()
    assert dialog.invalid_fields() == ["name"]
    assert paths.settings_file.read_bytes() == before


def test_edit_saves_and_duplicate_makes_a_copy(
    qtbot: QtBot, dialog: ProfilesDialog, backoffice: Backoffice, paths: AppPaths
) -> None:
    click_row(qtbot, dialog, LIVE.id)
    assert dialog.form.name_edit.text() == "Acme Live"
    assert not dialog.save_button.isEnabled()  # nothing to save yet
    dialog.form.budget_spin.setValue(42)
    dialog.form.env_edit.setText("live, live-2")
    assert dialog.has_unsaved_edits()
    assert "Unsaved" in dialog.band.unsaved_marker.text()
    dialog.save_button.click()
    saved = stored(paths, LIVE.id)
    assert saved is not None
    assert (saved["write_budget_per_hour"], saved["environments"]) == (42, ["live", "live-2"])
    assert backoffice.settings.get(LIVE.id) == backoffice.profiles.get(LIVE.id)

    dialog.duplicate_button.click()
    qtbot.waitUntil(lambda: len(backoffice.profiles.profiles) == 3)
    copy = backoffice.profiles.profiles[2]
    assert (copy.id, copy.name) == ("acme-live-copy", "Acme Live (copy)")
    assert copy.model_dump(exclude={"id", "name"}) == backoffice.profiles.get(LIVE.id).model_dump(
        exclude={"id", "name"}
    )
    assert dialog.form.name_edit.text() == "Acme Live (copy)"
    assert dialog.form.id_edit.text() == "acme-live-copy"
    assert stored(paths, "acme-live-copy") is not None


def test_delete_asks_then_removes_and_forgets_the_token(
    qtbot: QtBot, dialog: ProfilesDialog, backoffice: Backoffice, paths: AppPaths
) -> None:
    backoffice.tokens.set(LIVE.id, 40001, "tok-acme-live-123456", remember=True)
    click_row(qtbot, dialog, LIVE.id)
    dialog.delete_button.click()
    question = shown_question(qtbot, "confirmDeleteProfileDialog")
    assert "Acme Live" in question.text.text()
    question.reject()  # Cancel / Esc keeps it
    qtbot.waitUntil(lambda: not question.isVisible())
    assert stored(paths, LIVE.id) is not None

    dialog.delete_button.click()
    shown_question(qtbot, "confirmDeleteProfileDialog").choose("delete")
    qtbot.waitUntil(lambda: dialog.bar.level is Level.SUCCESS)
    assert stored(paths, LIVE.id) is None
    assert dialog.model.row_of(LIVE.id) == -1
    assert dialog.form.name_edit.text() == "Sandbox"  # the neighbour is shown
    assert backoffice.tokens.get(LIVE.id, 40001) is None


def test_an_edit_of_login_or_remember_leaves_no_old_token_in_the_keyring(
    qtbot: QtBot, dialog: ProfilesDialog, backoffice: Backoffice, memory_keyring: KeyringBackend
) -> None:
    def saved(login: int) -> str | None:
        return memory_keyring.get_password(SERVICE_NAME, f"{LIVE.id}/{login}")

    backoffice.tokens.set(LIVE.id, 40001, "tok-acme-live-123456", remember=True)
    click_row(qtbot, dialog, LIVE.id)
    dialog.form.budget_spin.setValue(42)
    dialog.save_button.click()
    qtbot.wait(50)
    assert saved(40001) == "tok-acme-live-123456"  # same login, still remembered: kept

    dialog.form.login_edit.setText("40002")
    dialog.save_button.click()
    qtbot.waitUntil(lambda: saved(40001) is None)

    backoffice.tokens.set(LIVE.id, 40002, "tok-acme-live-654321", remember=True)
    dialog.form.remember_check.setChecked(False)
    dialog.save_button.click()
    qtbot.waitUntil(lambda: saved(40002) is None)


def test_sandbox_cannot_be_deleted_and_its_url_is_fixed(
    qtbot: QtBot, dialog: ProfilesDialog, paths: AppPaths
) -> None:
    click_row(qtbot, dialog, SANDBOX_PROFILE_ID)
    assert dialog.form.name_edit.text() == "Sandbox"
    assert not dialog.delete_button.isEnabled()
    assert "cannot be deleted" in dialog.delete_button.toolTip()
    assert dialog.sandbox_hint.isVisible()
    assert "training sandbox" in dialog.sandbox_hint.text()
    assert dialog.form.url_edit.isReadOnly()
    assert dialog.form.ca_edit.isReadOnly()
    assert not dialog.form.ca_button.isEnabled()
    assert "sandbox" in dialog.form.kind_label.text().lower()
    qtbot.keyClicks(dialog.form.url_edit, "evil.example")
    assert dialog.form.url_edit.text() == "https://sandbox.local"
    # The Delete key on the list does nothing either.
    dialog.table.setFocus()
    qtbot.keyClick(dialog.table, Qt.Key.Key_Delete)
    qtbot.wait(50)
    assert not [w for w in QApplication.topLevelWidgets() if w.isVisible() and w is not dialog]
    # Other fields stay editable; the connection is kept whatever the fields say.
    dialog.form.budget_spin.setValue(10)
    dialog.form.url_edit.setText("https://elsewhere.example")  # only code can do this
    assert dialog.save()
    saved = stored(paths, SANDBOX_PROFILE_ID)
    assert saved is not None
    assert (saved["kind"], saved["base_url"], saved["write_budget_per_hour"]) == (
        "sandbox",
        "https://sandbox.local",
        10,
    )


def test_live_flag_shows_the_live_marker(qtbot: QtBot, dialog: ProfilesDialog) -> None:
    click_row(qtbot, dialog, SANDBOX_PROFILE_ID)
    assert not dialog.band.live_marker.isVisible()
    click_row(qtbot, dialog, LIVE.id)
    assert dialog.band.live_marker.isVisible()
    assert dialog.band.live_marker.text() == "LIVE"
    assert "#b00020" in dialog.band.styleSheet()  # the whole band turns red
    assert dialog.model.index(dialog.model.row_of(LIVE.id), 1).data().startswith("LIVE")
    dialog.form.live_check.setChecked(False)
    assert not dialog.band.live_marker.isVisible()
    assert "#b00020" not in dialog.band.styleSheet()
    dialog.form.live_check.setChecked(True)
    assert dialog.band.live_marker.isVisible()
    assert not dialog.has_unsaved_edits()  # back as saved


def test_switching_with_unsaved_edits_asks(
    qtbot: QtBot, dialog: ProfilesDialog, paths: AppPaths
) -> None:
    click_row(qtbot, dialog, LIVE.id)
    dialog.form.name_edit.setText("Acme Live EU")
    click_row(qtbot, dialog, SANDBOX_PROFILE_ID)
    question = shown_question(qtbot, "unsavedProfileDialog")
    assert "Acme Live EU" in question.text.text()
    assert dialog.table.currentIndex().row() == dialog.model.row_of(LIVE.id)  # not yet moved
    question.reject()  # Cancel: stay, edits kept
    qtbot.waitUntil(lambda: not question.isVisible())
    assert dialog.form.name_edit.text() == "Acme Live EU"
    assert dialog.table.currentIndex().row() == dialog.model.row_of(LIVE.id)

    click_row(qtbot, dialog, SANDBOX_PROFILE_ID)
    shown_question(qtbot, "unsavedProfileDialog").choose("discard")
    qtbot.waitUntil(lambda: dialog.form.name_edit.text() == "Sandbox")
    assert "discarded" in dialog.bar.text()
    assert stored(paths, LIVE.id) == json.loads(LIVE.model_dump_json())

    click_row(qtbot, dialog, LIVE.id)
    dialog.form.name_edit.setText("Acme Live EU")
    click_row(qtbot, dialog, SANDBOX_PROFILE_ID)
    shown_question(qtbot, "unsavedProfileDialog").choose("save")
    qtbot.waitUntil(lambda: dialog.form.name_edit.text() == "Sandbox")
    saved = stored(paths, LIVE.id)
    assert saved is not None
    assert saved["name"] == "Acme Live EU"


def test_an_invalid_edit_is_not_lost_by_save_on_switch(
    qtbot: QtBot, dialog: ProfilesDialog, paths: AppPaths
) -> None:
    click_row(qtbot, dialog, LIVE.id)
    dialog.form.wl_edit.clear()
    click_row(qtbot, dialog, SANDBOX_PROFILE_ID)
    shown_question(qtbot, "unsavedProfileDialog").choose("save")
    qtbot.waitUntil(lambda: dialog.bar.level is Level.ERROR)
    assert "White Labels" in dialog.bar.text()
    assert dialog.form.name_edit.text() == "Acme Live"  # still on the profile being fixed
    assert dialog.has_unsaved_edits()
    saved = stored(paths, LIVE.id)
    assert saved is not None
    assert saved["broker_names"] == ["acme_main", "acme_eu"]


def test_an_untouched_new_profile_goes_away_without_a_question(
    qtbot: QtBot, dialog: ProfilesDialog
) -> None:
    add_draft(qtbot, dialog)
    assert dialog.form.name_edit.text() == "New profile"
    assert dialog.form.name_edit.hasFocus()
    click_row(qtbot, dialog, LIVE.id)
    assert dialog.model.row_of("") == -1
    assert dialog.form.name_edit.text() == "Acme Live"


def test_escape_closes_and_asks_first_when_edited(
    qtbot: QtBot, window: QWidget, backoffice: Backoffice
) -> None:
    dialog = ProfilesDialog(window, backoffice)
    task = asyncio.ensure_future(ask(dialog))
    qtbot.waitUntil(dialog.isVisible)
    dialog.form.colour_edit.setText("#123456")
    qtbot.keyClick(dialog.form.colour_edit, Qt.Key.Key_Escape)
    question = shown_question(qtbot, "unsavedProfileDialog")
    question.reject()
    qtbot.waitUntil(lambda: not question.isVisible())
    assert dialog.isVisible()
    assert not task.done()
    qtbot.waitUntil(lambda: not dialog._closing)  # the question's task has ended
    qtbot.keyClick(dialog.form.colour_edit, Qt.Key.Key_Escape)
    shown_question(qtbot, "unsavedProfileDialog").choose("save")
    qtbot.waitUntil(task.done)
    assert backoffice.profiles.get(SANDBOX_PROFILE_ID).color == "#123456"
    # Without edits, Esc simply closes.
    dialog2 = ProfilesDialog(window, backoffice)
    task2 = asyncio.ensure_future(ask(dialog2))
    qtbot.waitUntil(dialog2.isVisible)
    qtbot.keyClick(dialog2.table, Qt.Key.Key_Escape)
    qtbot.waitUntil(task2.done)
    assert task2.result() is False


def test_every_field_is_reachable_by_tab_and_labelled(qtbot: QtBot, dialog: ProfilesDialog) -> None:
    click_row(qtbot, dialog, LIVE.id)
    inputs: list[QWidget] = [
        w
        for w in dialog.findChildren(QWidget)
        if isinstance(w, QLineEdit | QSpinBox | QDoubleSpinBox | QCheckBox)
        and w.isVisible()
        and w.parent() is not None
        and not isinstance(w.parent(), QSpinBox | QDoubleSpinBox)  # a spin box's own editor
    ]
    assert len(inputs) == 22
    dialog.table.setFocus()
    reached: list[QWidget] = []
    for _ in range(60):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        focus = QApplication.focusWidget()
        assert focus is not None
        owner = focus.parent() if isinstance(focus.parent(), QSpinBox | QDoubleSpinBox) else focus
        assert isinstance(owner, QWidget)
        reached.append(owner)
    assert set(inputs) <= set(reached)
    # Every text field or spin box has a label that focuses it.
    for field, widget in dialog.form.fields.items():
        assert dialog.form.labels[field].buddy() is widget, field
    # Mnemonics are unique across labels, buttons, check boxes.
    texts = [
        w.text()
        for w in dialog.findChildren(QWidget)
        if isinstance(w, QLabel | QAbstractButton) and w.isVisible()
    ] + [b.title() for b in dialog.findChildren(QGroupBox)]
    keys = [m.group(1).lower() for t in texts for m in re.finditer(r"&([^&])", t)]
    assert len(keys) == len(set(keys)), sorted(keys)


def test_split_names() -> None:
    assert split_names("a, b;c\nd\r\n e ,") == ["a", "b", "c", "d", "e"]
    assert split_names(" , ") == []


def test_the_only_secret_fields_are_the_proxy_and_test_passwords(dialog: ProfilesDialog) -> None:
    # Neither is a saved field: the proxy's goes to the keyring, the manager's is used once.
    hidden = {
        e.objectName()
        for e in dialog.findChildren(QLineEdit)
        if e.echoMode() != QLineEdit.EchoMode.Normal
    }
    assert hidden == {"profileProxyPassword", "testManagerPassword"}
    assert not set(dialog.form.fields.values()) & set(
        dialog.findChildren(QLineEdit, "profileProxyPassword")
        + dialog.findChildren(QLineEdit, "testManagerPassword")
    )
    assert "token" not in " ".join(e.objectName().lower() for e in dialog.findChildren(QLineEdit))


def test_colour_and_ca_bundle_pickers(
    qtbot: QtBot, dialog: ProfilesDialog, paths: AppPaths, tmp_path: Path
) -> None:
    click_row(qtbot, dialog, LIVE.id)
    dialog.form.preset_buttons[3].click()
    assert dialog.form.colour_edit.text() == "#e76f51"
    dialog.form.colour_button.click()
    picker = wait_for_dialog(qtbot, "profileColourDialog")
    assert isinstance(picker, QColorDialog)
    picker.setCurrentColor(QColor("#336699"))
    picker.accept()
    qtbot.waitUntil(lambda: dialog.form.colour_edit.text() == "#336699")

    bundle = tmp_path / "acme-ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    dialog.form.ca_button.click()
    chooser = wait_for_dialog(qtbot, "caBundleDialog")
    assert isinstance(chooser, QFileDialog)
    name_field = chooser.findChild(QLineEdit, "fileNameEdit")  # as typed by the operator
    assert name_field is not None
    name_field.setText(str(bundle))
    chooser.accept()
    qtbot.waitUntil(lambda: dialog.form.ca_edit.text() == str(bundle))
    assert dialog.save()
    assert dialog.bar.text().startswith("Saved")
    saved = stored(paths, LIVE.id)
    assert saved is not None
    assert (saved["color"], saved["ca_bundle"]) == ("#336699", str(bundle))

    # A bundle that is not there is saved, with a warning that connecting will fail.
    dialog.form.ca_edit.setText(str(tmp_path / "missing.pem"))
    assert dialog.save()
    assert dialog.bar.level is Level.WARNING
    assert "CA bundle" in dialog.bar.text()


def test_test_connection_tells_what_it_found(
    qtbot: QtBot, dialog: ProfilesDialog, unused_port: int
) -> None:
    click_row(qtbot, dialog, SANDBOX_PROFILE_ID)
    dialog.form.test.button.click()
    qtbot.waitUntil(lambda: dialog.form.test.result.text().startswith("✔"))
    assert dialog.form.test.result.text().startswith("✔ The server answers.")
    dialog.form.test.password_edit.setText(MANAGER.password)
    dialog.form.test.button.click()
    qtbot.waitUntil(lambda: "logged in" in dialog.form.test.result.text())
    assert dialog.form.test.result.text().startswith("✔ Connected and logged in.")
    assert dialog.form.test.password_edit.text() == ""  # used once, not kept in the form
    # An edited remote profile is saved first, then tested as saved.
    click_row(qtbot, dialog, LIVE.id)
    dialog.form.url_edit.setText(f"http://127.0.0.1:{unused_port}")
    dialog.form.test.button.click()
    qtbot.waitUntil(lambda: dialog.form.test.result.text().startswith("✖"))
    assert dialog.form.test.result.text().startswith("✖ Connection refused.")
    assert not dialog.has_unsaved_edits()


@pytest.fixture
def unused_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
