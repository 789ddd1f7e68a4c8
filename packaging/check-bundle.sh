#!/usr/bin/env bash
# Check a built ctrader-admin executable (frozen bundle or installed package):
#   1. `--version` answers;
#   2. `--smoke-test` offscreen: main window on the sandbox, one lookup, one line, exit 0;
#   3. `sandbox --tls` serves HTTPS on loopback (uvicorn, cryptography, the sandbox's own modules
#      are all in the bundle) and answers /_sandbox/health (skipped without curl).
#
#   bash packaging/check-bundle.sh dist/ctrader-admin/ctrader-admin
set -euo pipefail
exe=${1:?usage: check-bundle.sh PATH-TO-ctrader-admin}
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}

echo "-- $exe --version"
timeout 60 "$exe" --version

echo "-- $exe --smoke-test"
# The smoke test has its own 60 s watchdog; the outer timeout is the last line of defence.
timeout --kill-after=10 120 "$exe" --smoke-test 2> >(grep -v "propagateSizeHints" >&2)

echo "-- $exe sandbox --tls (HTTPS on loopback)"
if ! command -v curl >/dev/null; then
  echo "skipped: curl is not installed"
  exit 0
fi
scratch=$(mktemp -d)
"$exe" sandbox --port 0 --tls --quiet --cert-dir "$scratch/tls" >"$scratch/out" 2>&1 &
pid=$!
stop() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$scratch"; }
trap stop EXIT
for _ in $(seq 1 150); do
  grep -q "listening on" "$scratch/out" && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.2
done
line=$(grep -m1 "listening on" "$scratch/out" || true)
if [ -z "$line" ]; then
  echo "FAILED: the sandbox did not start:" >&2
  cat "$scratch/out" >&2
  exit 1
fi
url=$(sed -E 's/.*listening on ([^ ]+).*/\1/' <<<"$line")
ca=$(sed -E 's/.*CA bundle: ([^)]+)\).*/\1/' <<<"$line")
health=$(curl --silent --show-error --max-time 10 --cacert "$ca" "$url/_sandbox/health")
echo "sandbox ok: $url/_sandbox/health → $health"
