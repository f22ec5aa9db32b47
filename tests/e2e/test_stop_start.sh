#!/usr/bin/env bash
# Stop/start loop: 4 validators under steady load from wallet clients. Each
# cycle stops one validator with SIGTERM (round robin, the primary too),
# measures how long it takes to exit, and starts it again at once. The next
# cycle does not wait for the restarted validator to catch up, only for the
# one restarted before it to answer, so that never more than two are down.
# Every stop must exit 0 within 5 s (chaind's own limit, status 3, is 20 s).
# Afterwards the validators converge, a transfer commits, and chain-audit
# checks their data directories. STOP_START_CYCLES sets the number of
# cycles (default 70, 40 under the sanitizers).
set -uo pipefail
source "$(dirname "$0")/lib.sh"
e2e_init "${1:-build}"
NET="$E2E_TMP/net"
CLIENTS=4
PAUSE=${STOP_START_PAUSE:-0.5}
if sanitized; then
  CYCLES=${STOP_START_CYCLES:-40}
else
  CYCLES=${STOP_START_CYCLES:-70}
fi
start_testnet "$CLIENTS"
start_load "$CLIENTS"

t0=$SECONDS
times=()
slow=0 status3=0 unclean=0 restart_failures=0 prev=""
for c in $(seq 0 $((CYCLES - 1))); do
  v=$((c % 4))
  # the validator restarted last cycle must answer before another one stops
  if [ -n "$prev" ] && ! wait_ready "$prev"; then
    restart_failures=$((restart_failures + 1))
  fi
  sleep "$PAUSE" # a moment of consensus traffic between stops
  timed_stop "$v"
  times+=("$STOP_MS")
  [ "$STOP_MS" -gt 5000 ] && slow=$((slow + 1))
  [ "$STOP_RC" = 3 ] && status3=$((status3 + 1))
  if [ "$STOP_RC" != 0 ]; then
    unclean=$((unclean + 1))
    echo "cycle $c: validator $v exited with status $STOP_RC after $STOP_MS ms"
    tail -n 5 "$NET/node$v/node.log"
  fi
  start_node "$v"
  prev=$v
done
loop_s=$((SECONDS - t0))
wait_ready "$prev" || restart_failures=$((restart_failures + 1))
stop_load
acked=$(cat "$E2E_TMP"/acked.* 2>/dev/null | wc -l)
failed=$(cat "$E2E_TMP"/failed.* 2>/dev/null | wc -l)
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
median=$(sed -n "$(( (CYCLES + 1) / 2 ))p" <<<"$sorted")
max=$(tail -n 1 <<<"$sorted")
echo "stop/start: $CYCLES cycles in $loop_s s; stop median $median ms, max $max ms;" \
  "$slow over 5 s, $status3 with status 3; $acked transfers committed, $failed attempts failed"
check_eq "stops that took over 5 s" "$slow" 0
check_eq "stops that ended with status 3 (chaind's own limit)" "$status3" 0
check_eq "stops that did not exit 0" "$unclean" 0
check_eq "every restarted validator answered" "$restart_failures" 0
check "transfers committed during the loop: $acked" [ "$acked" -ge 20 ]

end_soak "the loop"
row "SIGTERM of each validator in turn under load, restarted at once (at most 2 down)" "$CYCLES" \
  "stop median $median ms, max $max ms, $slow over 5 s, $status3 status 3; $acked transfers acknowledged"
record_rows
e2e_done
