#!/usr/bin/env bash
# The installer figures: bundle size, .deb size, build time, and the frozen app's start-to-window
# time against the same from source, side by side.
#
#   bash packaging/measure.sh            figures of the last packaging/build-linux.sh run
#   bash packaging/measure.sh --build    build first (the build time is then this run's)
#
# Start-to-window: `--smoke-test` with CTRADER_ADMIN_SMOKE_T0 set to the launch time, so its
# "window shown in N ms" covers everything from exec (bootloader, interpreter, imports, the
# window's construction and first paint). "From source" is `python -m ctrader_admin` in the
# checkout, run by the build venv's interpreter: the same Python and libraries as the bundle.
# One warm-up run each (disk cache, .pyc), then RUNS (default 1) measured runs, alternating.
set -euo pipefail
cd "$(dirname "$0")/.."
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
runs=${RUNS:-1}

if [ "${1:-}" = "--build" ] || [ ! -f build/package-figures.env ]; then
  bash packaging/build-linux.sh
fi
# shellcheck disable=SC1091
. build/package-figures.env
frozen=$BUNDLE_DIR/ctrader-admin
source_python=build/venv-package/bin/python
if [ ! -x "$frozen" ] || [ ! -x "$source_python" ]; then
  echo "no build to measure: run bash packaging/build-linux.sh" >&2
  exit 2
fi

# Prints the smoke test's "window shown in" milliseconds for one launch of "$@".
window_ms() {
  local line
  line=$(CTRADER_ADMIN_SMOKE_T0=$(date +%s.%N) "$@" --smoke-test 2>/dev/null) || {
    echo "smoke test failed: $*" >&2
    return 1
  }
  sed -E 's/.*window shown in ([0-9]+) ms.*/\1/' <<<"$line"
}

window_ms "$frozen" >/dev/null
window_ms "$source_python" -m ctrader_admin >/dev/null
frozen_ms=()
source_ms=()
for _ in $(seq 1 "$runs"); do
  frozen_ms+=("$(window_ms "$frozen")")
  source_ms+=("$(window_ms "$source_python" -m ctrader_admin)")
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
f=$(median "${frozen_ms[@]}")
s=$(median "${source_ms[@]}")

echo "== ctrader-admin installer figures ($(uname -m), $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg))"
awk -v b="$BUNDLE_BYTES" -v d="$DEB_BYTES" 'BEGIN {
  printf "bundle (PyInstaller one folder) %8.1f MB\n.deb (zstd)                     %8.1f MB\n",
    b / 1e6, d / 1e6 }'
echo "build time: whole script ${TOTAL_SECONDS} s (build venv ${VENV_SECONDS} s," \
  "PyInstaller ${PYINSTALLER_SECONDS} s, .deb ${DEB_SECONDS} s)"
awk -v f="$f" -v s="$s" -v n="$runs" 'BEGIN {
  printf "start-to-window (median of %d): frozen %d ms, source %d ms, frozen/source = %.2f\n",
    n, f, s, f / s }'
echo "runs: frozen ${frozen_ms[*]} ms; source ${source_ms[*]} ms"
