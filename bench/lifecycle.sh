#!/usr/bin/env bash
# Wall time of cpk test's full lifecycle scenario per package, and the
# share of it spent in cpk itself (add-on setup, backups, restores, checks,
# engine calls) versus waiting for the application (the engine starting
# its container, until its health check passes, stopping it), and the
# engine calls each step made. cpk%* counts the container starts as
# cpk's time instead (how the share was reckoned until the engine API).
# Not a test: it prints figures.
#
#   bench/lifecycle.sh [APP...]          default: webhook
#   CPK=/path/to/cpk bench/lifecycle.sh  use a built cpk
#   CPK_ENGINE_API=0 bench/lifecycle.sh  the engine's command line instead of its API
#
# Each step reads name=seconds/outcome/engine calls; calls is the run's
# total (box set-up and removal included), by verb below with the time
# they took.
#
# The package images and the add-on image are built before the clock runs
# (a first cpk test builds them), so the figures are the scenario alone.
set -euo pipefail
cd "$(dirname "$0")/.."
cpk=${CPK:-}
if [ -z "$cpk" ]; then cpk=$(mktemp -d)/cpk; go build -o "$cpk" ./cmd/cpk; fi
[ $# -gt 0 ] || set -- webhook
printf '%-12s %8s %8s %8s %7s %7s %6s  %s\n' app wall scenario app cpk% 'cpk%*' calls steps
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
    calls = r.get("engineCalls") or {}
    steps = " ".join("%s=%.1f/%s/%d" % (s["name"], s["seconds"], s["outcome"][:4], sum((s.get("engineCalls") or {}).values())) for s in r["steps"])
    share = 100 * (total - app) / total if total else 0
    starts = sum(s.get("startSeconds", 0) for s in r["steps"])
    share2 = 100 * (total - app + starts) / total if total else 0
    print("%-12s %7.1fs %7.1fs %7.1fs %6.0f%% %6.0f%% %6d  %s" % (r["app"], wall, total, app, share, share2, sum(calls.values()), steps))
    took = r.get("engineSeconds") or {}
    print("%-12s engine calls (count/seconds): %s" % ("", ", ".join("%s %d/%.1fs" % (k, v, took.get(k, 0)) for k, v in sorted(calls.items(), key=lambda kv: (-took.get(kv[0], 0), kv[0])))))
PY
  rm -f "$out"
done
