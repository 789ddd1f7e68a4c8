"""The tabs of the main window: each tab's name, title and class (imported the first time the
tab is needed, so start-up pays only for Lookup), the page that holds a tab once built, and the
tabs by name."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Generic, NamedTuple, TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from ctrader_admin.ui.context import UiContext
from ctrader_admin.ui.tab import Tab

if TYPE_CHECKING:
    from ctrader_admin.ui.accounts_tab import AccountsTab
    from ctrader_admin.ui.lookup_tab import LookupTab

T_co = TypeVar("T_co", bound=Tab, covariant=True)


class TabSpec(NamedTuple, Generic[T_co]):
    """A tab: its class's name (how tests and tools ask for it), its title, and its class,
    imported by ``load`` the first time the tab is needed."""

    name: str
    title: str
    load: Callable[[], type[T_co]]


def _lookup() -> type[LookupTab]:
    from ctrader_admin.ui.lookup_tab import LookupTab

    return LookupTab


def _users() -> type[Tab]:
    from ctrader_admin.ui.users_tab import UsersTab

    return UsersTab


def _accounts() -> type[AccountsTab]:
    from ctrader_admin.ui.accounts_tab import AccountsTab

    return AccountsTab


def _white_label() -> type[Tab]:
    from ctrader_admin.ui.white_label_tab import WhiteLabelTab

    return WhiteLabelTab


def _partners() -> type[Tab]:
    from ctrader_admin.ui.partners_tab import PartnersTab

    return PartnersTab


def _jobs() -> type[Tab]:
    from ctrader_admin.ui.jobs.tab import JobsTab

    return JobsTab


def _journal() -> type[Tab]:
    from ctrader_admin.ui.journal_tab import JournalTab

    return JournalTab


LOOKUP = TabSpec("LookupTab", "Lookup", _lookup)
ACCOUNTS = TabSpec("AccountsTab", "Accounts", _accounts)
# Every tab, in order. The first (Lookup, the first screen) is built with the window; every
# other one is imported and built the first time it is needed (it becomes the current tab, or the
# window hands it work) once the back office is attached, so start-up pays for none of them.
TABS: tuple[TabSpec[Tab], ...] = (
    LOOKUP,
    TabSpec("UsersTab", "Users", _users),
    ACCOUNTS,
    TabSpec("WhiteLabelTab", "White Label", _white_label),
    TabSpec("PartnersTab", "Partners", _partners),
    TabSpec("JobsTab", "Jobs", _jobs),
    TabSpec("JournalTab", "Journal", _journal),
)


class TabSlot(QWidget):
    """One page of the tab widget: holds its Tab, built on first use."""

    def __init__(self, spec: TabSpec[Tab], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.page: Tab | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)

    def build(self, ctx: UiContext) -> Tab:
        if self.page is None:
            self.page = self.spec.load()(ctx)
            layout = self.layout()
            assert layout is not None
            layout.addWidget(self.page)
            if self.hasFocus():
                self._focus_first_field(self.page)
        return self.page

    def _focus_first_field(self, page: Tab) -> None:
        """Shown before it was built (Alt+N), this page took the focus from the tab it replaced,
        having nothing to give it to: it goes to the page's first field now, as Qt gives it to
        the first field of a page that was built before it was shown."""
        page.show()  # now, not at the next loop turn: a hidden widget takes no focus
        tab_focus = Qt.FocusPolicy.TabFocus
        widget = self.nextInFocusChain()
        while widget is not None and widget is not self:
            accepts = widget.focusPolicy() & tab_focus == tab_focus
            if accepts and page.isAncestorOf(widget) and widget.isVisible() and widget.isEnabled():
                widget.setFocus(Qt.FocusReason.TabFocusReason)
                return
            widget = widget.nextInFocusChain()


class TabPages(Mapping[str, Tab]):
    """Every tab by class name; looking one up builds it if it was not built yet."""

    def __init__(self, slots: dict[str, TabSlot], ctx: UiContext) -> None:
        self._slots = slots
        self._ctx = ctx

    def __getitem__(self, class_name: str) -> Tab:
        return self._slots[class_name].build(self._ctx)

    def __iter__(self) -> Iterator[str]:
        return iter(self._slots)

    def __len__(self) -> int:
        return len(self._slots)

    def built(self) -> dict[str, Tab]:
        """The tabs built so far (no tab is built by this)."""
        return {name: slot.page for name, slot in self._slots.items() if slot.page is not None}
