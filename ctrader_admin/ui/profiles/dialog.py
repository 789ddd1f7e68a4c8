"""Connection profiles: the list on the left, the form of the selected profile on the right.
Every change is validated by ``services.profile_admin`` (and the store's Profile model); nothing
is saved while a field is wrong, and the message names the field.

No saved field holds a secret: the manager logs in from the main window and the token lives in
the system keyring (or in memory), never in settings.json; the proxy's password goes straight to
the keyring on Save, and the manager password typed for Test connection is used once.
Questions (unsaved edits, delete) are small dialogs awaited through ``ask()``, never ``exec()``."""

from __future__ import annotations

import asyncio
import itertools

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ctrader_admin.services import profile_admin
from ctrader_admin.services.backoffice import Backoffice
from ctrader_admin.services.profile_admin import ProfileInput, ProfileInvalid, ProfileRow
from ctrader_admin.store.profiles import SANDBOX_PROFILE_ID, Profile, ProfileStore
from ctrader_admin.ui import table_state, theme
from ctrader_admin.ui.notify import Level, MessageBar
from ctrader_admin.ui.profiles.form import ProfileForm
from ctrader_admin.ui.profiles.list_model import ProfilesModel
from ctrader_admin.ui.profiles.widgets import ChoiceDialog, ProfileBand, choose, note
from ctrader_admin.ui.slots import async_slot
from ctrader_admin.ui.widgets import hint

DRAFT_KEY = ""  # the unsaved new profile in the list (a real profile id is never empty)


class ProfilesDialog(QDialog):
    def __init__(self, parent: QWidget | None, backoffice: Backoffice) -> None:
        super().__init__(parent)
        self.setObjectName("profilesDialog")
        self.setWindowTitle("Connection profiles")
        self.backoffice = backoffice
        self.store: ProfileStore = backoffice.profiles
        self._current_key: str | None = None
        self._draft: ProfileInput | None = None
        # Forgetting a stale keyring token after an edit (save), awaited by nobody but kept alive.
        self._forgetting: asyncio.Future[bool] | None = None
        self._proxy_saving: asyncio.Future[None] | None = None
        self._loaded_state: tuple[object, ...] = ()
        self._selecting = False
        self._id_follows_name = False
        self._closing = False
        self._build()
        self._reload_rows()
        session = backoffice.session
        first = session.profile.id if session is not None else SANDBOX_PROFILE_ID
        if self.model.row_of(first) < 0:
            first = self.model.rows[0].key
        self._select(first)
        self.resize(1040, 720)

    # --- layout ------------------------------------------------------------------------------

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.addWidget(
            note(
                "A profile is one cTrader server and the White Labels you manage on it. "
                "Passwords and tokens are never kept here: you log in from the main window and "
                "the token stays in the system keyring."
            )
        )
        columns = QHBoxLayout()
        outer.addLayout(columns, 1)
        columns.addWidget(self._list_panel())

        right = QVBoxLayout()
        columns.addLayout(right, 1)
        self.band = ProfileBand()
        right.addWidget(self.band)
        self.sandbox_hint = hint("")
        self.sandbox_hint.setObjectName("sandboxHint")
        theme.set_panel(self.sandbox_hint, theme.Tone.INFO)
        right.addWidget(self.sandbox_hint)
        self.form = ProfileForm()
        right.addWidget(self.form, 1)

        self.bar = MessageBar()
        outer.addWidget(self.bar)
        bottom = QHBoxLayout()
        bottom.addWidget(note("Saved changes reach the main window when you close this one."), 1)
        self.save_button = QPushButton("&Save")
        self.save_button.setObjectName("saveProfile")
        self.save_button.setDefault(True)
        self.save_button.setToolTip("Save this profile (Enter)")
        self.close_button = QPushButton("Close")
        self.close_button.setAutoDefault(False)
        self.close_button.setToolTip("Close this window (Esc)")
        bottom.addWidget(self.save_button)
        bottom.addWidget(self.close_button)
        outer.addLayout(bottom)

        chain: list[QWidget] = [
            self.table,
            self.add_button,
            self.duplicate_button,
            self.delete_button,
            *self.form.tab_chain(),
            self.save_button,
            self.close_button,
        ]
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)
        self._connect()

    def _list_panel(self) -> QWidget:
        left = QVBoxLayout()
        self.model = ProfilesModel()
        self.table = QTableView()
        self.table.setObjectName("profilesList")
        self.table.setModel(self.model)
        table_state.remember_columns(self.table)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)  # Tab leaves the list for the buttons and form
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().hide()
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)  # a long name is elided; its tooltip shows it whole
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        left.addWidget(self.table, 1)
        list_buttons = QHBoxLayout()
        self.add_button = QPushButton("&Add")
        self.add_button.setToolTip("Start a new profile (saved when you press Save)")
        self.duplicate_button = QPushButton("Du&plicate")
        self.duplicate_button.setToolTip("Save a copy of the selected profile under a new id")
        self.delete_button = QPushButton("&Delete")
        for button in (self.add_button, self.duplicate_button, self.delete_button):
            button.setAutoDefault(False)
            list_buttons.addWidget(button)
        left.addLayout(list_buttons)
        panel = QWidget()
        panel.setLayout(left)
        left.setContentsMargins(0, 0, 0, 0)
        panel.setFixedWidth(260)
        return panel

    def _connect(self) -> None:
        self.add_button.clicked.connect(self._add)
        self.duplicate_button.clicked.connect(self._duplicate)
        self.delete_button.clicked.connect(self._delete)
        self.save_button.clicked.connect(self.save)
        self.close_button.clicked.connect(self.reject)
        self.form.test.button.clicked.connect(self._test_connection)
        save = QShortcut(QKeySequence.StandardKey.Save, self)
        save.activated.connect(self.save)
        delete = QShortcut(QKeySequence(Qt.Key.Key_Delete), self.table)
        delete.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete.activated.connect(self._delete)
        self.form.name_edit.textChanged.connect(self._name_changed)
        self.form.id_edit.textEdited.connect(self._id_edited)
        self.form.edited.connect(self._changed)

    # --- list ----------------------------------------------------------------------------------

    def _reload_rows(self) -> None:
        session = self.backoffice.session
        in_use = session.profile.id if session is not None else None
        rows = profile_admin.profile_rows(self.store.profiles, in_use)
        if self._draft is not None:
            typed = self.form.name_edit.text().strip() if self._current_key == DRAFT_KEY else ""
            rows.append(
                ProfileRow(
                    key=DRAFT_KEY,
                    name=typed or self._draft.name,
                    colour=self._draft.color,
                    draft=True,
                )
            )
        self._selecting = True
        try:
            self.model.set_rows(rows)
            if self._current_key is not None and self.model.row_of(self._current_key) >= 0:
                self.table.setCurrentIndex(
                    self.model.index(self.model.row_of(self._current_key), 0)
                )
        finally:
            self._selecting = False

    def _select(self, key: str) -> None:
        """Show ``key`` in the editor and mark it in the list (no question asked)."""
        self._select_row_only(key)
        self._show(key)

    def select_profile(self, profile_id: str) -> None:
        """As if the operator clicked the profile in the list (asks about unsaved edits)."""
        self.table.setCurrentIndex(self.model.index(self.model.row_of(profile_id), 0))

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._selecting or not current.isValid():
            return
        target = self.model.rows[current.row()].key
        if target == self._current_key:
            return
        if not self.has_unsaved_edits():
            if self._draft is not None and self._current_key == DRAFT_KEY:
                self._draft = None  # an untouched new profile just goes away
                self._select_after_reload(target)
            else:
                self._show(target)
            return
        # Keep the edited profile selected until the operator has answered.
        if self._current_key is not None:
            self._select_row_only(self._current_key)
        self._switch_to(target)

    def _select_row_only(self, key: str) -> None:
        self._selecting = True
        try:
            self.table.setCurrentIndex(self.model.index(self.model.row_of(key), 0))
        finally:
            self._selecting = False

    def _select_after_reload(self, key: str) -> None:
        self._current_key = None
        self._reload_rows()
        self._select(key)

    @async_slot()
    async def _switch_to(self, target: str) -> None:
        if await self._resolve_unsaved():
            known = self.model.row_of(target) >= 0
            self._select_after_reload(target if known else SANDBOX_PROFILE_ID)

    # --- editor --------------------------------------------------------------------------------

    def current_profile(self) -> Profile | None:
        if self._current_key in (None, DRAFT_KEY):
            return None
        return self.store.settings.get(self._current_key or "")

    def _show(self, key: str) -> None:
        self._current_key = key
        if key == DRAFT_KEY:
            assert self._draft is not None
            self.form.fill(self._draft)
        else:
            self.form.fill(ProfileInput.of(self.store.get(key)))
        self._loaded_state = self.form.state()
        self.form.clear_invalid()
        self._refresh()

    def has_unsaved_edits(self) -> bool:
        return self._current_key is not None and self.form.state() != self._loaded_state

    def _refresh(self) -> None:
        """Everything that follows the form: the preview band, what may be edited, buttons."""
        draft = self._current_key == DRAFT_KEY
        stored = self.current_profile()
        rules = profile_admin.editable(stored)
        form = self.form
        colour = form.colour_edit.text().strip()
        if not profile_admin.is_colour(colour):  # half typed: keep showing the last good colour
            colour = stored.color if stored else (self._draft.color if self._draft else "")
        if draft:
            unsaved = "New — not saved yet"
        else:
            unsaved = "● Unsaved changes" if self.has_unsaved_edits() else ""
        self.band.show_profile(
            name=form.name_edit.text().strip() or "(no name)",
            colour=colour or theme.PROFILE_COLOURS[0],
            live=form.live_check.isChecked(),
            read_only=form.read_only_check.isChecked(),
            unsaved=unsaved,
        )
        self.save_button.setEnabled(draft or self.has_unsaved_edits())
        form.follow(rules)
        if rules.sandbox:
            self.sandbox_hint.setText(
                "This is the embedded training sandbox: made-up clients inside this app, nothing "
                "reaches a real broker. Its connection cannot be changed"
                + (" and it cannot be deleted." if rules.builtin else ".")
            )
        self.sandbox_hint.setVisible(rules.sandbox)
        self.duplicate_button.setEnabled(rules.duplicable)
        self.delete_button.setEnabled(rules.deletable)
        self.delete_button.setToolTip(
            "The built-in Sandbox is the training backend of the app and cannot be deleted"
            if rules.builtin
            else ("Discard this new profile" if draft else "Delete this profile (asks first)")
        )

    def _changed(self) -> None:
        if self._current_key == DRAFT_KEY:
            self._reload_rows()
        self._refresh()

    def _name_changed(self, text: str) -> None:
        if self.form.filling or self._current_key != DRAFT_KEY or not self._id_follows_name:
            return
        self.form.id_edit.setText(profile_admin.id_for_name(text, self.store.profiles))

    def _id_edited(self, _text: str) -> None:
        self._id_follows_name = False

    # --- saving --------------------------------------------------------------------------------

    def save(self) -> bool:
        """Validate and save the profile in the editor; False (and says why) if it cannot."""
        if self._current_key is None or not self.save_button.isEnabled():
            return self._current_key is not None and not self.has_unsaved_edits()
        before = self.current_profile()
        draft = self._current_key == DRAFT_KEY
        try:
            profile = profile_admin.profile_from_input(self.form.values(), before)
            profile_admin.save_profile(self.store, profile, new=draft)
        except ProfileInvalid as exc:
            self.bar.show_message(Level.ERROR, exc.message)
            self.form.show_problems(list(exc.problems))
            return False
        except OSError as exc:
            self.bar.show_message(
                Level.ERROR, f"The settings file could not be written: {exc.strerror or exc}."
            )
            return False
        self.backoffice.settings = self.store.settings
        if before is not None:
            # Off the loop: keyring calls may block on D-Bus.
            self._forgetting = asyncio.ensure_future(
                asyncio.to_thread(self.backoffice.tokens.forget_stale, before, profile)
            )
        self._save_proxy_password(profile, before)
        self._draft = None
        self._select_after_reload(profile.id)
        warning = profile_admin.saved_note(profile)
        message = f"Saved “{profile.name}”." + (f" {warning}" if warning else "")
        self.bar.show_message(Level.WARNING if warning else Level.SUCCESS, message)
        return True

    def _save_proxy_password(self, profile: Profile, before: Profile | None) -> None:
        """A typed proxy password goes to the keyring; removing the proxy user forgets it."""
        typed = self.form.proxy_password_edit.text()
        self.form.proxy_password_edit.clear()
        tokens = self.backoffice.tokens
        if profile.proxy_username and typed:
            task = asyncio.to_thread(tokens.set_proxy_password, profile.id, typed)
        elif not profile.proxy_username and before is not None and before.proxy_username:
            task = asyncio.to_thread(tokens.set_proxy_password, profile.id, None)
        else:
            return
        self._proxy_saving = asyncio.ensure_future(task)

    @async_slot()
    async def _test_connection(self) -> None:
        """Save the edits (a test of something else than what is saved would mislead), then
        probe the server, and log in when the manager password is given."""
        if self.has_unsaved_edits() and not self.save():
            return
        profile = self.current_profile()
        if profile is None:
            return
        if self._proxy_saving is not None:
            await self._proxy_saving
        await self.form.test.run(self.backoffice, profile)

    def invalid_fields(self) -> list[str]:
        return self.form.invalid_fields()

    # --- actions -------------------------------------------------------------------------------

    async def _resolve_unsaved(self) -> bool:
        """True when the editor may show something else: nothing to lose, saved, or discarded."""
        if not self.has_unsaved_edits():
            if self._current_key == DRAFT_KEY:
                self._draft = None
            return True
        draft = self._current_key == DRAFT_KEY
        name = self.form.name_edit.text().strip() or "this profile"
        answer = await choose(
            ChoiceDialog(
                self,
                name="unsavedProfileDialog",
                title="Unsaved changes",
                text=(
                    f"The new profile “{name}” is not saved yet."
                    if draft
                    else f"“{name}” has changes that are not saved."
                ),
                choices=(
                    ("save", "&Save", QDialogButtonBox.ButtonRole.AcceptRole),
                    ("discard", "&Discard", QDialogButtonBox.ButtonRole.DestructiveRole),
                ),
                default="save",
            )
        )
        if answer == "save":
            return self.save()
        if answer == "discard":
            if draft:
                self._draft = None
            self._loaded_state = self.form.state()
            self.bar.show_message(Level.INFO, f"Changes to “{name}” were discarded.")
            return True
        return False

    @async_slot()
    async def _add(self) -> None:
        if not await self._resolve_unsaved():
            return
        self._draft = profile_admin.new_profile(self.store.profiles, theme.PROFILE_COLOURS)
        self._id_follows_name = True
        self._select_after_reload(DRAFT_KEY)
        self.bar.hide()
        self.form.name_edit.setFocus()
        self.form.name_edit.selectAll()

    @async_slot()
    async def _duplicate(self) -> None:
        source = self.current_profile()
        if source is None or not await self._resolve_unsaved():
            return
        try:
            copy = self.store.duplicate(source.id)
        except (ValueError, OSError) as exc:
            self.bar.show_message(Level.ERROR, f"Not duplicated: {exc}")
            return
        self.backoffice.settings = self.store.settings
        self._select_after_reload(copy.id)
        self.bar.show_message(
            Level.SUCCESS,
            f"Saved a copy of “{source.name}” as “{copy.name}” (id {copy.id}). "
            "Rename it and check its server and White Labels.",
        )
        self.form.name_edit.setFocus()
        self.form.name_edit.selectAll()

    @async_slot()
    async def _delete(self) -> None:
        key = self._current_key
        if key is None or key == SANDBOX_PROFILE_ID:
            return
        if key == DRAFT_KEY:
            self._draft = None
            self._select_after_reload(SANDBOX_PROFILE_ID)
            self.bar.show_message(Level.INFO, "The new profile was discarded.")
            return
        profile = self.store.get(key)
        session = self.backoffice.session
        in_use = session is not None and session.profile.id == key
        answer = await choose(
            ChoiceDialog(
                self,
                name="confirmDeleteProfileDialog",
                title="Delete profile",
                text=profile_admin.delete_question(profile, in_use=in_use),
                choices=(("delete", "&Delete", QDialogButtonBox.ButtonRole.AcceptRole),),
                default=None,
                danger="delete",
            )
        )
        if answer != "delete":
            return
        try:
            self.store.delete(key)
        except (ValueError, OSError) as exc:
            self.bar.show_message(Level.ERROR, f"Not deleted: {exc}")
            return
        self.backoffice.settings = self.store.settings
        if profile.manager_login is not None:
            await asyncio.to_thread(self.backoffice.tokens.delete, key, profile.manager_login)
        row = max(0, self.model.row_of(key) - 1)
        self._current_key = None
        self._reload_rows()
        self._select(self.model.rows[min(row, len(self.model.rows) - 1)].key)
        self.bar.show_message(Level.SUCCESS, f"Deleted “{profile.name}”.")

    # --- closing -------------------------------------------------------------------------------

    def reject(self) -> None:
        """Esc, Close or the window's ✕: ask first when there are unsaved edits."""
        if self.has_unsaved_edits():
            if not self._closing:
                self._close_after_asking()
            return
        super().reject()

    @async_slot()
    async def _close_after_asking(self) -> None:
        self._closing = True
        try:
            if await self._resolve_unsaved():
                self._current_key = None
                super().reject()
        finally:
            self._closing = False
