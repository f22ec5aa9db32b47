#!/usr/bin/env bash
# The performance targets of docs/PERFORMANCE.md, each the median of RUNS
# chain-bench runs on a fresh 4-validator network:
#   1. sustained throughput (--rate max for MAX_S seconds) as a fraction of
#      the verify-bound limit measured in the same run, and nothing lost;
#   2. closed loop, one client: p50 submit-to-commit latency;
#   3. open loop at half the median maximum: p99 latency.
# Prints a Markdown table; every run's report stays in OUT/.
# Usage: bench/targets.sh [BUILD_DIR] [OUT] [RUNS]  (defaults: build, bench-targets, 3)
# Environment: MAX_S (60), LAT_S (30), CLIENTS (8), BATCH (250).
set -euo pipefail
BUILD=${1:-build}
OUT=${2:-bench-targets}
RUNS=${3:-3}
MAX_S=${MAX_S:-60}
LAT_S=${LAT_S:-30}
CLIENTS=${CLIENTS:-8}
BATCH=${BATCH:-250}
BENCH="$BUILD/chain-bench"
[ -x "$BENCH" ] || { echo "targets: $BENCH not found; build first (scripts/setup)" >&2; exit 1; }
command -v jq >/dev/null || { echo "targets: needs jq (apt-get install jq)" >&2; exit 1; }
mkdir -p "$OUT"

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
run() { # run NAME ARGS...: one chain-bench run into OUT/NAME
  local name=$1; shift
  echo "targets: $name: chain-bench $*" >&2
  "$BENCH" --clients "$CLIENTS" --batch "$BATCH" --out "$OUT/$name" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err" ||
    { echo "targets: $name failed; see $OUT/$name.err" >&2; exit 1; }
}
field() { jq -r "$2" "$OUT/$1/report.json"; }

for i in $(seq 1 "$RUNS"); do run "max-$i" --rate max --duration "$MAX_S"; done
for i in $(seq 1 "$RUNS"); do run "closed-$i" --rate closed --clients 1 --duration "$LAT_S"; done
max_tps=$(for i in $(seq 1 "$RUNS"); do field "max-$i" .committed_tps; done | median)
half=$(awk -v m="$max_tps" 'BEGIN { printf "%d", m / 2 }')
for i in $(seq 1 "$RUNS"); do run "half-$i" --rate "$half" --duration "$LAT_S"; done

med() { # med PREFIX JQ: the median of a field over the runs
  for i in $(seq 1 "$RUNS"); do field "$1-$i" "$2"; done | median
}
lost=$(for p in max closed half; do for i in $(seq 1 "$RUNS"); do field "$p-$i" .lost; done; done |
  awk '{ s += $1 } END { print s }')
printf '| target | median of %s runs | goal |\n|---|---|---|\n' "$RUNS"
printf '| committed tx/s, --rate max, %s s | %.0f (%.2f of the verify limit %.0f) | >= 0.85 of the limit |\n' \
  "$MAX_S" "$max_tps" "$(med max .fraction_of_verify_limit)" "$(med max .verify_limit_tps)"
printf '| closed loop, 1 client: p50 | %.2f ms | <= 3 ms |\n' "$(med closed .latency_ms.p50)"
printf '| open loop at %s tx/s (half of max): p99 | %.1f ms | <= 50 ms |\n' "$half" "$(med half .latency_ms.p99)"
printf '| peak RSS per validator after the max runs | %.0f MB | <= 256 MB after 1,000,000 txs |\n' \
  "$(for i in $(seq 1 "$RUNS"); do field "max-$i" '[.validators[].peak_rss_mb] | max'; done | median)"
printf '| accepted but not committed, all runs | %s | 0 |\n' "$lost"
