#!/usr/bin/env bash
# Install the .deb into a fresh minimal Debian root and run the app's smoke test there:
# proves the package's Depends are complete and the bundle needs nothing else from the system.
#
#   bash packaging/test-deb-in-debootstrap.sh [path/to/ctrader-admin_*.deb]    (as root)
#
# 1. a minimal root (`debootstrap --variant=minbase`, Debian bookworm like the build machine),
#    from Debian's package archive; the pristine root is kept as build/debootstrap/*.tar so
#    that the next run starts from an identical fresh root without downloading it again;
# 2. `apt-get install ./ctrader-admin_*.deb` inside it (chroot) — apt pulls the Depends;
# 3. every shared library in /opt/ctrader-admin is resolved with ldd (a missing one is named);
# 4. `ctrader-admin --version`, then `ctrader-admin --smoke-test` offscreen, inside the root;
# 5. the desktop entry and icon are where menus look; `apt-get purge` leaves no program file.
#
# Environment: DEBIAN_SUITE (bookworm), DEBIAN_MIRROR (http://deb.debian.org/debian),
# KEEP_ROOT=1 keeps the root in build/debootstrap/root for inspection.
# Takes ~3 min the first time (debootstrap), ~1 min with the cached root. Needs root, network
# to the Debian archive, and mount/chroot (a normal CI machine or VM; not a rootless container).
set -euo pipefail
cd "$(dirname "$0")/.."
suite=${DEBIAN_SUITE:-bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
deb=${1:-$(ls -t dist/ctrader-admin_*.deb 2>/dev/null | head -n1)}
if [ -z "$deb" ] || [ ! -f "$deb" ]; then
  echo "no .deb given and none in dist/: run packaging/build-linux.sh first" >&2
  exit 2
fi
[ "$(id -u)" -eq 0 ] || exec sudo --preserve-env=DEBIAN_SUITE,DEBIAN_MIRROR,KEEP_ROOT "$0" "$@"
start=$(date +%s)

command -v debootstrap >/dev/null || {
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap \
    >/dev/null
}

work=$PWD/build/debootstrap
arch=$(dpkg --print-architecture)
pristine=$work/$suite-$arch-minbase.tar
root=$work/root
mkdir -p "$work"

cleanup() {
  for mount in dev/pts dev proc sys; do
    mountpoint -q "$root/$mount" 2>/dev/null && umount -l "$root/$mount"
  done
  [ "${KEEP_ROOT:-0}" = 1 ] || rm -rf "$root"
}
trap cleanup EXIT
cleanup

if [ ! -f "$pristine" ]; then
  echo "== debootstrap --variant=minbase $suite (once; kept as $pristine)"
  rm -rf "$work/fresh"
  debootstrap --variant=minbase --arch="$arch" "$suite" "$work/fresh" "$mirror" >"$work/debootstrap.log" 2>&1 || {
    tail -n 30 "$work/debootstrap.log" >&2
    exit 1
  }
  tar -C "$work/fresh" -cf "$pristine.part" . && mv "$pristine.part" "$pristine"
  rm -rf "$work/fresh"
fi
echo "== fresh $suite root from $pristine"
mkdir -p "$root"
tar -C "$root" -xf "$pristine"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
cp /etc/resolv.conf "$root/etc/resolv.conf"
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }
echo "packages in the bare root: $(in_root dpkg-query -W | wc -l)"

echo "== apt-get install ./$(basename "$deb")"
cp "$deb" "$root/tmp/"
in_root apt-get update -qq
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  "/tmp/$(basename "$deb")" >"$work/apt-install.log" 2>&1 || {
  tail -n 30 "$work/apt-install.log" >&2
  exit 1
}
echo "installed: $(in_root dpkg-query -W -f='${Package} ${Version} (${Status})' ctrader-admin)," \
  "$(in_root dpkg-query -W | wc -l) packages in the root now"

echo "== shared libraries of /opt/ctrader-admin resolve (ldd)"
# Qt plugins for desktops we do not depend on (GTK theme, Wayland compositors' extras) may
# miss their libraries: Qt skips such a plugin. Everything else must resolve.
optional='/plugins/(platformthemes|wayland-[a-z-]+|egldeviceintegrations|networkinformation|tls)/'
# The bootloader puts _internal/ on the library path; Qt's own libraries find each other by RPATH.
missing=$(in_root env LD_LIBRARY_PATH=/opt/ctrader-admin/_internal sh -c '
  find /opt/ctrader-admin -type f -name "*.so*" | while read -r f; do
    ldd "$f" 2>/dev/null | sed -n "s|^\t\(.*\) => not found|$f: \1|p"; done' | sort -u)
required=$(grep -Ev "$optional" <<<"$missing" || true)
optional_missing=$(grep -E "$optional" <<<"$missing" | sed -E 's|.*/plugins/||; s|: .*||' | sort -u |
  paste -sd, - || true)
if [ -n "$required" ]; then
  echo "FAILED: libraries the package does not bring:" >&2
  echo "$required" >&2
  exit 1
fi
echo "all resolve (optional desktop plugins Qt will skip here: ${optional_missing:-none})"

echo "== ctrader-admin in the fresh root"
in_root ctrader-admin --version
in_root env QT_QPA_PLATFORM=offscreen timeout --kill-after=10 120 ctrader-admin --smoke-test \
  2> >(grep -v "propagateSizeHints" >&2)

echo "== desktop entry, icon, removal"
for file in /usr/share/applications/ctrader-admin.desktop \
  /usr/share/icons/hicolor/256x256/apps/ctrader-admin.png /usr/bin/ctrader-admin; do
  in_root test -e "$file" || {
    echo "FAILED: $file is missing" >&2
    exit 1
  }
done
in_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq ctrader-admin >/dev/null
if in_root test -e /opt/ctrader-admin/ctrader-admin || in_root test -e /usr/bin/ctrader-admin; then
  echo "FAILED: program files left after apt-get purge" >&2
  exit 1
fi
echo "purge removed /opt/ctrader-admin and /usr/bin/ctrader-admin"
echo "deb root test ok: $(basename "$deb") on fresh Debian $suite, $(($(date +%s) - start)) s"
