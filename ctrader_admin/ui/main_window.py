"""The main window: a colour band that says where the operator is (profile, environment, live,
read-only, writes left, log-in state), the tabs, and the shortcuts that serve every tab.

It is shown before the back office exists (app.py): the band says "Starting…", the Lookup tab
takes input at once (a search waits for the connection), and what needs the back office (the
other tabs, the profile and log-in controls) follows on ``attach``.

Size (~530 lines, over the ~500 guide): the band, the menus, opening and switching profiles and
the team link's state share the window's one session; every tab lives in its own module."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QByteArray, QEvent, QObject, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ctrader_admin import APP_NAME, __version__
from ctrader_admin.errors import ExpectedError
from ctrader_admin.ui import notify, table_state, theme
from ctrader_admin.ui.context import LinkRequest, UiContext
from ctrader_admin.ui.notify import Level, MessageBar
from ctrader_admin.ui.slots import async_slot
from ctrader_admin.ui.tab import Tab
from ctrader_admin.ui.tab_pages import ACCOUNTS, LOOKUP, TABS, T_co, TabPages, TabSlot, TabSpec
from ctrader_admin.ui.team_status import TeamStatus, window_message_box
from ctrader_admin.ui.widgets import ElidedLabel

if TYPE_CHECKING:
    from ctrader_admin.services.backoffice import Backoffice
    from ctrader_admin.services.budget import BudgetFigures, WriteBudget
    from ctrader_admin.store.pg.approvals import ApprovalRecord
    from ctrader_admin.ui.approvals_view import ApprovalsView


class GlobalShortcutGuard(QObject):
    """Keeps application-wide shortcuts working while a text field has focus: on Linux a
    QLineEdit claims Ctrl+K (Emacs "kill line") in its ShortcutOverride, which would swallow
    "jump to id". Filtering the override (without accepting it) lets the shortcut fire.

    The override goes to the focus widget, so only that widget is watched: a filter on the
    whole application would run Python for every event of every widget (a cost at every paint,
    and a GIL to wait for while a bulk job's threads run)."""

    def __init__(self, sequences: list[QKeySequence], app: QApplication, parent: QObject) -> None:
        super().__init__(parent)
        self._sequences = [seq for seq in sequences if not seq.isEmpty()]
        self._watched: QWidget | None = None
        app.focusChanged.connect(self._follow_focus)

    def _follow_focus(self, _old: QWidget | None, now: QWidget | None) -> None:
        if self._watched is not None:
            # RuntimeError: it was being destroyed, and its filters go with it.
            with contextlib.suppress(RuntimeError):
                self._watched.removeEventFilter(self)
        self._watched = now
        if now is not None:
            now.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            pressed = QKeySequence(event.keyCombination())
            exact = QKeySequence.SequenceMatch.ExactMatch
            return any(seq.matches(pressed) == exact for seq in self._sequences)
        return False


class Badge(QLabel):
    """White on the band, in the badge's colour: readable on any band, the red live one too."""

    def __init__(self, text: str, colour: str, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setStyleSheet(
            f"background:{theme.ON_BAND};color:{colour};font-weight:bold;"
            f"padding:{theme.SPACE_XS}px {theme.SPACE_M}px;border-radius:{theme.RADIUS}px;"
        )


class ProfileBand(QFrame):
    """The coloured strip at the top. A live profile turns it red and says LIVE in words."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("profileBand")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 6)
        # The name and the details give up width first (elided, whole in the tooltip): the
        # band fits a 900 px window whatever the profile's name and White Labels.
        self.name = ElidedLabel(keep=12)
        font = self.name.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.name.setFont(font)
        self.details = ElidedLabel()
        self.live = Badge("LIVE", theme.LIVE_RED)
        self.read_only = Badge("READ-ONLY", theme.READ_ONLY_GREY)
        self.budget = QLabel()
        self.budget.setObjectName("budgetLabel")
        self.login_state = QLabel()
        self.login_button = QPushButton("Log in")
        self.login_button.setObjectName("loginButton")
        self.profiles = QComboBox()
        self.profiles.setObjectName("profileSwitcher")
        self.profiles.setToolTip("Switch connection profile")
        self.profiles.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.profiles.setMinimumContentsLength(12)
        self.manage = QPushButton("Profiles…")
        left: tuple[QWidget, ...] = (self.name, self.live, self.read_only, self.details)
        for widget in left:
            layout.addWidget(widget)
        layout.addStretch(1)
        right: tuple[QWidget, ...] = (
            self.budget,
            self.login_state,
            self.login_button,
            self.profiles,
        )
        for widget in right:
            layout.addWidget(widget)
        layout.addWidget(self.manage)


class MainWindow(QMainWindow):
    def __init__(self, backoffice: Backoffice | None, settings: QSettings) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.qsettings = settings
        table_state.use_settings(settings)
        self.ctx = UiContext(backoffice, self, settings)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.band = ProfileBand()
        layout.addWidget(self.band)
        # What the window must tell before any tab does: profiles the settings file could not
        # give (set aside at start-up, or when the Profiles dialog reloads the file).
        self.notice = MessageBar()
        self._notice_box = window_message_box(self.notice)
        layout.addWidget(self._notice_box)
        # Team mode with the team database away: since when, what the views show, retrying.
        self.team_status = TeamStatus()
        layout.addWidget(self.team_status.box)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self._slots: dict[str, TabSlot] = {}
        for spec in TABS:
            slot = TabSlot(spec)
            self._slots[spec.name] = slot
            self.tabs.addTab(slot, spec.title)
        self.tab_pages = TabPages(self._slots, self.ctx)
        self._slots[LOOKUP.name].build(self.ctx)
        self.tabs.currentChanged.connect(self._build_current_tab)
        # What needs the back office: enabled when it is attached.
        self._back_office_controls: list[QWidget | QAction] = [
            self.band.login_button,
            self.band.profiles,
            self.band.manage,
        ]
        self._build_menus()
        self.band.login_button.clicked.connect(self._login_or_out)
        self.band.manage.clicked.connect(self._manage_profiles)
        self.band.profiles.activated.connect(self._profile_picked)
        self.ctx.session_changed.connect(self.refresh_band)
        self.ctx.data_changed.connect(self.refresh_band)
        self.ctx.lookup_requested.connect(self.show_in_lookup)
        self.ctx.link_requested.connect(self.prefill_link)
        # Queued: heard on the live-updates thread, handled on the GUI thread.
        self.ctx.team_link_changed.connect(
            self._team_link_changed, Qt.ConnectionType.QueuedConnection
        )
        # The budget frees up as the hour rolls on, without any write.
        self._budget_timer = QTimer(self)
        self._budget_timer.setInterval(30_000)
        self._budget_timer.timeout.connect(self.refresh_band)
        self._budget_timer.start()
        self.resize(1180, 760)
        geometry = settings.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        for control in self._back_office_controls:
            control.setEnabled(self.ctx.attached)
        self.approvals_view: ApprovalsView | None = None
        self._team_was_up: bool | None = None  # what the live updates last told (None: nothing)
        if backoffice is not None:
            self._add_approvals_tab(backoffice)
        self.refresh_band()
        notify.route_unhandled(self.show_expected_error)

    def show_expected_error(self, exc: BaseException) -> None:
        """An expected failure that no form caught, in words: in the current tab's message bar
        (the status bar while no tab is built yet)."""
        tab = self.current_tab()
        if tab is not None:
            tab.bar.show_error(exc)
        else:
            self.statusBar().showMessage(notify.message_for(exc)[1])

    @property
    def backoffice(self) -> Backoffice:
        return self.ctx.backoffice

    def attach(self, backoffice: Backoffice) -> None:
        """The back office is ready: enable what needs it and build the tab on screen."""
        self.ctx.attach(backoffice)
        for control in self._back_office_controls:
            control.setEnabled(True)
        self._add_approvals_tab(backoffice)
        self._build_current_tab()
        self.refresh_band()
        self._tell_settings_problems()

    def _add_approvals_tab(self, backoffice: Backoffice) -> None:
        """On the team database: the team's approvals, a last tab, live (the local path has no
        approvals, and never loads their modules)."""
        if backoffice.approvals is None or self.approvals_view is not None:
            return
        from ctrader_admin.ui.approvals_view import ApprovalsView

        view = ApprovalsView(approvals=backoffice.approvals, ctx=self.ctx)
        view.plan_apply_requested.connect(self._apply_approved_plan)
        self.approvals_view = view
        self._add_go_action(self.tabs.addTab(view, "Approvals"), "Approvals")
        link = backoffice.team_link
        if link is None or link.up:  # away: it would wait on this thread for the server; it
            view.start_live_updates()  # starts when the server answers (_team_link_changed)
        view.refresh()

    @async_slot(object)
    async def _apply_approved_plan(self, record: ApprovalRecord) -> None:
        """The Approvals view's Apply of a plan: the Jobs tab, the plan ready to apply under it."""
        from ctrader_admin.ui.jobs.tab import JobsTab

        page = self.show_tab("JobsTab")
        assert isinstance(page, JobsTab)
        await page.open_approved_plan(record)

    def _tell_settings_problems(self) -> None:
        problems = self.backoffice.profiles.problems
        if problems:
            self.notice.show_message(Level.WARNING, "\n".join(problems))
            self._notice_box.show()

    # --- menus and shortcuts -------------------------------------------------------------------

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        importer = QAction("&Import CRM export…", self)
        importer.triggered.connect(self._import_directory)
        file_menu.addAction(importer)
        self._back_office_controls.append(importer)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        go_menu = self.menuBar().addMenu("&Go")
        jump = QAction("&Jump to id or email…", self)
        jump.setObjectName("jumpAction")
        jump.setShortcut(QKeySequence("Ctrl+K"))
        jump.triggered.connect(self.jump)
        go_menu.addAction(jump)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            GlobalShortcutGuard([jump.shortcut()], app, self)
        self._go_menu = go_menu
        for index, spec in enumerate(TABS):  # built by currentChanged
            self._add_go_action(index, spec.title)
        connection_menu = self.menuBar().addMenu("&Connection")
        profiles = QAction("&Profiles…", self)
        profiles.triggered.connect(self._manage_profiles)
        connection_menu.addAction(profiles)
        login = QAction("Log &in / out", self)
        login.triggered.connect(self._login_or_out)
        connection_menu.addAction(login)
        team = QAction("&Team database…", self)
        team.setObjectName("teamAction")
        team.triggered.connect(self._team_database)
        connection_menu.addAction(team)
        self._back_office_controls += [profiles, login, team]
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction(f"&About {APP_NAME}", self)
        about.setObjectName("aboutAction")
        about.triggered.connect(self._about)
        help_menu.addAction(about)

    def _add_go_action(self, index: int, title: str) -> None:
        """Go → "N Title" on Alt+N: the tab at ``index`` (a tab added later, the Approvals on
        the team database, gets the next number)."""
        action = QAction(f"&{index + 1} {title}", self)
        action.setShortcut(QKeySequence(f"Alt+{index + 1}"))
        action.triggered.connect(lambda _=False, i=index: self.tabs.setCurrentIndex(i))
        self._go_menu.addAction(action)

    def _build_current_tab(self) -> None:
        slot = self.tabs.currentWidget()
        if isinstance(slot, TabSlot) and self.ctx.attached:
            slot.build(self.ctx)

    def current_tab(self) -> Tab | None:
        slot = self.tabs.currentWidget()
        return slot.page if isinstance(slot, TabSlot) else None

    def show_tab(self, class_name: str) -> Tab:
        """Make a tab current (building it if needed) and return it."""
        page = self.tab_pages[class_name]
        self.tabs.setCurrentWidget(self._slots[class_name])
        return page

    def page(self, spec: TabSpec[T_co]) -> T_co:
        """A tab as its own class (built if needed), made current."""
        page = self.show_tab(spec.name)
        assert isinstance(page, spec.load())
        return page

    def jump(self) -> None:
        """Ctrl+K: type any id or email and land on its case in Lookup."""
        self.page(LOOKUP).focus_search()

    def prefill_link(self, request: LinkRequest) -> None:
        """Lookup's "Link another account" (the userId) or "Link to a cTID user" (an unlinked
        account's login, environment, white_label): the Accounts tab, filled in."""
        self.page(ACCOUNTS).prefill(request)

    def show_in_lookup(self, text: str) -> None:
        self.page(LOOKUP).search_for(text)

    # --- profile -------------------------------------------------------------------------------

    @async_slot()
    async def _show_team_budget(self, budget: WriteBudget) -> None:
        try:
            figures = await budget.figures()
        except ExpectedError as exc:  # the team database is unreachable: say so, in the band
            if not shiboken6.isValid(self.band.budget):
                return
            self.band.budget.setText("Writes left: unknown")
            self.band.budget.setToolTip(str(exc))
            return
        # A round trip: the window may have been closed and deleted meanwhile.
        if shiboken6.isValid(self.band.budget):
            self._show_budget(figures, team=True)

    def _show_budget(self, figures: BudgetFigures, *, team: bool) -> None:
        lowered = " ⚠ lowered" if figures.lowered else ""
        self.band.budget.setText(f"Writes left: {figures.remaining} / {figures.per_hour}{lowered}")
        shared = "every workstation of the team" if team else "every write of the app"
        self.band.budget.setToolTip(
            figures.lowered
            or "Writes this connection may still send this hour (its budget: "
            f"{figures.per_hour} per hour, shared by {shared})"
        )

    @async_slot(bool)
    async def _team_link_changed(self, up: bool) -> None:
        """The team database answers again: a profile opened without it is opened again (the
        team's rules read now) and the views reload from the team. Gone: the band says so and
        the views keep what they show. Told once at the start too: nothing to do then."""
        was_up, self._team_was_up = self._team_was_up, up
        session = self.ctx.current_session
        # Nothing to redo: it answered before, the profile has the team's rules, and the
        # Approvals view listens (it does not start listening while the server is away).
        listening = self.approvals_view is None or self.approvals_view.listening
        settled = session is None or not session.opened_offline
        if up and was_up is not False and listening and settled:
            return
        self.refresh_band()
        if not up:
            return
        if session is not None and session.opened_offline:
            await self.open_profile(session.profile.id, remember=False)
        if self.approvals_view is not None:  # its listening connection went with the server
            self.approvals_view.stop_live_updates()
            self.approvals_view.start_live_updates()
            self.approvals_view.refresh()
        self.ctx.data_changed.emit()

    def refresh_band(self) -> None:
        self.team_status.show_link(self.backoffice.team_link if self.ctx.attached else None)
        session = self.ctx.current_session
        band = self.band
        if self.ctx.attached:
            band.profiles.blockSignals(True)
            band.profiles.clear()
            for profile in self.backoffice.settings.profiles:
                band.profiles.addItem(profile.name, profile.id)
            if session is not None:
                band.profiles.setCurrentIndex(band.profiles.findData(session.profile.id))
            band.profiles.blockSignals(False)
        if session is None:
            self.setWindowTitle(f"{APP_NAME} {__version__}")
            band.name.setText("No connection" if self.ctx.attached else "Starting…")
            for widget in (band.live, band.read_only):
                widget.hide()
            return
        profile = session.profile
        colour = theme.LIVE_RED if profile.live else profile.color
        sheet = (
            f"#profileBand {{ background:{colour}; }} "
            f"#profileBand QLabel {{ color: {theme.ON_BAND}; }}"
        )
        if band.styleSheet() != sheet:  # a new sheet restyles the band: ~15 ms after every write
            band.setStyleSheet(sheet)
        band.name.setText(profile.name)
        band.details.setText(
            f"{', '.join(profile.environments)} · {', '.join(profile.broker_names)}"
        )
        band.live.setVisible(profile.live)
        link = session.team_link
        team_away = session.opened_offline or (link is not None and not link.up)
        band.read_only.setVisible(profile.read_only or team_away)
        if session.budget.remote:  # the team's budget: a round trip, made off the loop
            self._show_team_budget(session.budget)
        else:
            self._show_budget(session.budget.figures_now(), team=False)
        if session.logged_in:
            band.login_state.setText(f"Manager {session.operator}")
            band.login_button.setText("Log out")
        else:
            band.login_state.setText("Not logged in")
            band.login_button.setText("Log in")
        live = "LIVE — " if profile.live else ""
        self.setWindowTitle(f"{live}{profile.name} — {APP_NAME} {__version__}")
        notice = session.token_notice
        if notice:
            self.statusBar().showMessage(notice)
        else:
            self.statusBar().clearMessage()

    @async_slot()
    async def _login_or_out(self) -> None:
        session = self.backoffice.session
        if session is None:
            return
        if session.logged_in:
            await session.logout()
            self.ctx.session_changed.emit()
        else:
            await self.ctx.login_prompt("Log in with your cTrader manager account.")

    @async_slot(int)
    async def _profile_picked(self, index: int) -> None:
        profile_id = self.band.profiles.itemData(index)
        if isinstance(profile_id, str):
            await self.open_profile(profile_id)

    async def open_profile(self, profile_id: str, *, remember: bool = True) -> None:
        await self.backoffice.open(profile_id, remember=remember)
        self.ctx.session_changed.emit()

    @async_slot()
    async def _manage_profiles(self) -> None:
        from ctrader_admin.ui.dialogs import ask
        from ctrader_admin.ui.profiles.dialog import ProfilesDialog

        dialog = ProfilesDialog(self, self.backoffice)
        try:
            await ask(dialog)
        finally:
            dialog.deleteLater()
        self.backoffice.settings = self.backoffice.profiles.load()
        self._tell_settings_problems()
        session = self.backoffice.session
        current = session.profile.id if session else "sandbox"
        ids = [p.id for p in self.backoffice.settings.profiles]
        await self.open_profile(current if current in ids else "sandbox")

    @async_slot()
    async def _import_directory(self) -> None:
        from ctrader_admin.ui.dialogs import ask
        from ctrader_admin.ui.import_dialog import ImportDialog

        dialog = ImportDialog(self, self.backoffice)
        try:
            await ask(dialog)
        finally:
            dialog.deleteLater()
        self.ctx.data_changed.emit()

    @async_slot()
    async def _team_database(self) -> None:
        from ctrader_admin.store.paths import AppPaths
        from ctrader_admin.ui.dialogs import ask
        from ctrader_admin.ui.team_dialog import TeamDialog

        dialog = TeamDialog(self, paths=AppPaths.from_environment(), tokens=self.backoffice.tokens)
        try:
            await ask(dialog)
        finally:
            dialog.deleteLater()

    @async_slot()
    async def _about(self) -> None:
        import asyncio

        from ctrader_admin.store.paths import AppPaths
        from ctrader_admin.ui.about_dialog import AboutDialog
        from ctrader_admin.ui.dialogs import ask

        keyring = "not known yet: the app is still starting"
        if self.ctx.attached:
            tokens = self.backoffice.tokens
            # Finding the keyring may wait on D-Bus: not on the event loop.
            keyring = await asyncio.to_thread(lambda: tokens.backend_name)
        dialog = AboutDialog(self, paths=AppPaths.from_environment(), keyring=keyring)
        try:
            await ask(dialog)
        finally:
            dialog.deleteLater()

    # --- lifetime ------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        self.qsettings.setValue("window/geometry", self.saveGeometry())
        session = self.ctx.current_session
        if session is not None:
            self.qsettings.setValue("profile/last", session.profile.id)
        self.qsettings.sync()
        notify.route_unhandled(None)
        super().closeEvent(event)
