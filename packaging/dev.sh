#!/usr/bin/env bash
# From a source checkout on Debian/Ubuntu: install what the app needs and run it, or run the tests.
#   bash packaging/dev.sh run    install the app into .venv and open it on the embedded sandbox
#   bash packaging/dev.sh test   install the test extras too and run the whole test suite
#   bash packaging/dev.sh deps   only install what the tests and checks need (used by CI)
set -euo pipefail
cd "$(dirname "$0")/.."

# Qt needs these even offscreen (docs/platform-notes.md); fonts come with libfontconfig1.
QT_LIBS="libgl1 libegl1 libfontconfig1 libfreetype6 libxkbcommon0 libdbus-1-3 libglib2.0-0"
# A real window on X11 needs these too.
X11_LIBS="libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-render-util0 \
libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0"

install_system_libs() {
  local wanted="$QT_LIBS $1" missing=()
  for pkg in $wanted; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "Installing system libraries: ${missing[*]}"
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes apt-get install -y -qq --no-install-recommends \
    python3-venv "${missing[@]}" >/dev/null
}

make_venv() {
  local python=${PYTHON:-python3}
  [ -x .venv/bin/python ] || "$python" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  # -qq: errors only; setuptools's note on editable installs is not for a newcomer's first minute.
  .venv/bin/python -m pip install -qq -e ".$1"
}

case "${1:-run}" in
  run)
    install_system_libs "$X11_LIBS"
    make_venv ""
    exec .venv/bin/ctrader-admin "${@:2}"
    ;;
  deps)
    install_system_libs ""
    make_venv "[test]"
    ;;
  test)
    install_system_libs ""
    make_venv "[test]"
    # Qt hangs ignore Python's signals: the outer timeout is the last line of defence.
    export QT_QPA_PLATFORM=offscreen PYTHON_KEYRING_BACKEND=keyring.backends.null.Keyring
    exec timeout --kill-after=30 40m .venv/bin/python -m pytest "${@:2}"
    ;;
  *)
    echo "usage: bash packaging/dev.sh run|test|deps [args…]" >&2
    exit 2
    ;;
esac
