#!/usr/bin/env bash
# Linux installers: a PyInstaller one-folder bundle and a .deb made from it, both checked.
#
#   bash packaging/build-linux.sh
#
# 1. build/venv-package: a venv with a NORMAL install of this checkout (+ PyInstaller, the
#    `package` extra). PyInstaller cannot see an editable install (docs/platform-notes.md).
# 2. the wheel's resources are checked where an installed wheel has them;
# 3. packaging/pyinstaller/ctrader-admin.spec -> dist/ctrader-admin/ (bundle);
# 4. packaging/check-bundle.sh on the bundle: --version, --smoke-test, sandbox over TLS;
# 5. packaging/linux/make-deb.sh -> dist/ctrader-admin_<version>_<arch>.deb;
# 6. prints sizes and times, and writes them to build/package-figures.env (packaging/measure.sh).
#
# Environment: PYTHON (interpreter for the build venv, default python3; it must have a shared
# libpython, as Debian's python3 with libpython3.11 and pyenv's builds here do).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
venv=build/venv-package
export PIP_DISABLE_PIP_VERSION_CHECK=1 QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
build_start=$(now)

# PyInstaller reads library dependencies with objdump (binutils); the .deb needs dpkg-deb; the
# frozen smoke test needs the Qt system libraries (packaging/dev.sh installs those for CI).
missing=()
command -v objdump >/dev/null || missing+=(binutils)
command -v dpkg-deb >/dev/null || missing+=(dpkg)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "Installing build tools: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

echo "== build venv ($venv): normal install of this checkout + PyInstaller"
[ -x "$venv/bin/python" ] || "${PYTHON:-python3}" -m venv "$venv"
# setuptools reuses build/lib between builds and never deletes from it: a module removed from
# the tree would live on in the wheel. Start from a clean slate.
rm -rf build/lib build/bdist.*
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q ".[package]"
venv_done=$(now)

echo "== the installed wheel carries resources/"
# From build/, so that the checkout's own ctrader_admin/ is not on sys.path.
(cd build && "$root/$venv/bin/python" - <<'EOF'
from ctrader_admin import resources

folder = resources.resources_dir()
assert "site-packages" in folder.parts, f"resources come from {folder}, not the installed wheel"
print(f"{len(resources.icon_files())} icons and the style sheet in {folder}")
resources.style_sheet()
EOF
)

echo "== PyInstaller (one folder)"
rm -rf dist/ctrader-admin
pyi_start=$(now)
(cd build && "$root/$venv/bin/pyinstaller" --noconfirm --clean --log-level WARN \
  --distpath "$root/dist" --workpath "$root/build/pyinstaller" \
  "$root/packaging/pyinstaller/ctrader-admin.spec")
pyi_done=$(now)

echo "== checks on the bundle"
bash packaging/check-bundle.sh dist/ctrader-admin/ctrader-admin

echo "== .deb"
rm -f dist/ctrader-admin_*.deb
deb_start=$(now)
deb=$(bash packaging/linux/make-deb.sh dist/ctrader-admin dist)
deb_done=$(now)
dpkg-deb --field "$deb" Package Version Architecture Installed-Size

bundle_bytes=$(du -sb dist/ctrader-admin | cut -f1)
deb_bytes=$(stat -c %s "$deb")
build_done=$(now)
cat >build/package-figures.env <<EOF
BUNDLE_DIR=dist/ctrader-admin
BUNDLE_BYTES=$bundle_bytes
DEB=$deb
DEB_BYTES=$deb_bytes
VENV_SECONDS=$(elapsed "$build_start" "$venv_done")
PYINSTALLER_SECONDS=$(elapsed "$pyi_start" "$pyi_done")
DEB_SECONDS=$(elapsed "$deb_start" "$deb_done")
TOTAL_SECONDS=$(elapsed "$build_start" "$build_done")
EOF
echo "== figures"
awk -v b="$bundle_bytes" -v d="$deb_bytes" 'BEGIN {
  printf "bundle dist/ctrader-admin: %.1f MB\n.deb: %.1f MB\n", b / 1e6, d / 1e6 }'
# shellcheck disable=SC1091
. build/package-figures.env
echo "build venv ${VENV_SECONDS} s, PyInstaller ${PYINSTALLER_SECONDS} s, .deb ${DEB_SECONDS} s," \
  "whole script ${TOTAL_SECONDS} s"
echo "artefacts: dist/ctrader-admin/ and $deb"
