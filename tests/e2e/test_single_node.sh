#!/usr/bin/env bash
# One validator on loopback: 100 transfers and 20 sets from the wallet, then
# balances, nonces, values, tx lookups with Merkle proofs and the block chain
# links are checked; a second burst is cut by SIGKILL and after a restart
# every transaction reported committed is found, with identical block hashes.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
e2e_init "$1"

NET="$E2E_TMP/net"
"$CHAIND" testnet --validators 1 --dir "$NET" --base-port "$BASE_PORT" --accounts 3 \
  --balance 1000000 >/dev/null
start_node 0
wait_ready 0
NODE=$(rpc_url 0)
W() { "$WALLET" --node "$NODE" "$@"; }
K0="$NET/accounts/account0.pem"; K1="$NET/accounts/account1.pem"; K2="$NET/accounts/account2.pem"
A0=$(W address --key "$K0" --json | jq -r .address)
A1=$(W address --key "$K1" --json | jq -r .address)
A2=$(W address --key "$K2" --json | jq -r .address)
check "addresses are 40 hex characters" grep -qE '^[0-9a-f]{120}$' <<<"$A0$A1$A2"

# --- burst 1: 100 transfers (odd amounts to A1, even to A2) and 20 sets
hashes=()
for i in $(seq 1 100); do
  if (( i % 2 )); then to=$A1; else to=$A2; fi
  hashes+=("$(W transfer --key "$K0" --to "$to" --amount "$i" --json | jq -r .hash)")
done
for i in $(seq 1 20); do
  hashes+=("$(W set --key "$K1" "key$i" "value $i" --json | jq -r .hash)")
done
check "120 transaction hashes returned" [ "$(printf '%s\n' "${hashes[@]}" | grep -cE '^[0-9a-f]{64}$')" -eq 120 ]
check "mempool drains" wait_mempool_empty 0

bal() { W balance "$1" --json | jq -r "$2"; }
check_eq "account0 balance" "$(bal "$A0" .balance)" "$((1000000 - 5050))"
check_eq "account0 nonce" "$(bal "$A0" .nonce)" 100
check_eq "account1 balance" "$(bal "$A1" .balance)" "$((1000000 + 2500))"
check_eq "account1 nonce" "$(bal "$A1" .nonce)" 20
check_eq "account2 balance" "$(bal "$A2" .balance)" "$((1000000 + 2550))"
check_eq "account2 nonce" "$(bal "$A2" .nonce)" 0
bad=0
for i in $(seq 1 20); do
  [ "$(W get "$A1" "key$i" --json | jq -r .value)" = "value $i" ] || bad=$((bad + 1))
done
check_eq "20 values read back" "$bad" 0

bad=0
for h in "${hashes[@]}"; do
  out=$(W tx "$h" --json) || { bad=$((bad + 1)); continue; }
  [ "$(jq -r '.status + " " + (.proof_valid|tostring)' <<<"$out")" = "committed true" ] \
    || bad=$((bad + 1))
done
check_eq "every tx committed with a valid Merkle proof" "$bad" 0

# --- the chain: heights 1..H linked by prev_hash, 120 txs in all, lookups by hash agree
H=$(rpc status | jq -r .result.height)
check "at least one block" [ "$H" -ge 1 ]
declare -A BLOCK_HASH
prev=0000000000000000000000000000000000000000000000000000000000000000
txs=0; links=0; byhash=0
for h in $(seq 1 "$H"); do
  b=$(rpc block "{\"height\":$h}")
  BLOCK_HASH[$h]=$(jq -r .result.hash <<<"$b")
  [ "$(jq -r .result.header.prev_hash <<<"$b")" = "$prev" ] || links=$((links + 1))
  txs=$((txs + $(jq -r .result.header.tx_count <<<"$b")))
  [ "$(jq -r '.result.cert.votes | length' <<<"$b")" -ge 1 ] || links=$((links + 1))
  [ "$(rpc block "{\"hash\":\"${BLOCK_HASH[$h]}\"}" | jq -r .result.header.height)" = "$h" ] \
    || byhash=$((byhash + 1))
  prev=${BLOCK_HASH[$h]}
done
check_eq "blocks link to their parents and carry a certificate" "$links" 0
check_eq "blocks hold the 120 transactions" "$txs" 120
check_eq "block by hash gives the same height" "$byhash" 0

# --- burst 2, cut by SIGKILL: every tx reported committed survives the restart
COMMITTED="$E2E_TMP/committed.txt"
: >"$COMMITTED"
(
  for i in $(seq 1 300); do
    out=$("$WALLET" --node "$NODE" transfer --key "$K2" --to "$A0" --amount 1 --wait --json \
      2>/dev/null) || continue
    jq -r .hash <<<"$out" >>"$COMMITTED"
  done
) &
BURST=$!
E2E_PIDS+=("$BURST")
for i in $(seq 1 300); do
  [ "$(wc -l <"$COMMITTED")" -ge 25 ] && break
  sleep 0.1
done
check "second burst commits before the kill" [ "$(wc -l <"$COMMITTED")" -ge 25 ]
H1=$(rpc status | jq -r .result.height)
for h in $(seq 1 "$H1"); do
  BLOCK_HASH[$h]=$(rpc block "{\"height\":$h}" | jq -r .result.hash)
done
kill_node 0 KILL
wait "$BURST" 2>/dev/null || true
ncommitted=$(wc -l <"$COMMITTED")
start_node 0
wait_ready 0

missing=0
while read -r h; do
  [ "$(rpc tx "{\"hash\":\"$h\"}" | jq -r .result.status)" = "committed" ] || missing=$((missing + 1))
done <"$COMMITTED"
check_eq "all $ncommitted transactions reported committed are there after SIGKILL" "$missing" 0
changed=0
for h in $(seq 1 "$H1"); do
  [ "$(rpc block "{\"height\":$h}" | jq -r .result.hash)" = "${BLOCK_HASH[$h]}" ] || changed=$((changed + 1))
done
check_eq "block hashes at heights 1..$H1 unchanged after restart" "$changed" 0
n2=$(bal "$A2" .nonce)
check "account2 nonce counts at least the acknowledged transfers" [ "$n2" -ge "$ncommitted" ]
total=$(( $(bal "$A0" .balance) + $(bal "$A1" .balance) + $(bal "$A2" .balance) ))
check_eq "total supply conserved" "$total" 3000000
check_eq "account2 balance matches its nonce" "$(bal "$A2" .balance)" "$((1000000 + 2550 - n2))"

# --- the node keeps working after the restart, then stops cleanly on SIGTERM
out=$(W transfer --key "$K0" --to "$A1" --amount 7 --wait --json)
check_eq "a transfer after restart commits" "$(jq -r .status <<<"$out")" committed
H2=$(rpc status | jq -r .result.height)
kill -TERM "$NODE_PID_0"
rc=0; wait "$NODE_PID_0" || rc=$?
check_eq "SIGTERM stops the node with status 0" "$rc" 0
start_node 0
wait_ready 0
check_eq "height survives a clean restart" "$(rpc status | jq -r .result.height)" "$H2"

e2e_done
