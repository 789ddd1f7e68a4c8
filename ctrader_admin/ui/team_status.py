"""The line under the band while the team database cannot be reached: since when, that the
workstation is read-only, how old the last state is, and that the app is retrying — and, at the
start, that the app is connecting to it (services/team_link.py decides the words;
docs/team-mode.md says what the mode does)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QToolButton, QVBoxLayout, QWidget

from ctrader_admin.ui.notify import Level, MessageBar

if TYPE_CHECKING:
    from ctrader_admin.services.team_link import TeamLink

WHAT_IT_MEANS = (
    "Reads from the broker go on. Every write and job start is refused until the team database "
    "answers; nothing is kept to send later. The Journal shows the newest entries this "
    "computer saw."
)


def window_message_box(bar: MessageBar) -> QWidget:
    """A message under the band, in margins of its own that hide with it (dismissed too)."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(8, 6, 8, 0)
    layout.addWidget(bar)
    box.hide()
    for dismiss in bar.findChildren(QToolButton):
        dismiss.clicked.connect(box.hide)
    return box


class TeamStatus:
    """The line and its box (the widget the window lays out)."""

    def __init__(self) -> None:
        self.bar = MessageBar()
        self.bar.setObjectName("teamStatus")
        self.bar.setToolTip(WHAT_IT_MEANS)
        self.box = window_message_box(self.bar)

    def show_connecting(self, text: str) -> None:
        """While the start waits for the team database (services/team_link.connecting_text)."""
        self.bar.setToolTip("")
        self.bar.show_message(Level.INFO, text)
        self.box.show()

    def show_link(self, link: TeamLink | None) -> None:
        """Shown while ``link`` says the server is away; hidden otherwise (and on the local
        path, where there is no link)."""
        text = link.band_text() if link is not None else None
        if text is None:
            self.box.hide()
        elif self.bar.label.text() != text or not self.box.isVisible():
            self.bar.setToolTip(WHAT_IT_MEANS)
            self.bar.show_message(Level.WARNING, text)
            self.box.show()

    def isVisible(self) -> bool:
        return self.box.isVisible()

    def text(self) -> str:
        return self.bar.text()
