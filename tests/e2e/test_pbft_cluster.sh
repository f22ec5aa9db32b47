#!/usr/bin/env bash
# Four validators on loopback. Transfers go to every node; the primary is
# killed with SIGKILL under load and commits resume after a view change with
# no acknowledged transaction lost; it restarts and catches up; a validator
# whose data directory is wiped syncs back from its peers; at the end all
# four report identical block hashes at every height.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
e2e_init "$1"

NET="$E2E_TMP/net"
N=4
ACCOUNTS=8
"$CHAIND" testnet --validators $N --dir "$NET" --base-port "$BASE_PORT" --accounts $ACCOUNTS \
  --balance 1000000 >/dev/null
for i in $(seq 0 $((N - 1))); do start_node "$i"; done
for i in $(seq 0 $((N - 1))); do wait_ready "$i"; done
W() { "$WALLET" --node "$(rpc_url "$1")" "${@:2}"; }
KEY() { echo "$NET/accounts/account$1.pem"; }
ADDR=()
for j in $(seq 0 $((ACCOUNTS - 1))); do ADDR+=("$(W 0 address --key "$(KEY "$j")")"); done

# --- 500 transfers, from accounts 0..3 to 4..7, spread over the four nodes:
# account j's through node j, which the wallet asks for the next nonce (a
# node that has not yet heard of the previous transfer would give it again).
ACKED="$E2E_TMP/acked.txt"
: >"$ACKED"
send_burst() { # send_burst FROM_ACCOUNT COUNT
  local j=$1 k out node=$(( $1 % N ))
  for k in $(seq 1 "$2"); do
    out=$(W "$node" transfer --key "$(KEY "$j")" --to "${ADDR[$((j + 4))]}" --amount 1 --json \
      2>/dev/null) || continue
    jq -r .hash <<<"$out" >>"$ACKED"
  done
}
BURSTS=()
for j in 0 1 2 3; do send_burst "$j" 125 & BURSTS+=($!); done
wait "${BURSTS[@]}"
check_eq "500 transfers accepted" "$(wc -l <"$ACKED")" 500
# missing_count NODE: how many acknowledged hashes node NODE does not have committed
# (one batched JSON-RPC request of `tx` calls).
missing_count() {
  local body
  body=$(jq -R -s -c 'split("\n") | map(select(length > 0)) | to_entries
    | map({jsonrpc: "2.0", id: .key, method: "tx", params: {hash: .value}})' "$ACKED")
  curl -s --max-time 60 -d "$body" "$(rpc_url "$1")" |
    jq '[.[] | select(.result.status != "committed")] | length'
}
wait_all_committed() { # every acknowledged hash committed on node $1 within $2 seconds
  local end=$((SECONDS + $2))
  while [ "$SECONDS" -lt "$end" ]; do
    [ "$(missing_count "$1")" = 0 ] && return 0
    sleep 0.5
  done
  echo "node $1 misses $(missing_count "$1") acknowledged transactions"
  return 1
}
check "all 500 transfers commit" wait_all_committed 1 60

# --- kill the primary under load: commits resume after a view change
PRIMARY=$(rpc status null 1 | jq -r .result.primary)
COMMITTED="$E2E_TMP/committed.txt"
: >"$COMMITTED"
(
  k=0
  for i in $(seq 1 400); do
    node=$(( (PRIMARY + 1 + k % (N - 1)) % N )); k=$((k + 1))
    out=$(W "$node" transfer --key "$(KEY 4)" --to "${ADDR[0]}" --amount 1 --wait --json \
      --timeout-ms 20000 2>/dev/null) || continue
    echo "$(date +%s%3N) $(jq -r .hash <<<"$out")" >>"$COMMITTED"
  done
) &
LOAD=$!
E2E_PIDS+=("$LOAD")
for i in $(seq 1 100); do [ "$(wc -l <"$COMMITTED")" -ge 10 ] && break; sleep 0.1; done
KILLED_AT=$(date +%s%3N)
kill_node "$PRIMARY" KILL
OTHER=$(( (PRIMARY + 1) % N ))
view_changed() { [ "$(rpc status null "$OTHER" | jq -r '.result.view // 0')" -ge 1 ]; }
for i in $(seq 1 300); do view_changed && break; sleep 0.05; done
check "the view changed" view_changed
VIEW_AT=$(date +%s%3N)
# A commit acknowledged after the new view began (blocks in flight at the kill may finish earlier).
for i in $(seq 1 300); do
  [ "$(awk -v t="$VIEW_AT" '$1 > t' "$COMMITTED" | wc -l)" -ge 1 ] && break
  sleep 0.1
done
FIRST=$(awk -v t="$VIEW_AT" '$1 > t {print $1; exit}' "$COMMITTED")
check "commits resume in the new view" [ -n "$FIRST" ]
echo "new view after $(( VIEW_AT - KILLED_AT )) ms; first commit acknowledged in it after $(( ${FIRST:-$VIEW_AT} - KILLED_AT )) ms" | tee "$E2E_TMP/resume_ms"
sleep 2
kill "$LOAD" 2>/dev/null || true
wait "$LOAD" 2>/dev/null || true
cut -d' ' -f2 "$COMMITTED" >>"$ACKED"

# --- the old primary restarts and catches up
start_node "$PRIMARY"
wait_ready "$PRIMARY"
H=$(height "$OTHER")
check "the restarted primary catches up" wait_height "$PRIMARY" "$H" 30

# --- a wiped validator syncs back from its peers
WIPED=$(( (PRIMARY + 2) % N ))
kill_node "$WIPED" TERM
rm -rf "$NET/node$WIPED/data"
start_node "$WIPED"
wait_ready "$WIPED"
out=$(W "$OTHER" transfer --key "$(KEY 5)" --to "${ADDR[0]}" --amount 1 --wait --json)
echo "$out" | jq -r .hash >>"$ACKED"
H=$(height "$OTHER")
check "the wiped validator syncs back to height $H" wait_height "$WIPED" "$H" 60

# --- every acknowledged transaction is on every node, and all chains are identical
for i in $(seq 0 $((N - 1))); do
  check "node $i reached height $H" wait_height "$i" "$H" 30
done
check "no acknowledged transaction lost (node $WIPED)" wait_all_committed "$WIPED" 30
chain_hashes() { # chain_hashes NODE H: the block hashes at heights 1..H, 50 per request
  local lo
  for lo in $(seq 1 50 "$2"); do
    rpc blockchain "{\"min_height\":$lo,\"max_height\":$((lo + 49 < $2 ? lo + 49 : $2))}" "$1" |
      jq -r '.result.blocks[] | "\(.header.height) \(.hash)"'
  done
}
chain_hashes 0 "$H" >"$E2E_TMP/hashes0"
check_eq "node 0 lists $H blocks" "$(wc -l <"$E2E_TMP/hashes0")" "$H"
diff=0
for i in $(seq 1 $((N - 1))); do
  chain_hashes "$i" "$H" | cmp -s - "$E2E_TMP/hashes0" || diff=$((diff + 1))
done
check_eq "identical block hashes at heights 1..$H on all $N validators (nodes differing)" "$diff" 0
total=0
for j in $(seq 0 $((ACCOUNTS - 1))); do
  total=$(( total + $(W 1 balance "${ADDR[$j]}" --json | jq -r .balance) ))
done
check_eq "total supply conserved" "$total" $((ACCOUNTS * 1000000))

# A clean stop, then the audit of the four data directories on disk.
for i in $(seq 0 $((N - 1))); do check "node $i stops cleanly on SIGTERM (exit 0, no leak)" stop_node "$i"; done
audit "$NET/genesis.json" "$ACKED" "$NET"/node*/data
row "SIGKILL of the primary under load" 1 "view change, commits resumed: $(cat "$E2E_TMP/resume_ms")"
row "restart of the killed primary" 1 "caught up"
row "a validator's data directory wiped" 1 "synced back from its peers"
record_rows

e2e_done
