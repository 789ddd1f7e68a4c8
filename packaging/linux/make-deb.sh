#!/usr/bin/env bash
# Wrap a PyInstaller one-folder bundle into a .deb:
#   /opt/ctrader-admin/                                the bundle (read-only program files)
#   /usr/bin/ctrader-admin -> /opt/ctrader-admin/ctrader-admin
#   /usr/share/applications/ctrader-admin.desktop     the menu entry
#   /usr/share/icons/hicolor/<N>x<N>/apps/ctrader-admin.png, scalable/apps/ctrader-admin.svg
#   /usr/share/doc/ctrader-admin/copyright
# Depends: the Qt system libraries (docs/platform-notes.md). No maintainer scripts: dpkg triggers of
# desktop-file-utils and the icon caches pick the entry and icons up where those are installed.
#
#   bash packaging/linux/make-deb.sh BUNDLE_DIR OUT_DIR      prints the .deb's path last
set -euo pipefail
bundle=${1:?usage: make-deb.sh BUNDLE_DIR OUT_DIR}
out_dir=${2:?usage: make-deb.sh BUNDLE_DIR OUT_DIR}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
name=ctrader-admin

# The version the bundle itself reports, so package and program can never disagree.
version=$(QT_QPA_PLATFORM=offscreen "$bundle/$name" --version | awk '{print $2}')
# PEP 440 pre-releases sort before the release in Debian only with a tilde: 0.2.0rc1 -> 0.2.0~rc1.
deb_version=$(sed -E 's/\.?(a|b|rc|dev)([0-9]*)$/~\1\2/' <<<"$version")
arch=$(dpkg --print-architecture)
# The bundle carries the build machine's glibc expectations.
glibc=$(dpkg-query -W -f='${Version}' libc6 | sed -E 's/-.*//')

qt_libs="libgl1, libegl1, libfontconfig1, libfreetype6, libxkbcommon0, libdbus-1-3, libglib2.0-0"
x11_libs="libxcb-cursor0, libxcb-icccm4, libxcb-image0, libxcb-keysyms1, libxcb-render-util0, \
libxcb-shape0, libxcb-xkb1, libxkbcommon-x11-0, libx11-xcb1"
# Qt 6 prefers its Wayland plugin on a Wayland session (Debian's GNOME default).
wayland_libs="libwayland-client0, libwayland-cursor0, libwayland-egl1"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/DEBIAN" "$stage/opt" "$stage/usr/bin" "$stage/usr/share/applications" \
  "$stage/usr/share/doc/$name" "$stage/usr/share/icons/hicolor/scalable/apps"
cp -a "$bundle" "$stage/opt/$name"
ln -s "/opt/$name/$name" "$stage/usr/bin/$name"
install -m 0644 "$here/$name.desktop" "$stage/usr/share/applications/$name.desktop"
for png in "$root"/resources/icons/"$name"-*.png; do
  size=$(basename "$png" .png)
  size=${size##*-}
  mkdir -p "$stage/usr/share/icons/hicolor/${size}x${size}/apps"
  install -m 0644 "$png" "$stage/usr/share/icons/hicolor/${size}x${size}/apps/$name.png"
done
install -m 0644 "$root/resources/icons/$name.svg" "$stage/usr/share/icons/hicolor/scalable/apps/"
cat >"$stage/usr/share/doc/$name/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: $name
Comment: ctrader-admin is proprietary. /opt/$name bundles Python, Qt (PySide6, LGPLv3) and the
 Python packages listed in /opt/$name/_internal/*.dist-info, each under its own licence.
EOF
# Program files: readable by all, written by root only (the package is root-owned via dpkg-deb).
chmod -R u+rwX,go+rX,go-w "$stage"

installed_kb=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat >"$stage/DEBIAN/control" <<EOF
Package: $name
Version: $deb_version
Architecture: $arch
Maintainer: ctrader-admin maintainers <ctrader-admin@localhost>
Installed-Size: $installed_kb
Depends: libc6 (>= $glibc), $qt_libs, $x11_libs, $wayland_libs
Suggests: gnome-keyring
Section: misc
Priority: optional
Description: back-office console for cTrader brokers
 Look up cTID users and trading accounts, create users, link accounts, move
 accounts between White Labels and fix partner attribution, with a
 hash-chained journal of every write. Ships an embedded training sandbox.
 .
 Self-contained build (Python and Qt included) under /opt/$name. Settings,
 data and logs live in each user's home; the manager token in the keyring.
EOF

mkdir -p "$out_dir"
deb="$out_dir/${name}_${deb_version}_${arch}.deb"
dpkg-deb --root-owner-group -Zzstd --build "$stage" "$deb" >/dev/null
echo "$deb"
