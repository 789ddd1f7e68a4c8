"""Render the application icon from its SVG source into every format the installers need.

    QT_QPA_PLATFORM=offscreen python packaging/make_icons.py

Source: ``resources/icons/ctrader-admin.svg`` (hand-written, no external assets). Writes:

- ``resources/icons/ctrader-admin-<N>.png`` for N in ICON_SIZES: the window icon (all platforms)
  and the Linux hicolor theme icons the .deb installs;
- ``packaging/windows/ctrader-admin.ico``: the .exe and installer icon (PNG-compressed entries,
  read by Windows Vista and later);
- ``packaging/macos/ctrader-admin.icns``: the .app icon (PNG entries, macOS 10.7 and later).

The outputs are committed, so a build never needs this script; run it after editing the SVG.
ICO and ICNS are written here by hand (both are a small header plus PNG blobs), so nothing beyond
PySide6 is needed and the result does not depend on which Qt image plugins are installed.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ROOT = Path(__file__).resolve().parent.parent
SVG = ROOT / "resources" / "icons" / "ctrader-admin.svg"
PNG_DIR = ROOT / "resources" / "icons"
ICO = ROOT / "packaging" / "windows" / "ctrader-admin.ico"
ICNS = ROOT / "packaging" / "macos" / "ctrader-admin.icns"

# Keep in step with ctrader_admin.resources.ICON_SIZES.
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# ICNS entry types holding PNG data, by pixel size (Apple's "icp4".."ic10").
ICNS_TYPES = {16: b"icp4", 32: b"icp5", 64: b"icp6", 128: b"ic07", 256: b"ic08", 512: b"ic09"}
ICNS_RETINA = {1024: b"ic10"}


def render_png(renderer: QSvgRenderer, size: int) -> bytes:
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise RuntimeError(f"could not encode the {size}px PNG")
    buffer.close()
    return bytes(data.data())


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """ICONDIR + one ICONDIRENTRY per size + the PNG blobs (width/height 0 means 256)."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries, blobs = b"", b""
    for size in sizes:
        blob = pngs[size]
        side = 0 if size >= 256 else size
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(blob), offset)
        blobs += blob
        offset += len(blob)
    return header + entries + blobs


def icns_bytes(entries: list[tuple[bytes, bytes]]) -> bytes:
    body = b"".join(kind + struct.pack(">I", len(blob) + 8) + blob for kind, blob in entries)
    return b"icns" + struct.pack(">I", len(body) + 8) + body


def main() -> int:
    app = QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        print(f"make_icons: cannot read {SVG}", file=sys.stderr)
        return 1
    all_sizes = sorted({*ICON_SIZES, *ICO_SIZES, *ICNS_TYPES, *ICNS_RETINA})
    pngs = {size: render_png(renderer, size) for size in all_sizes}
    for size in ICON_SIZES:
        (PNG_DIR / f"ctrader-admin-{size}.png").write_bytes(pngs[size])
    ICO.parent.mkdir(parents=True, exist_ok=True)
    ICO.write_bytes(ico_bytes({size: pngs[size] for size in ICO_SIZES}))
    ICNS.parent.mkdir(parents=True, exist_ok=True)
    icns = [(kind, pngs[size]) for size, kind in {**ICNS_TYPES, **ICNS_RETINA}.items()]
    ICNS.write_bytes(icns_bytes(icns))
    del app
    written = [f"{len(ICON_SIZES)} PNGs in {PNG_DIR.relative_to(ROOT)}", str(ICO.relative_to(ROOT))]
    written.append(str(ICNS.relative_to(ROOT)))
    print("make_icons: wrote " + ", ".join(written))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
