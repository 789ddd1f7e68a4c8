"""Users: create a cTID user. The backend answers an existing user for a known email; the tab
says so plainly and offers that user in Lookup instead of pretending it was created."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QLocale
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QPushButton, QWidget

from ctrader_admin.api import CreateCtidRequest
from ctrader_admin.api.iso639 import ISO_639_1
from ctrader_admin.services import users
from ctrader_admin.services.errors import InvalidInput
from ctrader_admin.services.users import CreatedUser
from ctrader_admin.services.validation import white_label_of
from ctrader_admin.services.writes import NewUser, new_user_request
from ctrader_admin.ui import theme
from ctrader_admin.ui.context import LinkRequest, UiContext
from ctrader_admin.ui.form_tab import FormTab, tab_order
from ctrader_admin.ui.notify import Level
from ctrader_admin.ui.slots import async_slot
from ctrader_admin.ui.widgets import CopyableId, mark_invalid, refill

if TYPE_CHECKING:
    from ctrader_admin.store.profiles import Profile

# The languages support agents meet most, first; then every other ISO 639-1 code.
COMMON_LANGUAGES = (
    "en", "es", "de", "fr", "it", "pt", "ru", "zh", "ja", "ko", "ar", "tr", "pl", "nl", "cs",
    "el", "hu", "ro", "uk", "vi", "th", "id", "ms", "he", "fa", "hi", "sv", "da", "no", "fi",
)  # fmt: skip
DEFAULT_LANGUAGE = "en"


def language_item(code: str) -> str:
    """``en — English``; the bare code when Qt does not know the language."""
    language = QLocale(code).language()
    if language == QLocale.Language.C:
        return code
    return f"{code} — {QLocale.languageToString(language)}"


def language_code(text: str) -> str:
    """The code typed or picked in the language box ("en — English" → "en")."""
    parts = text.strip().split()
    return parts[0] if parts else ""


class UsersTab(FormTab):
    title = "Users"
    help_text = (
        "Create a cTID user (the client's cTrader ID). If the email is already registered, the "
        "server returns that user and nothing is created: the tab says so."
    )
    read_only_text = "This connection is read-only: users cannot be created here."

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.result: CreatedUser | None = None

        self.email = QLineEdit()
        self.email.setObjectName("userEmail")
        self.email.setPlaceholderText("client@example.com")
        self.email.setClearButtonEnabled(True)
        self.white_label = QComboBox()
        self.white_label.setObjectName("userWhiteLabel")
        self.white_label.setToolTip("The White Label (brokerName) the user registers with")
        self.language = QComboBox()
        self.language.setObjectName("userLanguage")
        self.language.setEditable(True)
        self.language.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.language.setMaxVisibleItems(15)
        self.language.setToolTip("Two-letter ISO 639-1 code: pick one or type it (e.g. de)")
        for code in COMMON_LANGUAGES:
            self.language.addItem(language_item(code), code)
        self.language.insertSeparator(self.language.count())
        for code in sorted(ISO_639_1 - set(COMMON_LANGUAGES)):
            self.language.addItem(language_item(code), code)
        self.language.setCurrentIndex(self.language.findData(DEFAULT_LANGUAGE))
        self.create_button = QPushButton("Create &user…")
        self.create_button.setObjectName("createUserButton")
        self.create_button.setToolTip("Asks for a reason before anything is sent (Enter)")
        self.add_form(
            "New cTID user",
            [
                ("&Email:", self.email),
                ("&White Label:", self.white_label),
                ("Preferred &language:", self.language),
            ],
            [self.create_button],
        )
        self.fields: dict[str, QWidget] = {
            "Email": self.email,
            "White Label": self.white_label,
            "Language": self.language,
        }

        self.outcome = QLabel()
        self.outcome.setObjectName("userOutcome")
        font = self.outcome.font()
        font.setBold(True)
        self.outcome.setFont(font)
        self.user_id = CopyableId()
        self.user_id.setObjectName("userResultId")
        self.result_email = QLabel()
        self.result_wl = QLabel()
        self.open_lookup = QPushButton("Show in L&ookup")
        self.open_lookup.setObjectName("userOpenLookup")
        self.open_lookup.setAutoDefault(True)  # Enter on the focused button opens it
        self.open_lookup.setToolTip("Open this user's case in the Lookup tab")
        self.link_account = QPushButton("Lin&k an account to this user…")
        self.link_account.setObjectName("userLinkAccount")
        self.link_account.setToolTip("Open the Accounts tab with this userId filled in")
        self.result_box = self.add_shown(
            "Result",
            "userResult",
            [
                ("Outcome:", self.outcome),
                ("userId:", self.user_id),
                ("Email:", self.result_email),
                ("White Label:", self.result_wl),
            ],
            [self.open_lookup, self.link_account],
        )
        self.body.addStretch(1)
        tab_order(
            self.email,
            self.white_label,
            self.language,
            self.create_button,
            self.open_lookup,
            self.link_account,
        )

        self.email.returnPressed.connect(self._create)
        # A corrected field loses its outline and its part of the message as it is edited.
        self.email.textEdited.connect(lambda _text: self.field_edited(self.email))
        self.language.editTextChanged.connect(lambda _text: self.field_edited(self.language))
        line = self.language.lineEdit()
        if line is not None:
            line.returnPressed.connect(self._create)
        self.create_button.clicked.connect(self._create)
        self.open_lookup.clicked.connect(self._open_in_lookup)
        self.link_account.clicked.connect(self._link_account)
        self.on_session_changed()

    # --- profile -------------------------------------------------------------------------------

    def offer_choices(self, profile: Profile | None) -> None:
        refill(self.white_label, list(profile.broker_names) if profile else [])

    def forget_shown(self) -> None:
        self.show_result(None)

    def _refresh_controls(self) -> None:
        super()._refresh_controls()
        write = self.writable()
        self.create_button.setEnabled(write and not self._working)
        self.link_account.setEnabled(write and self.result is not None)

    # --- create --------------------------------------------------------------------------------

    def _request(self) -> CreateCtidRequest:
        """The validated request, or InvalidInput naming the field. Nothing is sent here."""
        profile = self.ctx.session.profile
        change = NewUser(
            self.email.text(),
            self.white_label.currentText(),
            language_code(self.language.currentText()) or None,
        )
        request = new_user_request(profile, change)  # the write model's check, as the CLI's
        if request.broker_name is None:  # optional on the command line; the form asks for one
            white_label_of(profile, "")
        return request

    @async_slot()
    async def _create(self) -> None:
        if self._working or not self.writable():
            return
        self.show_result(None)  # a new attempt: the last one's result no longer applies
        mark_invalid(self.fields, {})
        try:
            request = self._request()
        except InvalidInput as exc:
            self.show_invalid(exc, self.fields)
            return
        with self.working():
            language = request.preferred_language or DEFAULT_LANGUAGE
            session = self.ctx.session
            done = await self.ctx.confirm_and_send(
                self.runner,
                "Create cTID user",
                [
                    ("Email", request.email),
                    ("White Label", request.broker_name or ""),
                    ("Language", language_item(language)),
                ],
                action_label="Create",
                declined="Not created: nothing was sent.",
                busy="Creating the user",
                send=lambda reason, ticket: users.create_user(
                    session,
                    email=request.email,
                    broker_name=request.broker_name,
                    language=request.preferred_language,
                    reason=reason,
                    ticket=ticket,
                ),
                controls=[self.create_button],
            )
            if done is None:
                return
            self.show_result(done.value, request)

    def show_result(
        self, result: CreatedUser | None, request: CreateCtidRequest | None = None
    ) -> None:
        self.result = result
        self.result_box.setVisible(result is not None)
        if result is None or request is None:
            self._refresh_controls()
            return
        user_id = result.user_id
        self.user_id.set_value(str(user_id))
        self.result_email.setText(request.email)
        if result.created:
            self.result_wl.setText(request.broker_name or "")
            self.outcome.setText("✔ Created")
            theme.set_tone(self.outcome, theme.Tone.SUCCESS)
            self.bar.show_message(
                Level.SUCCESS,
                f"User created: userId {user_id} ({request.email}, {request.broker_name}).",
            )
        else:
            # The backend answers only the userId of an existing user: its WL is not known here.
            self.result_wl.setText("(not returned for an existing user — see Lookup)")
            self.outcome.setText("Already existed — nothing was created")
            theme.set_tone(self.outcome, theme.Tone.WARNING)
            self.bar.show_message(
                Level.WARNING,
                f"A user with this email already exists: userId {user_id}. Nothing was created. "
                "Use “Show in Lookup” to see that user.",
            )
            self.open_lookup.setFocus()
        self._refresh_controls()

    # --- follow-ups ----------------------------------------------------------------------------

    def _open_in_lookup(self) -> None:
        if self.result is not None:
            self.ctx.lookup_requested.emit(str(self.result.user_id))

    def _link_account(self) -> None:
        if self.result is None:
            return
        self.ctx.link_requested.emit(LinkRequest(user_id=self.result.user_id))
