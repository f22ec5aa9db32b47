#!/usr/bin/env bash
# chain-bench drives a real 4-validator network the way a user runs it:
# closed loop, open loop at a fixed rate and as fast as accepted; each run
# writes report.json with the documented fields, and nothing accepted is lost.
# Only short runs: the numbers themselves belong to docs/PERFORMANCE.md.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
e2e_init "${1:-build}"
BENCH="$BUILD/chain-bench"

bench() { # bench NAME ARGS...: run into $E2E_TMP/NAME, fail the test on a bad exit
  local name=$1; shift
  "$BENCH" --validators 4 --accounts 40 --base-port "$BASE_PORT" --out "$E2E_TMP/$name" "$@" \
    >"$E2E_TMP/$name.out" 2>"$E2E_TMP/$name.err"
  local rc=$?
  check_eq "chain-bench $* exits 0" "$rc" 0
  [ "$rc" -eq 0 ] || { tail -n 20 "$E2E_TMP/$name.err"; tail -n 20 "$E2E_TMP/$name/net/node0.log"; }
}
field() { jq -r "$2" "$E2E_TMP/$1/report.json"; }
positive() { awk -v x="$1" 'BEGIN { exit !(x > 0) }'; }

bench max --duration 4 --rate max --clients 2 --batch 50
check "max: committed_tps > 0" positive "$(field max .committed_tps)"
check "max: verify_limit_tps > 0" positive "$(field max .verify_limit_tps)"
check "max: latency p50 > 0" positive "$(field max .latency_ms.p50)"
check "max: p99 >= p90 >= p50" awk -v a="$(field max .latency_ms.p50)" \
  -v b="$(field max .latency_ms.p90)" -v c="$(field max .latency_ms.p99)" 'BEGIN { exit !(a <= b && b <= c) }'
check "max: some transactions accepted" positive "$(field max .accepted)"
check_eq "max: every accepted transaction committed" "$(field max .committed)" "$(field max .accepted)"
check_eq "max: nothing lost" "$(field max .lost)" 0
check_eq "max: four validators reported" "$(field max '.validators | length')" 4
check "max: each validator used CPU" positive "$(field max '[.validators[].cpu_s] | min')"
check "max: each validator has a peak RSS" positive "$(field max '[.validators[].peak_rss_mb] | min')"
check "max: report.md written" test -s "$E2E_TMP/max/report.md"
check "max: stderr shows progress" grep -q "committed" "$E2E_TMP/max.err"

bench rate --duration 3 --rate 150 --clients 2
check_eq "rate: mode" "$(field rate .mode)" rate
check_eq "rate: target" "$(field rate .target_rate_tps)" 150
check_eq "rate: nothing lost" "$(field rate .lost)" 0
check "rate: committed" positive "$(field rate .committed)"

bench closed --duration 2 --rate closed
check_eq "closed: one client by default" "$(field closed .clients)" 1
check "closed: committed" positive "$(field closed .committed)"
check_eq "closed: nothing lost" "$(field closed .lost)" 0

# A sweep: closed loop, max, then fractions of max, all on one network: nonces
# carry over from run to run, so nothing may be lost anywhere.
bench sweep --duration 1 --rate sweep --clients 2 --batch 50
check_eq "sweep: seven runs" "$(field sweep '.sweep | length')" 7
check_eq "sweep: nothing lost in any run" "$(field sweep '[.sweep[].lost] | add')" 0
check "sweep: every run committed" positive "$(field sweep '[.sweep[].committed] | min')"
check "sweep: sweep.dat written" test -s "$E2E_TMP/sweep/sweep.dat"
if command -v gnuplot >/dev/null; then
  check "sweep: latency.png plotted" test -s "$E2E_TMP/sweep/latency.png"
fi

# The validators it started are gone.
# (the bracket keeps pgrep from matching its own command line)
check "no validator left running" bash -c "! pgrep -f '[c]haind start --home $E2E_TMP/closed/net' >/dev/null"

# --attach: a network the user started; chain-bench finds the validators'
# processes for CPU and RSS, continues every account's nonce, and leaves the
# validators running.
start_testnet 20
for run in 1 2; do
  "$BENCH" --attach "$E2E_TMP/net" --duration 2 --rate 100 --clients 2 --out "$E2E_TMP/attach$run" \
    >"$E2E_TMP/attach$run.out" 2>"$E2E_TMP/attach$run.err"
  check_eq "attach run $run: exits 0" "$?" 0
  check "attach run $run: committed" positive "$(field attach$run .committed)"
  check_eq "attach run $run: nothing lost" "$(field attach$run .lost)" 0
  check "attach run $run: found the validators' processes" positive \
    "$(field attach$run '[.validators[].peak_rss_mb] | min')"
done
check "attach: validators still running" kill -0 "$NODE_PID_0" "$NODE_PID_3"

"$BENCH" --rate fast >/dev/null 2>"$E2E_TMP/usage.err"
check_eq "bad --rate: exit 2" "$?" 2
check "bad --rate: says what is expected" grep -q "max, closed or sweep" "$E2E_TMP/usage.err"
e2e_done
