#!/usr/bin/env bash
# Crash loop: 4 validators under steady load from wallet clients. Every few
# seconds one validator, chosen at random (the primary too), is killed with
# SIGKILL at whatever it was doing and restarted a moment later; never more
# than f = 1 is down at once. Afterwards the validators must converge and
# commit again, and chain-audit checks their data directories: the same
# blocks at every height, valid certificates, every block re-executes to the
# state digests it names, nonces gap-free per account, total supply equal to
# genesis, and every transfer the RPC reported committed in every chain.
# SOAK_SECONDS sets the length of the crash loop (default 70, 40 under
# the sanitizers).
set -uo pipefail
source "$(dirname "$0")/lib.sh"
e2e_init "${1:-build}"
AUDIT="$BUILD/chain-audit"
NET="$E2E_TMP/net"
CLIENTS=6
if sanitized; then
  SOAK=${SOAK_SECONDS:-40}
else
  SOAK=${SOAK_SECONDS:-70}
fi
start_testnet "$CLIENTS"

# transfers between the accounts through random validators (load_client)
end=$((SECONDS + SOAK))
start_load "$CLIENTS" "$end"

# rand_ms LO HI: a random duration in seconds, LO..HI milliseconds.
rand_s() { printf '%d.%03d' $(( ($1 + RANDOM % ($2 - $1 + 1)) / 1000 )) $(( ($1 + RANDOM % ($2 - $1 + 1)) % 1000 )); }
kills=0
restart_failures=0
while [ "$SECONDS" -lt "$end" ]; do
  sleep "$(rand_s 1000 4000)"
  v=$((RANDOM % 4))
  kill_node "$v" KILL
  kills=$((kills + 1))
  sleep "$(rand_s 100 2500)"
  start_node "$v"
  wait_ready "$v" || restart_failures=$((restart_failures + 1))
done
stop_load
acked=$(cat "$E2E_TMP"/acked.* 2>/dev/null | wc -l)
failed=$(cat "$E2E_TMP"/failed.* 2>/dev/null | wc -l)
echo "crash loop: $SOAK s, $kills validators killed with SIGKILL, $acked transfers committed, $failed attempts failed"
check "validators were killed: $kills" [ "$kills" -ge 5 ]
check_eq "every killed validator came back" "$restart_failures" 0
check "transfers committed during the crash loop: $acked" [ "$acked" -ge 50 ]

end_soak "the crash loop"
check "the audit looked up every acknowledged transfer" \
  [ "$AUDIT_LOOKED_UP" = $((acked + 1)) ]

# The audit itself can fail: a hash that was never sent must be reported.
printf '%064d\n' 7 >"$E2E_TMP/never-sent"
"$AUDIT" "$NET/genesis.json" --acked "$E2E_TMP/never-sent" "$NET/node0/data" >/dev/null 2>&1
check_eq "chain-audit reports an acknowledged transaction that is not in the chain" "$?" 1

outcome="all converged; audit clean"
[ "$E2E_FAIL" -eq 0 ] || outcome="FAILED"
fault_record "SIGKILL of a random validator (at most f down) under load, restarted after 0.1-2.5 s" \
  "$kills" "${AUDIT_SAFETY:-?}" "${AUDIT_LOST:-?}" "$outcome; $acked transfers acknowledged"
e2e_done
