#!/usr/bin/env bash
# Bad input against a real node: malformed JSON-RPC, wrong types, missing
# fields, oversized bodies, bad hex, flipped signature bytes, wrong chain id,
# replayed and out-of-range nonces, overspending, bad wallet arguments.
# Each gets a clear error, the node keeps serving, and state is unchanged.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
e2e_init "$1"

NET="$E2E_TMP/net"
"$CHAIND" testnet --validators 1 --dir "$NET" --base-port "$BASE_PORT" --accounts 2 \
  --balance 1000 --chain-id errtest >/dev/null
start_node 0
wait_ready 0
NODE=$(rpc_url 0)
W() { "$WALLET" --node "$NODE" "$@"; }
K0="$NET/accounts/account0.pem"; K1="$NET/accounts/account1.pem"
A0=$(W address --key "$K0" --json | jq -r .address)
A1=$(W address --key "$K1" --json | jq -r .address)

# err_code RESPONSE: the error code of a single response
err_code() { jq -r '.error.code // "none"' <<<"$1"; }
expect_error() { # expect_error DESCRIPTION CODE BODY
  local out; out=$(post "$3")
  check_eq "$1 -> $2" "$(err_code "$out")" "$2"
  local msg; msg=$(jq -r '.error.message // ""' <<<"$out")
  check "$1 has a message" [ -n "$msg" ]
}

# A committed transfer first, for the replay checks.
tx1=$(W transfer --key "$K0" --to "$A1" --amount 10 --nonce 0 --print-only)
out=$(rpc broadcast_tx_commit "{\"tx\":\"$tx1\"}")
check_eq "a valid transfer commits" "$(jq -r .result.status <<<"$out")" committed
before=$(rpc status | jq -c '.result | {height, state_digest, latest_block_hash}')
acct_before=$(rpc account "{\"address\":\"$A0\"}" | jq -c .result)

# --- JSON-RPC framing (specification section 5 and 6)
out=$(post '{"jsonrpc":"2.0","method":"status",')
check_eq "invalid JSON -> -32700" "$(err_code "$out")" -32700
check_eq "parse error has id null" "$(jq -r .id <<<"$out")" null
expect_error "empty batch" -32600 '[]'
expect_error "not an object" -32600 '42'
expect_error "missing jsonrpc" -32600 '{"id":1,"method":"status"}'
expect_error "wrong jsonrpc version" -32600 '{"jsonrpc":"1.0","id":1,"method":"status"}'
expect_error "method not a string" -32600 '{"jsonrpc":"2.0","id":1,"method":5}'
expect_error "params a string" -32600 '{"jsonrpc":"2.0","id":1,"method":"status","params":"x"}'
expect_error "unknown method" -32601 '{"jsonrpc":"2.0","id":1,"method":"no_such_method"}'
out=$(post '[{"jsonrpc":"2.0","id":1,"method":"health"},1,{"jsonrpc":"2.0","method":"health"},{"jsonrpc":"2.0","id":"x","method":"nope"}]')
check_eq "batch answers each call except notifications" "$(jq -r 'length' <<<"$out")" 3
check_eq "batch: valid call answered" "$(jq -r '.[] | select(.id==1) | .result.ok' <<<"$out")" true
check_eq "batch: invalid element -> -32600" "$(jq -r '.[] | select(.id==null) | .error.code' <<<"$out")" -32600
check_eq "batch: unknown method keeps its id" "$(jq -r '.[] | select(.id=="x") | .error.code' <<<"$out")" -32601
code=$(curl -s -o "$E2E_TMP/body" -w '%{http_code}' -d '{"jsonrpc":"2.0","method":"health"}' "$NODE")
check_eq "a notification gets no answer" "$code $(wc -c <"$E2E_TMP/body")" "204 0"
code=$(curl -s -o /dev/null -w '%{http_code}' -d '[{"jsonrpc":"2.0","method":"health"},{"jsonrpc":"2.0","method":"status"}]' "$NODE")
check_eq "an all-notification batch gets no answer" "$code" 204
head -c 2000000 /dev/zero | tr '\0' ' ' >"$E2E_TMP/big"
code=$(curl -s -o /dev/null -w '%{http_code}' --data-binary @"$E2E_TMP/big" "$NODE")
check "a 2 MB body is refused (HTTP $code)" grep -qE '^(400|413)$' <<<"$code"

# --- wrong types, missing fields, bad values
expect_error "account without address" -32602 '{"jsonrpc":"2.0","id":1,"method":"account","params":{}}'
expect_error "account address a number" -32602 '{"jsonrpc":"2.0","id":1,"method":"account","params":{"address":5}}'
expect_error "account address short" -32602 '{"jsonrpc":"2.0","id":1,"method":"account","params":{"address":"abcd"}}'
expect_error "block height negative" -32602 '{"jsonrpc":"2.0","id":1,"method":"block","params":{"height":-1}}'
expect_error "block height fractional" -32602 '{"jsonrpc":"2.0","id":1,"method":"block","params":{"height":1.5}}'
expect_error "block height a word" -32602 '{"jsonrpc":"2.0","id":1,"method":"block","params":{"height":"tall"}}'
expect_error "block height overflowing" -32602 '{"jsonrpc":"2.0","id":1,"method":"block","params":{"height":"18446744073709551616"}}'
expect_error "block beyond the tip" -32009 '{"jsonrpc":"2.0","id":1,"method":"block","params":{"height":999999}}'
expect_error "tx unknown hash" -32009 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tx\",\"params\":{\"hash\":\"$(printf '%064d' 7)\"}}"
expect_error "get bad name" -32602 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"get\",\"params\":{\"owner\":\"$A0\",\"name\":\"a b\"}}"
expect_error "get missing value" -32009 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"get\",\"params\":{\"owner\":\"$A0\",\"name\":\"nothing\"}}"
expect_error "broadcast without tx" -32602 '{"jsonrpc":"2.0","id":1,"method":"broadcast_tx_sync","params":{}}'
expect_error "broadcast tx a number" -32602 '{"jsonrpc":"2.0","id":1,"method":"broadcast_tx_sync","params":{"tx":12}}'
expect_error "broadcast bad hex" -32001 '{"jsonrpc":"2.0","id":1,"method":"broadcast_tx_sync","params":{"tx":"zz"}}'
expect_error "broadcast odd hex" -32001 '{"jsonrpc":"2.0","id":1,"method":"broadcast_tx_sync","params":{"tx":"abc"}}'
expect_error "broadcast truncated tx" -32001 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"broadcast_tx_sync\",\"params\":{\"tx\":\"${tx1:0:100}\"}}"
expect_error "broadcast tx with trailing byte" -32001 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"broadcast_tx_sync\",\"params\":{\"tx\":\"${tx1}00\"}}"
expect_error "blockchain with min above max" -32602 '{"jsonrpc":"2.0","id":1,"method":"blockchain","params":{"min_height":5,"max_height":2}}'
expect_error "blockchain with a bad height" -32602 '{"jsonrpc":"2.0","id":1,"method":"blockchain","params":{"min_height":"x"}}'
expect_error "num_unconfirmed_txs with params a number" -32600 '{"jsonrpc":"2.0","id":1,"method":"num_unconfirmed_txs","params":7}'
expect_error "validators with a bad id" -32600 '{"jsonrpc":"2.0","id":{},"method":"validators"}'
expect_error "broadcast_tx_commit bad timeout" -32602 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"broadcast_tx_commit\",\"params\":{\"tx\":\"$tx1\",\"timeout_ms\":0}}"
expect_error "broadcast_tx_async bad hex" -32001 '{"jsonrpc":"2.0","id":1,"method":"broadcast_tx_async","params":{"tx":"xyz1"}}'
expect_error "broadcast oversized tx" -32008 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"broadcast_tx_sync\",\"params\":{\"tx\":\"$(printf '%03000d' 0)\"}}"

# --- signed transactions that break a rule
flip_sig() { # flip one bit in the last byte (inside the signature)
  local hex=$1 last=${1: -2}
  printf '%s%02x' "${hex:0:${#hex}-2}" $(( 0x$last ^ 1 ))
}
tx2=$(W transfer --key "$K0" --to "$A1" --amount 5 --nonce 1 --print-only)
expect_error "flipped signature byte" -32002 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"broadcast_tx_sync\",\"params\":{\"tx\":\"$(flip_sig "$tx2")\"}}"
txc=$(W transfer --key "$K0" --to "$A1" --amount 5 --nonce 1 --chain-id otherchain --print-only)
expect_error "wrong chain id" -32003 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"broadcast_tx_sync\",\"params\":{\"tx\":\"$txc\"}}"
txr=$(W transfer --key "$K0" --to "$A1" --amount 3 --nonce 0 --print-only)
expect_error "replayed nonce (another tx)" -32004 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"broadcast_tx_sync\",\"params\":{\"tx\":\"$txr\"}}"
out=$(rpc broadcast_tx_sync "{\"tx\":\"$tx1\"}")
check_eq "resubmitting a committed tx answers its status" "$(jq -r .result.status <<<"$out")" committed
txh=$(W transfer --key "$K0" --to "$A1" --amount 3 --nonce 50000 --print-only)
expect_error "nonce far ahead" -32005 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"broadcast_tx_sync\",\"params\":{\"tx\":\"$txh\"}}"
txo=$(W transfer --key "$K0" --to "$A1" --amount 1000000 --nonce 1 --print-only)
expect_error "overspending" -32006 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"broadcast_tx_sync\",\"params\":{\"tx\":\"$txo\"}}"

# --- wallet arguments
wallet_fails() { # wallet_fails DESCRIPTION ARGS...: exit non-zero with one line on stderr
  local what=$1 rc=0; shift
  W "$@" >/dev/null 2>"$E2E_TMP/err" || rc=$?
  check "wallet $what fails (status $rc)" [ "$rc" -ne 0 ]
  check "wallet $what says why in one line" [ "$(wc -l <"$E2E_TMP/err")" -eq 1 ]
}
wallet_fails "negative amount" transfer --key "$K0" --to "$A1" --amount -5
wallet_fails "overflowing amount" transfer --key "$K0" --to "$A1" --amount 99999999999999999999
wallet_fails "zero amount" transfer --key "$K0" --to "$A1" --amount 0
wallet_fails "bad address" transfer --key "$K0" --to 1234 --amount 1
wallet_fails "missing key file" transfer --key "$E2E_TMP/nope.pem" --to "$A1" --amount 1
wallet_fails "overspending" transfer --key "$K0" --to "$A1" --amount 5000
wallet_fails "balance of a bad address" balance xyz
wallet_fails "unknown tx" tx "$(printf '%064d' 7)"
wallet_fails "block beyond the tip" block 999999
wallet_fails "block with a bad height" block -3
wallet_fails "keygen onto an existing key" keygen --out "$K0"
wallet_fails "keygen without --out" keygen
wallet_fails "address of a missing key" address --key "$E2E_TMP/missing.pem"
printf 'not a key\n' >"$E2E_TMP/junk.pem"
wallet_fails "address of a corrupt key file" address --key "$E2E_TMP/junk.pem"
wallet_fails "set with a bad name" set --key "$K0" "bad name" value
wallet_fails "get with a bad owner" get nothex name
wallet_fails "tx with a bad hash" tx 1234
wallet_fails "transfer with a bad nonce" transfer --key "$K0" --to "$A1" --amount 1 --nonce x
wallet_fails "transfer with a used nonce" transfer --key "$K0" --to "$A1" --amount 1 --nonce 0
rc=0; "$WALLET" --node http://127.0.0.1:1/ status >/dev/null 2>"$E2E_TMP/err" || rc=$?
check "wallet status against no node fails (status $rc)" [ "$rc" -eq 1 ]
check "wallet says it cannot reach the node" grep -q "cannot reach" "$E2E_TMP/err"
rc=0; "$WALLET" frobnicate >/dev/null 2>&1 || rc=$?
check_eq "wallet unknown command exits 2" "$rc" 2
rc=0; "$WALLET" status --bogus >/dev/null 2>&1 || rc=$?
check_eq "wallet unknown option exits 2" "$rc" 2
check "wallet --help exits 0" bash -c "\"$WALLET\" --help >/dev/null"

# --- connections: 1,000 idle ones and 200 that send a body's first bytes and
# stall (each holds one of rpc_max_inflight's 1,024 places until its 30-s body
# timeout). Honest requests are still answered, and memory stays bounded.
rss() { awk '/^VmRSS/ {print int($2 / 1024)}' "/proc/$NODE_PID_0/status"; }
rss0=$(rss)
PORT=${NODE##*:}
PORT=${PORT%/}
slow_clients() { # slow_clients IDLE SLOW SECONDS: hold the connections open, then close them
  local k fds=()
  for k in $(seq 1 "$1"); do exec {fd}<>"/dev/tcp/127.0.0.1/$PORT" && fds+=("$fd"); done
  for k in $(seq 1 "$2"); do
    exec {fd}<>"/dev/tcp/127.0.0.1/$PORT" && fds+=("$fd") &&
      printf 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{"js' >&"$fd"
  done
  echo "${#fds[@]}" >"$E2E_TMP/held"
  sleep "$3"
}
slow_clients 1000 200 5 &
held_pid=$!
for k in $(seq 1 600); do [ -s "$E2E_TMP/held" ] && break; sleep 0.1; done
sleep 1
check_eq "1,200 connections held open" "$(cat "$E2E_TMP/held")" 1200
check_eq "meanwhile, a request is answered" "$(rpc health | jq -r .result.ok)" true
tx2=$(W transfer --key "$K0" --to "$A1" --amount 1 --nonce 1 --print-only)
check_eq "meanwhile, a transfer commits" \
  "$(rpc broadcast_tx_commit "{\"tx\":\"$tx2\"}" | jq -r .result.status)" committed
rss1=$(rss)
check "memory with 1,200 connections: $rss1 MB (from $rss0 MB), under +100 MB" \
  [ "$rss1" -lt $((rss0 + 100)) ]
wait "$held_pid"
check_eq "after they close, requests are answered" "$(rpc health | jq -r .result.ok)" true
before=$(rpc status | jq -c '.result | {height, state_digest, latest_block_hash}')
acct_before=$(rpc account "{\"address\":\"$A0\"}" | jq -c .result)

after=$(rpc status | jq -c '.result | {height, state_digest, latest_block_hash}')
check_eq "chain state unchanged by all the bad input" "$after" "$before"
check_eq "account unchanged by all the bad input" "$(rpc account "{\"address\":\"$A0\"}" | jq -c .result)" "$acct_before"
check_eq "node still serves" "$(rpc health | jq -r .result.ok)" true

# --- 25 wallets sending from one account at once: each one whose nonce is
# taken by another's signs again with the next; an explicit --nonce is kept.
for i in $(seq 1 25); do
  W transfer --key "$K1" --to "$A0" --amount 1 --json >"$E2E_TMP/conc.$i" 2>&1 &
  E2E_PIDS+=($!)
done
conc_failed=0
for pid in "${E2E_PIDS[@]: -25}"; do wait "$pid" || conc_failed=$((conc_failed + 1)); done
check_eq "25 concurrent transfers from one key all accepted" "$conc_failed" 0
check_eq "they took 25 distinct nonces" \
  "$(cat "$E2E_TMP"/conc.* | jq -r .hash 2>/dev/null | sort -u | grep -c .)" 25
check "all 25 commit" wait_mempool_empty 0
check_eq "account1's nonce counts them" "$(W balance "$A1" --json | jq -r .nonce)" 25
rc=0; W transfer --key "$K1" --to "$A0" --amount 1 --nonce 3 >/dev/null 2>"$E2E_TMP/err" || rc=$?
check "an explicit --nonce that is used fails (status $rc)" [ "$rc" -ne 0 ]
check "and says the nonce is used" grep -q "nonce 3" "$E2E_TMP/err"

e2e_done
