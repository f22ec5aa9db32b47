#!/usr/bin/env bash
# Hostile input on the peer port: a process that is not a validator dials
# node 0's peer address and sends junk, malformed JSON-RPC, undecodable
# consensus payloads, PREPAREs forged in another validator's name, gossip of
# transactions with bad signatures, oversized messages and a flood. Node 0
# counts what it rejected (net_info), admits nothing, keeps the same chain as
# the others and goes on committing.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
e2e_init "${1:-build}"
INJECT="$BUILD/peer-inject"
NET="$E2E_TMP/net"
start_testnet 2
P2P="tcp://127.0.0.1:$BASE_PORT"
W() { "$WALLET" --node "$(rpc_url 0)" "$@"; }
TO=$(W address --key "$NET/accounts/account1.pem")
ACKED="$E2E_TMP/acked"
transfer() {
  W transfer --json --key "$NET/accounts/account0.pem" --to "$TO" --amount 1 --wait \
    --timeout-ms 20000 | jq -r .hash >>"$ACKED"
}
counter() { rpc net_info null 0 | jq -r ".result.$1"; }
# wait_counter NAME MIN: wait (at most 20 s) until node 0's counter reaches MIN.
wait_counter() {
  local i
  for i in $(seq 1 200); do
    [ "$(counter "$1")" -ge "$2" ] && return 0
    sleep 0.1
  done
  return 1
}

check "a transfer commits before the attack" transfer
height0=$(rpc status null 0 | jq -r .result.height)
rejected0=$(counter peer_messages_rejected)
badsig0=$(counter peer_messages_bad_signature)

check "junk: sent" "$INJECT" "$P2P" junk 200
check "junk: 200 counted as rejected" wait_counter peer_messages_rejected $((rejected0 + 200))
check "malformed JSON-RPC: sent" "$INJECT" "$P2P" badjson 60
check "undecodable consensus payloads: sent" "$INJECT" "$P2P" garbled 50
check "malformed and undecodable: counted as rejected" \
  wait_counter peer_messages_rejected $((rejected0 + 200 + 50))
check "forged PREPAREs in validator 1's name: sent" "$INJECT" "$P2P" forged 100 1
check "forged: 100 counted as bad signatures" wait_counter peer_messages_bad_signature $((badsig0 + 100))
rejected1=$(counter peer_messages_rejected)
check "PREPAREs from a validator index that does not exist: sent" "$INJECT" "$P2P" forged 20 7
check "unknown validator index: 20 counted as rejected" wait_counter peer_messages_rejected $((rejected1 + 20))
# Transfers from a funded account at its next nonces, so that only the
# signature is wrong: the node must check it, and admit none.
nonce=$(rpc account "{\"address\":\"$(W address --key "$NET/accounts/account0.pem")\"}" 0 | jq -r .result.nonce)
verified0=$(rpc status null 0 | jq -r .result.tx_signatures_verified)
check "gossip of funded transfers with bad signatures: sent" \
  "$INJECT" "$P2P" badtx 100 "$nonce" chaind-testnet "$NET/accounts/account0.pem"
verified_all() { [ "$(rpc status null 0 | jq -r .result.tx_signatures_verified)" -ge $((verified0 + 100)) ]; }
for i in $(seq 1 100); do verified_all && break; sleep 0.1; done
check "bad-signature transactions: all 100 checked" verified_all
check_eq "bad-signature transactions: none admitted" "$(rpc num_unconfirmed_txs null 0 | jq -r .result.count)" 0
check "oversized messages (16 MiB): the node hangs up" "$INJECT" "$P2P" oversized 3 16777216
check "a flood of 20000 junk messages: sent" "$INJECT" "$P2P" junk 20000
check "node 0 answers during the attack" wait_ready 0

# Rate: one connection floods forged PREPAREs (each costs a signature check).
# Past a burst of two seconds' worth, the node takes 1,000 a second from it
# (peer_max_msgs_per_s) and drops the rest unread.
badsig1=$(counter peer_messages_bad_signature)
limited1=$(counter peer_messages_rate_limited)
t0=$(date +%s%N)
check "a flood of 20000 forged PREPAREs: sent" "$INJECT" "$P2P" forged 20000 1
secs=$(( ($(date +%s%N) - t0) / 1000000000 + 1 ))
wait_counter peer_messages_bad_signature $((badsig1 + 1)) >/dev/null
sleep 0.5
checked=$(( $(counter peer_messages_bad_signature) - badsig1 ))
limited=$(( $(counter peer_messages_rate_limited) - limited1 ))
check "forged flood: $checked signatures checked in about $secs s, at most 1,000/s + a 2,000 burst" \
  [ "$checked" -le $((1000 * secs + 2000 + 100)) ]
check "forged flood: $limited dropped over the rate" [ "$limited" -gt 0 ]
check "node 0 answers after the forged flood" wait_ready 0
row "a flood of forged PREPAREs on one connection (20,000 messages)" 1 \
  "$checked signature checks in about ${secs} s, $limited dropped over the rate; the chain went on"

# Amplification: get_blocks asks a validator to send blocks to whoever the
# request names. 3,000 requests in validator 1's name: node 0 answers at most
# 100 a second to validator 1 (a burst of 200) and counts the rest.
sync0=$(counter peer_sync_requests_refused)
other0=$(( $(counter peer_messages_rate_limited) + $(counter peer_messages_dropped) ))
t0=$(date +%s%N)
check "3000 get_blocks in validator 1's name: sent" "$INJECT" "$P2P" getblocks 3000 1
wait_counter peer_sync_requests_refused $((sync0 + 1)) >/dev/null
sleep 0.5
secs=$(( ($(date +%s%N) - t0) / 1000000000 + 1 ))
refused=$(( $(counter peer_sync_requests_refused) - sync0 ))
other=$(( $(counter peer_messages_rate_limited) + $(counter peer_messages_dropped) - other0 ))
answered=$((3000 - refused - other))
check "get_blocks flood: $answered answered in about $secs s (at most 200 + 100/s), $refused refused, $other dropped before" \
  [ "$answered" -le $((200 + 100 * secs)) ]
check "get_blocks flood: refused requests counted" [ "$refused" -gt 0 ]
row "get_blocks requests in another validator's name (3,000 at once)" 1 \
  "$refused not answered; answers to one validator are limited to 100 a second"

# Connections: 40 idle peer connections at once. The validators hold 3, and
# the limit is 2 per validator + 8 = 16: the node hangs up on the rest, and
# a transfer commits while they are held.
refused1=$(counter peer_connections_refused)
"$INJECT" "$P2P" conns 40 4000 >"$E2E_TMP/conns.out" &
conns_pid=$!
sleep 1.5
open_now=$(counter peer_connections)
check "40 connections: node 0 holds at most 16 ($open_now)" [ "$open_now" -le 16 ]
check "a transfer commits while they are held" transfer
wait "$conns_pid"
check "the 40 connections were made" [ $? -eq 0 ]
cat "$E2E_TMP/conns.out"
closed=$(sed -n 's/.* \([0-9]*\) closed by the node.*/\1/p' "$E2E_TMP/conns.out")
refused=$(( $(counter peer_connections_refused) - refused1 ))
check "the node hung up on at least 27 of them ($closed; $refused refused)" [ "${closed:-0}" -ge 27 ]
row "40 idle peer connections at once (limit 16)" 1 "$refused hung up on; a transfer committed meanwhile"
# Large gossip: over the gossip limit (4 MiB), and under it but with 400,000
# tiny entries (1.9 MiB of text that would parse into far more): each is
# refused, or dropped when the queues hold their byte budget; memory stays bounded.
refused0=$(( $(counter peer_messages_rejected) + $(counter peer_messages_dropped) + $(counter peer_messages_rate_limited) ))
check "200 gossip messages of 4 MiB: sent" "$INJECT" "$P2P" bigtxs 200 4194304
check "200 gossip messages of 400,000 tiny entries: sent" "$INJECT" "$P2P" bigtxs 200 1990000
refused_all() { [ $(( $(counter peer_messages_rejected) + $(counter peer_messages_dropped) + $(counter peer_messages_rate_limited) )) -ge $((refused0 + 400)) ]; }
for i in $(seq 1 300); do refused_all && break; sleep 0.1; done
check "the 400 large gossip messages are refused or dropped" refused_all
hwm=$(awk '/^VmHWM/ {print int($2 / 1024)}' "/proc/$NODE_PID_0/status")
HWM_LIMIT=600
sanitized && HWM_LIMIT=1500 # shadow memory, quarantine
check "node 0's peak memory stays under $HWM_LIMIT MB: $hwm MB" [ "$hwm" -lt "$HWM_LIMIT" ]
check "node 0 answers after the floods of large messages" wait_ready 0

# The chain goes on, and node 0 agrees with the others.
check "a transfer commits after the attack" transfer
for i in $(seq 1 100); do
  h=$(rpc status null 0 | jq -r .result.height)
  [ "$h" -gt "$height0" ] && break
  sleep 0.1
done
check "node 0's height grew" test "$h" -gt "$height0"
sleep 1
h=$(rpc status null 3 | jq -r .result.height)
for i in 0 1 2; do
  for k in $(seq 1 100); do
    [ "$(rpc status null "$i" | jq -r .result.height)" -ge "$h" ] && break
    sleep 0.1
  done
done
hash() { rpc block "{\"height\":$h}" "$1" | jq -r .result.hash; }
want=$(hash 3)
safety=0
for i in 0 1 2; do
  got=$(hash "$i")
  [ "$got" = "$want" ] || safety=$((safety + 1))
  check_eq "node $i has node 3's block at height $h" "$got" "$want"
done
check_eq "no view change was caused" "$(rpc status null 0 | jq -r .result.view)" 0

# A clean stop, then the audit of the four data directories on disk.
for i in 0 1 2 3; do check "node $i stops cleanly on SIGTERM (exit 0, no leak)" stop_node "$i"; done
audit "$NET/genesis.json" "$ACKED" "$NET"/node*/data
AUDIT_SAFETY=$((${AUDIT_SAFETY:-0} + safety))
for r in "random bytes on the peer port:200" \
  "malformed JSON-RPC on the peer port (unknown methods, wrong types):60" \
  "consensus envelopes whose payload does not decode:50" \
  "PREPAREs forged in another validator's name:100" \
  "PREPAREs from a validator index that does not exist:20" \
  "gossiped transfers with bad signatures (funded account, next nonces):100" \
  "peer messages announcing 16 MiB (over the limit):3" \
  "flood of junk peer messages:20000" \
  "gossip messages of 4 MiB (over the gossip limit):200" \
  "gossip messages of 1.9 MiB with 400,000 tiny entries each:200"; do
  row "${r%:*}" "${r##*:}" "rejected and counted; node 0 kept answering; the chain went on"
done
record_rows
e2e_done
