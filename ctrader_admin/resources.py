"""The one way to reach ``resources/`` (icons, style sheets) at run time.

The repository keeps ``resources/`` at the top level, beside ``ctrader_admin/``. At run time the
same files sit in one of two places, tried in this order:

1. ``ctrader_admin/_resources/`` next to this module — an **installed wheel** (``pyproject.toml``
   maps the top-level folder onto that package path: ``[tool.setuptools] package-dir``
   ``"ctrader_admin._resources" = "resources"`` plus ``package-data``) and a **frozen build**
   (the PyInstaller spec, ``packaging/pyinstaller/ctrader-admin.spec``, copies ``resources/`` to
   the same relative place, so ``__file__`` of this module finds it inside the bundle too);
2. ``<checkout>/resources/`` — a **source tree** or an **editable install**, where this module is
   ``<checkout>/ctrader_admin/resources.py``.

No ``importlib.resources`` and no zip support: every install kind above is a plain folder, and Qt
wants file paths. Qt-free, so the CLI and tests can use it without a QApplication.
"""

from __future__ import annotations

import functools
from pathlib import Path

PACKAGE_DIR_NAME = "_resources"
ICON_NAME = "ctrader-admin"
# Rendered from icons/ctrader-admin.svg by packaging/make_icons.py.
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
STYLE_SHEET = ("styles", "app.qss")


class ResourceMissingError(FileNotFoundError):
    """A resource file is not where the install kind puts it: a broken build or install."""


def candidates() -> tuple[Path, ...]:
    """The folders searched for resources, in order (see the module docstring)."""
    here = Path(__file__).resolve().parent
    return (here / PACKAGE_DIR_NAME, here.parent / "resources")


@functools.cache
def resources_dir() -> Path:
    """The folder that holds ``icons/`` and ``styles/``; raises when no install kind has one."""
    for folder in candidates():
        if (folder / "icons").is_dir():
            return folder
    tried = ", ".join(str(folder) for folder in candidates())
    raise ResourceMissingError(f"ctrader-admin resources not found (looked in: {tried})")


def resource_path(*parts: str) -> Path:
    """The path of one resource file, e.g. ``resource_path("styles", "app.qss")``."""
    path = resources_dir().joinpath(*parts)
    if not path.is_file():
        raise ResourceMissingError(f"ctrader-admin resource missing: {path}")
    return path


def read_text(*parts: str) -> str:
    return resource_path(*parts).read_text(encoding="utf-8")


def icon_files() -> dict[int, Path]:
    """The application icon's PNG renderings by pixel size (for QIcon.addFile, the .deb)."""
    return {size: resource_path("icons", f"{ICON_NAME}-{size}.png") for size in ICON_SIZES}


def icon_svg() -> Path:
    return resource_path("icons", f"{ICON_NAME}.svg")


def style_sheet() -> str:
    return read_text(*STYLE_SHEET)
