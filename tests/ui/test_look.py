"""The look: one theme (light and dark), status never by colour alone, tables that remember
their columns, and the layout check over every screen (tools/screens.py, tools/fit_check.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor, QImage, QPalette, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QApplication, QLabel, QPushButton, QTableView, QWidget
from pytestqt.qtbot import QtBot

from ctrader_admin import resources
from ctrader_admin.ui import table_state, theme

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

from fit_check import clipped  # noqa: E402


@pytest.fixture
def themed(qapp: QApplication) -> Iterator[QApplication]:
    """The app's theme and style sheet, as app.py applies them; plain Qt again afterwards."""
    style, palette = qapp.style().name(), qapp.palette()
    theme.use_theme(qapp, resources.style_sheet())
    theme.apply_style_sheet(qapp, resources.style_sheet())
    yield qapp
    theme.apply_variant(qapp, dark=False, style_sheet=False)
    qapp.setStyleSheet("")
    qapp.setStyle(style)
    qapp.setPalette(palette)


def reddish_pixels(widget: QWidget, red: str) -> int:
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    target = QColor(red)
    count = 0
    for x in range(image.width()):
        for y in range(image.height()):
            pixel = QColor(image.pixel(x, y))
            if (
                abs(pixel.red() - target.red()) < 40
                and abs(pixel.green() - target.green()) < 40
                and abs(pixel.blue() - target.blue()) < 40
            ):
                count += 1
    return count


@pytest.mark.parametrize("dark", [False, True])
def test_disabled_destructive_button_does_not_stay_red(
    qtbot: QtBot, themed: QApplication, dark: bool
) -> None:
    theme.apply_variant(themed, dark=dark)
    button = QPushButton("Delete partnerId…")
    qtbot.addWidget(button)
    theme.mark_destructive(button)
    button.show()
    danger = theme.current().danger
    assert reddish_pixels(button, danger) > 10  # red while it can be pressed
    button.setEnabled(False)
    assert reddish_pixels(button, danger) == 0  # disabled: looks disabled


def test_the_desktop_scheme_picks_the_variant_and_recolours_the_app(
    qtbot: QtBot, themed: QApplication
) -> None:
    label = QLabel("✔ Chain intact")
    qtbot.addWidget(label)
    theme.set_tone(label, theme.Tone.SUCCESS)
    label.show()
    for dark, values in ((True, theme.DARK), (False, theme.LIGHT)):
        theme.apply_variant(themed, dark=dark)
        assert themed.palette().color(QPalette.ColorRole.Window) == QColor(values.window)
        assert values.success_fg in themed.styleSheet()
        assert label.palette().color(QPalette.ColorRole.WindowText) == QColor(values.success_fg)
    # Every $name of the template is known in both variants (a typo would raise).
    for dark in (False, True):
        theme.apply_variant(themed, dark=dark)
        assert "$" not in theme.render_style_sheet(resources.style_sheet())


def test_a_switch_of_the_desktop_scheme_recolours_the_open_app(
    monkeypatch: pytest.MonkeyPatch, themed: QApplication
) -> None:
    # The offscreen platform has no desktop scheme to switch: the desktop's answer comes from
    # the override, and the signal Qt sends on a switch is sent here.
    monkeypatch.setenv(theme.THEME_ENV, "dark")
    themed.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert theme.is_dark()
    assert themed.palette().color(QPalette.ColorRole.Base) == QColor(theme.DARK.base)
    assert theme.DARK.error_fg in themed.styleSheet()
    monkeypatch.setenv(theme.THEME_ENV, "light")
    themed.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Light)
    assert not theme.is_dark()
    assert themed.palette().color(QPalette.ColorRole.Base) == QColor(theme.LIGHT.base)


def test_the_environment_variable_overrides_the_desktop(
    monkeypatch: pytest.MonkeyPatch, qapp: QApplication
) -> None:
    monkeypatch.setenv(theme.THEME_ENV, "dark")
    assert theme.desktop_wants_dark()
    monkeypatch.setenv(theme.THEME_ENV, "light")
    assert not theme.desktop_wants_dark()


def test_status_icons_differ_by_tone_and_follow_the_variant(qapp: QApplication) -> None:
    images = {tone: theme.status_icon(tone).pixmap(16, 16).toImage() for tone in theme.Tone}
    assert len({image.cacheKey() for image in images.values()}) == len(theme.Tone)
    assert all(not theme.status_icon(tone).isNull() for tone in theme.Tone)
    assert theme.environment_icon(True).pixmap(12, 12).toImage() != (
        theme.environment_icon(False).pixmap(12, 12).toImage()
    )


def table(name: str) -> QTableView:
    model = QStandardItemModel(3, 4)
    model.setHorizontalHeaderLabels(["Login", "Env", "White Label", "partnerId"])
    for row, login in enumerate(("5200001", "3100001", "4100001")):
        model.setItem(row, 0, QStandardItem(login))
    view = QTableView()
    view.setObjectName(name)
    view.setModel(model)
    model.setParent(view)
    view.setSortingEnabled(True)
    table_state.remember_columns(view)
    return view


def test_tables_remember_widths_order_and_sort_across_restarts(
    qtbot: QtBot, tmp_path: Path
) -> None:
    path = str(tmp_path / "window.ini")
    table_state.use_settings(QSettings(path, QSettings.Format.IniFormat))
    try:
        first = table("accounts")
        qtbot.addWidget(first)
        header = first.horizontalHeader()
        header.resizeSection(2, 333)
        header.moveSection(3, 0)
        first.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        first.close()
        table_state.use_settings(None)
        # A restart: new settings object on the same file, a new view.
        table_state.use_settings(QSettings(path, QSettings.Format.IniFormat))
        again = table("accounts")
        qtbot.addWidget(again)
        restored = again.horizontalHeader()
        assert restored.sectionSize(2) == 333
        assert restored.logicalIndex(0) == 3
        assert restored.sortIndicatorSection() == 0
        assert restored.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
        model = again.model()
        assert model.index(0, 0).data() == "5200001"  # the rows are sorted as shown
        other = table("journal")  # another table keeps its own columns
        qtbot.addWidget(other)
        assert other.horizontalHeader().sectionSize(2) != 333
    finally:
        table_state.use_settings(None)


def test_an_elided_cell_shows_its_whole_text_as_tooltip(qtbot: QtBot) -> None:
    view = table("elided")
    qtbot.addWidget(view)
    model = view.model()
    assert isinstance(model, QStandardItemModel)
    long_text = "sandbox_main_white_label_with_a_very_long_name_indeed"
    model.setItem(0, 2, QStandardItem(long_text))
    model.setItem(1, 2, QStandardItem("short"))
    view.horizontalHeader().resizeSection(2, 80)
    view.resize(600, 200)
    view.show()
    assert table_state.tooltip_or_elided_text(view, 0, 2) == long_text
    assert table_state.tooltip_or_elided_text(view, 1, 2) == ""


def test_the_layout_check_finds_text_that_does_not_fit(qtbot: QtBot) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    fits = QLabel("Manager login:", window)
    fits.adjustSize()
    cut = QLabel("Writes left this hour: 998 / 1000", window)
    cut.setGeometry(0, 30, 60, 20)
    button = QPushButton("Move to White Label…", window)
    button.setGeometry(0, 60, 50, 30)
    wide = QPushButton("OK", window)
    wide.setGeometry(0, 100, 60, 30)  # under the style's 80 px minimum, and the text fits
    view = table("checked")
    view.setParent(window)
    view.setGeometry(0, 140, 400, 120)
    view.horizontalHeader().resizeSection(2, 30)
    model = view.model()
    assert isinstance(model, QStandardItemModel)
    model.setHorizontalHeaderItem(3, QStandardItem(""))
    window.resize(500, 300)
    window.show()
    problems = clipped(window)
    assert any("Writes left this hour" in p for p in problems)
    assert any("Move to White Label" in p for p in problems)
    assert any("header 'White Label'" in p for p in problems)
    assert not any("Manager login" in p or "'OK'" in p or "header 'Login'" in p for p in problems)
    assert any("column 3 has no name" in p for p in problems)
    assert len(problems) == 4


@pytest.mark.slow
def test_every_screen_and_dialog_fits_in_light_and_dark_at_100_and_200_percent(
    tmp_path: Path,
) -> None:
    """tools/screens.py check: the app's own start on the sandbox, every tab and dialog in both
    variants, once at 100 % and once at 200 % (QT_SCALE_FACTOR, a process each)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop(theme.THEME_ENV, None)
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "screens.py"), "check", "--out", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    print(done.stdout)
    assert "screens checked" in done.stdout, done.stderr[-3000:]
    summary = done.stdout.strip().splitlines()[-1]
    screens = int(summary.split()[0])
    assert screens >= 2 * 2 * 15  # (tabs + dialogs) × light/dark × 100/200 %
    assert len(list(tmp_path.glob("*.png"))) == screens
    clipped_lines = [line for line in done.stdout.splitlines() if line.startswith("CLIPPED")]
    assert clipped_lines == [], "\n".join(clipped_lines)
    assert done.returncode == 0


def test_a_table_that_gets_its_model_and_rows_later_elides_with_tooltips_too(
    qtbot: QtBot,
) -> None:
    """Jobs makes its views before their models; Lookup's table is empty until a search."""
    view = QTableView()
    qtbot.addWidget(view)
    table_state.remember_columns(view, "later")
    model = QStandardItemModel(0, 2)
    view.setModel(model)
    long_text = "a White Label name far too long for a forty pixel column"
    model.appendRow([QStandardItem("5200001"), QStandardItem(long_text)])
    view.horizontalHeader().resizeSection(1, 40)
    view.resize(400, 200)
    view.show()
    assert table_state.tooltip_or_elided_text(view, 0, 1) == long_text


def test_a_message_says_its_level_in_words_colour_and_icon(
    qtbot: QtBot, themed: QApplication
) -> None:
    from ctrader_admin.ui.notify import Level, MessageBar

    bar = MessageBar()
    qtbot.addWidget(bar)
    bar.show_message(Level.ERROR, "The server did not accept this login.")
    assert bar.property("tone") == "error"
    assert not bar.icon.pixmap().isNull()
    assert bar.icon.toolTip() == "Error"
    light_icon = bar.icon.pixmap().toImage()
    gone = MessageBar()
    gone.show_message(Level.INFO, "closed before the switch")
    gone.deleteLater()
    qtbot.wait(10)
    theme.apply_variant(themed, dark=True)  # re-paints the open bar's icon; the gone one is skipped
    assert bar.icon.pixmap().toImage() != light_icon


def test_every_lookup_account_row_shows_live_or_demo_as_a_picture_too(qapp: QApplication) -> None:
    from ctrader_admin.services.lookup import AccountRow
    from ctrader_admin.ui.lookup_accounts import AccountsModel

    model = AccountsModel()
    model.set_rows(
        [
            AccountRow(login=5200001, environment="live", ctid_trader_account_id=9000001,
                       broker_name="sandbox_main"),
            AccountRow(login=3100001, environment="demo", ctid_trader_account_id=9000002,
                       broker_name="sandbox_main"),
        ]
    )  # fmt: skip
    env = AccountsModel.COLUMNS.index("Env")
    icons = [model.index(row, env).data(Qt.ItemDataRole.DecorationRole) for row in (0, 1)]
    assert [model.index(row, env).data() for row in (0, 1)] == ["live", "demo"]
    assert all(icon is not None and not icon.isNull() for icon in icons)
    assert (
        icons[0].pixmap(12, 12).toImage() == theme.environment_icon(True).pixmap(12, 12).toImage()
    )
    assert icons[1].pixmap(12, 12).toImage() != icons[0].pixmap(12, 12).toImage()
