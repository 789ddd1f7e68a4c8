"""resources/ through its one helper, and the packaging files that must stay in step with it."""

from __future__ import annotations

import configparser
import struct
import tomllib
from pathlib import Path

import pytest

from ctrader_admin import resources

ROOT = Path(__file__).resolve().parents[2]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_resources_come_from_the_source_tree_here() -> None:
    # Tests run from a checkout (editable install): the second place the helper looks.
    assert resources.resources_dir() == ROOT / "resources"


def test_every_icon_size_exists_and_has_its_size() -> None:
    files = resources.icon_files()
    assert sorted(files) == sorted(resources.ICON_SIZES)
    for size, path in files.items():
        assert png_size(path) == (size, size)
    assert "<svg" in resources.icon_svg().read_text(encoding="utf-8")


def test_style_sheet_is_readable() -> None:
    assert "QToolTip" in resources.style_sheet()


def test_a_missing_resource_is_a_clear_error() -> None:
    with pytest.raises(resources.ResourceMissingError, match="no-such-file"):
        resources.resource_path("icons", "no-such-file.png")


def test_the_wheel_and_a_frozen_build_are_found_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An installed wheel / frozen bundle has ctrader_admin/_resources beside the module."""
    package = tmp_path / "ctrader_admin"
    (package / resources.PACKAGE_DIR_NAME / "icons").mkdir(parents=True)
    (package / resources.PACKAGE_DIR_NAME / "icons" / "x.png").write_bytes(PNG_SIGNATURE)
    monkeypatch.setattr(resources, "__file__", str(package / "resources.py"))
    resources.resources_dir.cache_clear()
    try:
        assert resources.resources_dir() == package / resources.PACKAGE_DIR_NAME
        (package / resources.PACKAGE_DIR_NAME / "icons").rename(package / "elsewhere")
        resources.resources_dir.cache_clear()
        with pytest.raises(resources.ResourceMissingError, match="looked in"):
            resources.resources_dir()
    finally:
        monkeypatch.undo()
        resources.resources_dir.cache_clear()


def code_packages() -> set[str]:
    """Every folder of ctrader_admin/ holding Python files: what `packages.find` would list."""
    base = ROOT / "ctrader_admin"
    return {
        ".".join(("ctrader_admin", *folder.relative_to(base).parts)).rstrip(".")
        for folder in [base, *base.rglob("*")]
        if folder.is_dir() and "__pycache__" not in folder.parts and any(folder.glob("*.py"))
    }


def test_pyproject_lists_every_package_and_resource_folder() -> None:
    """pyproject.toml lists packages by hand (to map resources/ into the wheel): a subpackage
    or resources/ subfolder missing from the list would be missing from every installer."""
    setuptools_config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(setuptools_config["packages"])
    found = code_packages()
    resource_dirs = {
        f"ctrader_admin._resources.{p.name}"
        for p in (ROOT / "resources").iterdir()
        if p.is_dir() and not p.name.startswith((".", "__"))
    }
    expected = found | {"ctrader_admin._resources"} | resource_dirs
    assert listed == expected, (
        "[tool.setuptools] packages in pyproject.toml is out of date: "
        f"add {sorted(expected - listed)}, remove {sorted(listed - expected)}"
    )
    assert setuptools_config["package-dir"] == {"ctrader_admin._resources": "resources"}
    data = setuptools_config["package-data"]
    for package in resource_dirs:
        folder = ROOT / "resources" / package.rsplit(".", 1)[1]
        patterns = data.get(package, [])
        for path in folder.iterdir():
            assert any(path.match(pattern) for pattern in patterns), (
                f"{path.relative_to(ROOT)} matches no package-data pattern of {package}"
            )


def test_make_icons_renders_the_sizes_the_helper_expects() -> None:
    text = (ROOT / "packaging" / "make_icons.py").read_text()
    assert f"ICON_SIZES = {resources.ICON_SIZES!r}" in text


def test_windows_and_macos_icons_hold_png_entries() -> None:
    ico = (ROOT / "packaging" / "windows" / "ctrader-admin.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", ico[:6])
    assert (reserved, kind) == (0, 1)
    assert count >= 5
    first_offset = struct.unpack("<I", ico[6 + 12 : 6 + 16])[0]
    assert ico[first_offset : first_offset + 8] == PNG_SIGNATURE
    icns = (ROOT / "packaging" / "macos" / "ctrader-admin.icns").read_bytes()
    assert icns[:4] == b"icns"
    assert struct.unpack(">I", icns[4:8])[0] == len(icns)


def test_desktop_entry_names_the_program_and_its_icon() -> None:
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read(ROOT / "packaging" / "linux" / "ctrader-admin.desktop", encoding="utf-8")
    section = entry["Desktop Entry"]
    assert section["Type"] == "Application"
    assert section["Exec"].split()[0] == "ctrader-admin"
    assert section["Icon"] == resources.ICON_NAME
    assert section["Terminal"] == "false"
    assert section["Categories"].endswith(";")
