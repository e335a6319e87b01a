#!/usr/bin/env bash
# Wall time of cpk test's full lifecycle scenario per package, and the
# share of it spent in cpk itself (add-on setup, backups, restores, checks,
# engine calls) versus waiting for the application (starting until its
# health check passes, stopping). Not a test: it prints figures.
#
#   bench/lifecycle.sh [APP...]          default: webhook
#   CPK=/path/to/cpk bench/lifecycle.sh  use a built cpk
#
# The package images and the add-on image are built before the clock runs
# (a first cpk test builds them), so the figures are the scenario alone.
set -euo pipefail
cd "$(dirname "$0")/.."
cpk=${CPK:-}
if [ -z "$cpk" ]; then cpk=$(mktemp -d)/cpk; go build -o "$cpk" ./cmd/cpk; fi
[ $# -gt 0 ] || set -- webhook
printf '%-12s %8s %8s %8s %7s  %s\n' app wall scenario app cpk% steps
for app in "$@"; do
  "$cpk" build "$app" --offline >/dev/null 2>&1 || true
  out=$(mktemp)
  start=$(date +%s.%N)
  "$cpk" test "$app" --offline --format json >"$out" 2>/dev/null || true
  end=$(date +%s.%N)
  python3 - "$out" "$start" "$end" "$app" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))
wall = float(sys.argv[3]) - float(sys.argv[2])
for r in res:
    total, app = r["seconds"], r["appSeconds"]
    steps = " ".join("%s=%.1f/%s" % (s["name"], s["seconds"], s["outcome"][:4]) for s in r["steps"])
    share = 100 * (total - app) / total if total else 0
    print("%-12s %7.1fs %7.1fs %7.1fs %6.0f%%  %s" % (r["app"], wall, total, app, share, steps))
PY
  rm -f "$out"
done
