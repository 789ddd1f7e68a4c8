"""Base of the tabs that are one form (Users, Accounts, White Label): a box of fields with a row of
action buttons and a read-only note, then what the last action showed, forgotten when another
connection is opened (it is not that connection's)."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFormLayout, QGroupBox, QHBoxLayout, QLayout, QPushButton, QWidget

from ctrader_admin.ui.context import UiContext
from ctrader_admin.ui.tab import Tab
from ctrader_admin.ui.widgets import form, hint

if TYPE_CHECKING:
    from ctrader_admin.store.profiles import Profile

FORM_WIDTH = 720

# A form's rows: (label, field); a label is text or a label of its own, a field a widget or a row.
Rows = Sequence[tuple[str | QWidget, QWidget | QLayout]]


class FormTab(Tab):
    # Shown under the form when the connection cannot write.
    read_only_text = ""

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._profile_id: str | None = None
        self.read_only_note = hint(self.read_only_text)

    def add_form(self, title: str, rows: Rows, buttons: Sequence[QPushButton]) -> None:
        """The form: its labelled fields, the action buttons, the read-only note."""
        box = QGroupBox(title)
        box.setMaximumWidth(FORM_WIDTH)
        fields = _rows(rows, buttons)
        fields.addRow(self.read_only_note)
        box.setLayout(fields)
        self.body.addWidget(box)

    def add_shown(
        self, title: str, name: str, rows: Rows, buttons: Sequence[QPushButton] = ()
    ) -> QGroupBox:
        """A box for what an action showed, hidden until there is something to show."""
        box = QGroupBox(title)
        box.setObjectName(name)
        box.setMaximumWidth(FORM_WIDTH)
        box.setLayout(_rows(rows, buttons))
        box.hide()
        self.body.addWidget(box)
        return box

    def on_session_changed(self) -> None:
        session = self.ctx.backoffice.session
        self.offer_choices(session.profile if session else None)
        profile_id = session.profile.id if session else None
        if profile_id != self._profile_id:  # another connection: what is shown is not its own
            self._profile_id = profile_id
            self.forget_shown()
        self._refresh_controls()

    def offer_choices(self, profile: Profile | None) -> None:
        """Override: fill the lists the profile decides (White Labels, environments)."""

    def forget_shown(self) -> None:
        """Override: hide what the last action showed."""

    def _refresh_controls(self) -> None:
        self.read_only_note.setVisible(
            self.ctx.backoffice.session is not None and not self.writable()
        )


def _rows(rows: Rows, buttons: Sequence[QPushButton]) -> QFormLayout:
    layout = form()
    for label, widget in rows:
        layout.addRow(label, widget)
    if buttons:
        row = QHBoxLayout()
        for button in buttons:
            row.addWidget(button)
        row.addStretch(1)
        layout.addRow(row)
    return layout


def tab_order(*widgets: QWidget) -> None:
    """Tab moves through the widgets in this order."""
    for first, second in pairwise(widgets):
        QWidget.setTabOrder(first, second)
