"""What the Lookup tab shows before a search: the profile's recent cases (kept on this computer,
per profile), a line of tips and, on the training sandbox, the cases to start with."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import QGroupBox, QLabel, QPushButton, QVBoxLayout, QWidget

from ctrader_admin.ui.widgets import hint

TIPS = (
    "Tips: type an email, a userId, a login or a ctidTraderAccountId and press Enter — the kind "
    "is detected; user:, login: or ctid: in front forces it. Ctrl+K comes here from any tab."
)


class RecentCases:
    """The last cases looked up, newest first, per profile: in the window's settings file when
    there is one (they survive a restart), else for this session only."""

    LIMIT = 8

    def __init__(self, settings: QSettings | None) -> None:
        self._settings = settings
        self._memory: dict[str, list[tuple[str, str]]] = {}

    def entries(self, profile_id: str) -> list[tuple[str, str]]:
        """(query, label) pairs."""
        import json  # with the first profile, not with the first window

        if self._settings is None:
            return list(self._memory.get(profile_id, []))
        raw = self._settings.value(self._key(profile_id), "")
        try:
            loaded = json.loads(raw) if isinstance(raw, str) and raw else []
        except ValueError:
            return []  # a hand-edited settings file: start the list again
        return [
            (str(item[0]), str(item[1]))
            for item in loaded
            if isinstance(item, list) and len(item) == 2
        ][: self.LIMIT]

    def add(self, profile_id: str, query: str, label: str) -> None:
        import json

        kept = [entry for entry in self.entries(profile_id) if entry[0] != query]
        entries = [(query, label), *kept][: self.LIMIT]
        if self._settings is None:
            self._memory[profile_id] = entries
            return
        self._settings.setValue(self._key(profile_id), json.dumps(entries))

    @staticmethod
    def _key(profile_id: str) -> str:
        return f"lookup/recent/{profile_id}"


class LookupHome(QWidget):
    """Buttons that look a case up again (or for the first time, on the sandbox)."""

    chosen = Signal(str)  # the query to search for

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lookupHome")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.recent_box = QGroupBox("Recent cases on this profile")
        self.recent_layout = QVBoxLayout(self.recent_box)
        self.starting_box = QGroupBox("Start here — the training sandbox's cases")
        self.starting_layout = QVBoxLayout(self.starting_box)
        self.tips = hint(TIPS)
        self.tips.setObjectName("lookupTips")
        layout.addWidget(self.tips)
        layout.addWidget(self.recent_box)
        layout.addWidget(self.starting_box)
        layout.addStretch(1)
        self.buttons: list[QPushButton] = []

    def show_cases(
        self, recent: Sequence[tuple[str, str]], starting: Sequence[tuple[str, str]]
    ) -> None:
        for button in self.buttons:
            button.deleteLater()
        self.buttons.clear()
        for layout in (self.recent_layout, self.starting_layout):
            while (item := layout.takeAt(0)) is not None:
                if (widget := item.widget()) is not None:
                    widget.deleteLater()
        if not recent:
            self.recent_layout.addWidget(
                QLabel("No case looked up on this profile yet: the last ones will be here.")
            )
        for query, label in recent:
            self.recent_layout.addWidget(self._button(query, label, "recentCase"))
        for query, label in starting:
            self.starting_layout.addWidget(self._button(query, label, "startingCase"))
        self.starting_box.setVisible(bool(starting))

    def _button(self, query: str, label: str, name: str) -> QPushButton:
        button = QPushButton(f"{query}  —  {label}")
        button.setObjectName(name)
        button.setFlat(True)
        button.setStyleSheet("text-align: left; padding: 2px 6px;")
        button.setToolTip(f"Look up {query}")
        button.clicked.connect(lambda _=False, q=query: self.chosen.emit(q))
        self.buttons.append(button)
        return button
