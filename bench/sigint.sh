#!/usr/bin/env bash
# How fast Ctrl-C stops cpk's catalog commands on a large catalog: builds a
# catalog of N copies of the webhook package (default 3000), starts each
# command, sends SIGINT after a second and prints the time from the signal
# to the exit, the exit code (130 expected) and whether anything was left
# half-written (temporary files, a results store). Not a test: it prints
# figures.
#
#   bench/sigint.sh [N]
#   CPK=/path/to/cpk bench/sigint.sh     use a built cpk
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-3000}
cpk=${CPK:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -z "$cpk" ]; then cpk=$work/cpk; go build -o "$cpk" ./cmd/cpk; fi
root=$work/catalog
mkdir -p "$root/apps"
git -C "$root" init -q
for i in $(seq -w 1 "$n"); do
  cp -r apps/webhook "$root/apps/app$i"
  sed -i "s/^id: webhook/id: app$i/" "$root/apps/app$i/cpk.yaml"
done
echo "catalog: $n packages"
printf '%-22s %10s %5s  %s\n' command signal-to-exit exit left-behind
for cmd in "lint" "status" "docs --check" "docs" "upstream check"; do
  # shellcheck disable=SC2086 # the command's words
  CPK_DB="$work/results.db" "$cpk" --root "$root" $cmd >/dev/null 2>&1 &
  pid=$!
  sleep 1
  if ! kill -0 "$pid" 2>/dev/null; then
    wait "$pid" && code=0 || code=$?
    printf '%-22s %10s %5s  %s\n' "$cmd" "(done <1s)" "$code" "-"
    continue
  fi
  sent=$(date +%s.%N)
  kill -INT "$pid"
  wait "$pid" && code=0 || code=$?
  took=$(echo "$(date +%s.%N) - $sent" | bc)
  left=$(find "$root" -name '*.tmp*' -o -name '.cpk-*' | wc -l)
  [ "$cmd" = lint ] && [ -e "$work/results.db" ] && left="$left + results"
  printf '%-22s %9.2fs %5s  %s\n' "$cmd" "$took" "$code" "$left"
done
