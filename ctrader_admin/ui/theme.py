"""The one palette and spacing scale of every screen, in a light and a dark variant.

Colours live here and nowhere else: the Qt palette (Fusion style) is built from them before the
first window, the application style sheet (``resources/styles/app.qss``, a template with
``$names``) is filled in from them before it is shown (app.py), and table models ask
``colours(tone)`` for their cell colours. The variant follows the operator's desktop (Qt's colour
scheme, live: switching the desktop to dark re-colours the open window);
``CTRADER_ADMIN_THEME=light|dark`` overrides it.

Widgets say *what* something is — a tone (``Tone.ERROR``), ``destructive``, a hint — never
which colour: ``set_tone`` / ``mark_destructive`` set a dynamic property the style sheet matches,
and ``status_icon`` gives the icon that goes with a tone, so status is never colour alone."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING, NamedTuple

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette

if TYPE_CHECKING:
    from PySide6.QtGui import QIcon, QPainter
    from PySide6.QtWidgets import QApplication, QWidget

# Painting (icons) and the style sheet's template are imported when first used: this module
# comes with the first window, whose start-up time is measured (benchmarks/startup.py).

THEME_ENV = "CTRADER_ADMIN_THEME"
# Qt's own style, the same on every desktop, under the palette and style sheet built here.
STYLE = "Fusion"

# The spacing scale (pixels, scaled by Qt on high-DPI screens) and the corner radius.
SPACE_XS = 2
SPACE_S = 4
SPACE_M = 8
SPACE_L = 12
SPACE_XL = 16
RADIUS = 4

# The same in both variants: a live profile is unmistakable on any desktop.
LIVE_RED = "#b00020"
READ_ONLY_GREY = "#555555"
ON_BAND = "#ffffff"  # text and badges on a profile's colour band
# The colours offered for a profile's band: mid-tones that carry white text in both variants;
# red is left out, it means LIVE everywhere.
PROFILE_COLOURS = ("#4a6fa5", "#2a9d8f", "#6a4c93", "#e76f51", "#2d6a4f", "#495057")
SWATCH_RIM = "#00000060"  # a colour square's edge, visible on light and dark rows


class Tone(Enum):
    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"
    ERROR = "error"


class Colours(NamedTuple):
    """One variant. Every ``*_bg``/``*_fg`` pair is readable together (WCAG AA or better)."""

    window: str
    base: str
    alt_base: str
    button: str
    text: str
    muted: str
    disabled: str
    border: str
    accent: str
    accent_text: str
    link: str
    danger: str  # destructive buttons and invalid fields
    info_bg: str
    info_fg: str
    success_bg: str
    success_fg: str
    warning_bg: str
    warning_fg: str
    error_bg: str
    error_fg: str


LIGHT = Colours(
    window="#f4f5f7",
    base="#ffffff",
    alt_base="#f3f5f8",
    button="#e9ecf0",
    text="#1d2127",
    muted="#555c66",
    disabled="#9aa1ab",
    border="#c3c9d1",
    accent="#2f6fd1",
    accent_text="#ffffff",
    link="#1f5fbf",
    danger="#b00020",
    info_bg="#e8f1fb",
    info_fg="#1f4e79",
    success_bg="#e6f4ea",
    success_fg="#1e5631",
    warning_bg="#fff4e5",
    warning_fg="#7a4b00",
    error_bg="#fdecea",
    error_fg="#8a1c13",
)

DARK = Colours(
    window="#1f2227",
    base="#16181c",
    alt_base="#1d2025",
    button="#2c3038",
    text="#e4e7eb",
    muted="#a4acb7",
    disabled="#656c76",
    border="#41464f",
    accent="#3f7fe0",
    accent_text="#ffffff",
    link="#8cb8ff",
    danger="#ff7b86",
    info_bg="#142840",
    info_fg="#a9cdf5",
    success_bg="#11301c",
    success_fg="#8fd8a6",
    warning_bg="#3a2b0b",
    warning_fg="#f2c56c",
    error_bg="#3f1619",
    error_fg="#ffaaa6",
)


class _State(QObject):
    """The variant in use, and a signal for the few things painted outside the palette."""

    changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.dark = False
        self.template: str | None = None
        self.following = False  # connected to the desktop's colour-scheme changes


@functools.cache
def _state() -> _State:
    return _State()


def current() -> Colours:
    return DARK if _state().dark else LIGHT


def is_dark() -> bool:
    return _state().dark


def colours(tone: Tone) -> tuple[QColor, QColor]:
    """(background, foreground) of a tone in the variant in use, for table cells."""
    values = current()
    return QColor(getattr(values, f"{tone.value}_bg")), QColor(getattr(values, f"{tone.value}_fg"))


def qcolor(name: str) -> QColor:
    """A named colour of the variant in use (``qcolor("muted")``)."""
    return QColor(getattr(current(), name))


def html_colour(tone: Tone) -> str:
    """The foreground of a tone for rich text (``<span style='color:…'>``)."""
    return str(getattr(current(), f"{tone.value}_fg"))


# --- the variant: the desktop's, or the one asked for -----------------------------------------


def desktop_wants_dark() -> bool:
    """The operator's choice: CTRADER_ADMIN_THEME, else the desktop's colour scheme."""
    asked = os.environ.get(THEME_ENV, "").strip().lower()
    if asked in ("light", "dark"):
        return asked == "dark"
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def palette(values: Colours) -> QPalette:
    pal = QPalette()
    group = QPalette.ColorGroup
    role = QPalette.ColorRole
    for colour_role, name in (
        (role.Window, values.window),
        (role.WindowText, values.text),
        (role.Base, values.base),
        (role.AlternateBase, values.alt_base),
        (role.ToolTipBase, values.base),
        (role.ToolTipText, values.text),
        (role.PlaceholderText, values.muted),
        (role.Text, values.text),
        (role.Button, values.button),
        (role.ButtonText, values.text),
        (role.BrightText, values.accent_text),
        (role.Highlight, values.accent),
        (role.HighlightedText, values.accent_text),
        (role.Link, values.link),
        (role.LinkVisited, values.link),
        (role.Light, values.base),
        (role.Midlight, values.button),
        (role.Mid, values.border),
        (role.Dark, values.border),
        (role.Shadow, "#000000"),
    ):
        pal.setColor(colour_role, QColor(name))
    for colour_role in (role.WindowText, role.Text, role.ButtonText, role.PlaceholderText):
        pal.setColor(group.Disabled, colour_role, QColor(values.disabled))
    pal.setColor(group.Disabled, role.Highlight, QColor(values.border))
    return pal


def use_theme(app: QApplication, template: str | None, *, style_set: bool = False) -> None:
    """Before the first window: the Fusion style (unless the application was made with it,
    ``style_set``), the palette of the desktop's variant, and following the desktop when it
    switches. ``template`` (app.qss) is applied by ``apply_style_sheet`` after the first frame,
    which matches none of its rules (app.py): one pass over the built window's widgets."""
    if not style_set:
        app.setStyle(STYLE)
    state = _state()
    state.template = template
    apply_variant(app, dark=desktop_wants_dark(), style_sheet=False)
    if not state.following:
        state.following = True
        app.styleHints().colorSchemeChanged.connect(
            lambda _scheme: apply_variant(app, dark=desktop_wants_dark())
        )


def apply_variant(app: QApplication, *, dark: bool, style_sheet: bool = True) -> None:
    """Switch to the light or dark variant (the palette, and the style sheet if it is in use)."""
    state = _state()
    state.dark = dark
    app.setPalette(palette(current()))
    if style_sheet and state.template is not None and app.styleSheet():
        app.setStyleSheet(render_style_sheet(state.template))
    state.changed.emit()


def apply_style_sheet(app: QApplication, template: str) -> None:
    """The style sheet, filled in for the variant in use."""
    _state().template = template
    app.setStyleSheet(render_style_sheet(template))


def render_style_sheet(template: str) -> str:
    import string

    names: dict[str, object] = dict(current()._asdict())
    names.update(
        space_xs=SPACE_XS,
        space_s=SPACE_S,
        space_m=SPACE_M,
        space_l=SPACE_L,
        space_xl=SPACE_XL,
        radius=RADIUS,
        live_red=LIVE_RED,
        read_only_grey=READ_ONLY_GREY,
        on_band=ON_BAND,
    )
    return string.Template(template).substitute(names)


def on_change(slot: object) -> None:
    """Call ``slot()`` after every switch of variant (for colours painted outside the palette)."""
    _state().changed.connect(slot)


# --- what widgets say about themselves ---------------------------------------------------------


def set_style_property(widget: QWidget, name: str, value: object) -> None:
    """Set a property the style sheet matches, and re-style the widget (Qt does not re-match
    a dynamic property by itself)."""
    if widget.property(name) == value:
        return
    widget.setProperty(name, value)
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
    widget.update()


def set_tone(widget: QWidget, tone: Tone | None) -> None:
    """Colour a label (or a message bar) by what it says: ok, warning, error, information."""
    widget.setForegroundRole(QPalette.ColorRole.WindowText)
    set_style_property(widget, "tone", tone.value if tone is not None else "")


def set_panel(widget: QWidget, tone: Tone) -> None:
    """A boxed statement in a tone's colours (a verdict, a hint panel)."""
    # A hint() paints in the palette's muted role, which the style sheet's colour does not set.
    widget.setForegroundRole(QPalette.ColorRole.WindowText)
    set_style_property(widget, "panel", tone.value)


def mark_destructive(widget: QWidget) -> None:
    """A button that deletes or overwrites: red while it can be pressed, grey when disabled."""
    set_style_property(widget, "destructive", True)


# --- icons that carry the same meaning as the colour -------------------------------------------

_GLYPHS = {
    Tone.INFO: "i",
    Tone.SUCCESS: "check",
    Tone.WARNING: "!",
    Tone.ERROR: "x",
}


def status_icon(tone: Tone, size: int = 16) -> QIcon:
    """A round icon in the tone's colour with a glyph drawn as lines (no font needed): ✓ for
    success, ! for warning, × for error, i for information."""
    return _status_icon(tone, size, is_dark())


def _painted_icon(size: int, draw: Callable[[QPainter], None]) -> QIcon:
    """An icon drawn by ``draw`` on a ``size``-pixel square, at 1× and 2× (high-DPI screens)."""
    from PySide6.QtGui import QIcon, QPainter, QPixmap

    icon = QIcon()
    for scale in (1, 2):
        pixmap = QPixmap(size * scale, size * scale)
        pixmap.setDevicePixelRatio(scale)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        draw(painter)
        painter.end()
        icon.addPixmap(pixmap)
    return icon


@functools.cache
def _status_icon(tone: Tone, size: int, dark: bool) -> QIcon:
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QPen

    fill = QColor(getattr(DARK if dark else LIGHT, f"{tone.value}_fg"))
    glyph = QColor(DARK.base if dark else LIGHT.base)

    def draw(painter: QPainter) -> None:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(fill)
        painter.drawEllipse(QRectF(1, 1, size - 2, size - 2))
        pen = QPen(glyph, max(1.6, size / 8))
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        _draw_glyph(painter, _GLYPHS[tone], size)

    return _painted_icon(size, draw)


def _draw_glyph(painter: QPainter, glyph: str, size: int) -> None:
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QPainterPath

    s = size / 16
    if glyph == "check":
        path = QPainterPath(QPointF(4.5 * s, 8.5 * s))
        path.lineTo(7 * s, 11 * s)
        path.lineTo(11.5 * s, 5.5 * s)
        painter.drawPath(path)
    elif glyph == "x":
        painter.drawLine(QPointF(5.5 * s, 5.5 * s), QPointF(10.5 * s, 10.5 * s))
        painter.drawLine(QPointF(10.5 * s, 5.5 * s), QPointF(5.5 * s, 10.5 * s))
    elif glyph == "!":
        painter.drawLine(QPointF(8 * s, 4.5 * s), QPointF(8 * s, 8.5 * s))
        painter.drawPoint(QPointF(8 * s, 11.3 * s))
    else:  # "i"
        painter.drawPoint(QPointF(8 * s, 4.8 * s))
        painter.drawLine(QPointF(8 * s, 7.5 * s), QPointF(8 * s, 11.5 * s))


def environment_icon(live: bool, size: int = 12) -> QIcon:
    """Beside an environment's name: a filled red dot for live (real money), a hollow one for any
    other environment, so live stands out in a list without reading every row's colour."""
    return _environment_icon(live, size, is_dark())


@functools.cache
def _environment_icon(live: bool, size: int, dark: bool) -> QIcon:
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QPen

    values = DARK if dark else LIGHT

    def draw(painter: QPainter) -> None:
        if live:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(values.danger))
        else:
            painter.setPen(QPen(QColor(values.muted), 1.5))
            painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawEllipse(QRectF(2, 2, size - 4, size - 4))

    return _painted_icon(size, draw)


def is_live_environment(name: str | None) -> bool:
    return (name or "").strip().lower() == "live"
