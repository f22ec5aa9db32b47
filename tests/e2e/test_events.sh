#!/usr/bin/env bash
# The event stream loses nothing and repeats nothing: 4 validators, four
# followers (tests/js/follow.mjs) from height 1 - JSON-RPC `events` long polls
# and GET /events Server-Sent Events, each with and without an account
# filter - all cutting their own connections every ~2 s and resuming (poll:
# from next_height; SSE: a new EventSource with Last-Event-ID), and moving
# to another validator when theirs goes down. Meanwhile 2,000 transfers
# (8 senders, batches of broadcast_tx_async), the primary is killed with
# SIGKILL and restarted, and later another validator is stopped and started.
# When every transfer has committed and the validators agree on height H,
# each follower's record is checked against the chain read with `blockchain`,
# `block` and `tx`: blocks 1..H exactly once, in order, with the chain's
# hashes; the tx events exactly the chain's transactions (all of them, or
# those from or to the account), in chain order. Direct checks follow on
# the quiet chain: long poll above the tip, limit (one block whole, never
# more than limit across blocks), kinds, event fields against `block` and
# `tx`, invalid from_height, the SSE head and lines, Last-Event-ID inside a
# block and at the tip, rpc_max_streams; then chain-audit checks the data
# directories (every transfer committed on every validator).
# EVENTS_TXS sets the number of transfers (default 2000, a multiple of 8;
# 1000 under the sanitizers, which run the same faults at half the load);
# EVENTS_POLL_LIMIT the `limit` of the filtered poll follower's requests
# (default random: 1..200 on half of them; none: never).
set -uo pipefail
source "$(dirname "$0")/lib.sh"
e2e_init "${1:-build}"
T_START=$SECONDS
NET="$E2E_TMP/net"
JS_DIR=$(cd "$(dirname "$0")/../js" && pwd)
FOLLOW="$JS_DIR/follow.mjs"
NODEJS=${NODEJS:-node}
SENDERS=8
if sanitized; then NTX=${EVENTS_TXS:-1000}; else NTX=${EVENTS_TXS:-2000}; fi
PER=$((NTX / SENDERS))
CHUNK=3     # transfers per batch of a sender
PAUSE=0.1   # between a sender's batches
POLL_LIMIT=${EVENTS_POLL_LIMIT:-random} # --limit of the filtered poll follower (none: no limit)
if ! "$NODEJS" --version >/dev/null 2>&1 || [ ! -d "$JS_DIR/node_modules/eventsource" ]; then
  fail "node and tests/js/node_modules/eventsource are needed (npm ci in tests/js)"
  e2e_done
  exit 1
fi
elapsed() { echo "$((SECONDS - T_START)) s"; }

# ------------------------------------------------------------ network
"$CHAIND" testnet --validators 4 --dir "$NET" --base-port "$BASE_PORT" --accounts 10 >/dev/null
CHAIN=$(jq -r .chain_id "$NET/genesis.json")
ADDR=()
for k in $(seq 0 9); do ADDR[k]=$("$WALLET" address --key "$NET/accounts/account$k.pem"); done
A=${ADDR[0]} # the followed account
for i in 0 1 2 3; do start_node "$i"; done
for i in 0 1 2 3; do wait_ready "$i"; done

# any_rpc METHOD [PARAMS]: the answer of the first validator that gives one.
any_rpc() {
  local j out
  for j in 0 1 2 3; do
    out=$(curl -s --max-time 3 -H 'Content-Type: application/json' \
      -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":${2:-{\}}}" "$(rpc_url "$j")") &&
      jq -e .result >/dev/null 2>&1 <<<"$out" && { echo "$out"; return 0; }
  done
  return 1
}
primary() { any_rpc status | jq -r .result.primary; }
tip() { any_rpc status | jq -r .result.height; }

# ------------------------------------------------------------ followers
# urls_from J: the four validators' URLs, starting with J's.
urls_from() {
  local j out=""
  for j in 0 1 2 3; do out+="${out:+,}$(rpc_url $(( ($1 + j) % 4 )))"; done
  echo "$out"
}
FOLLOWERS=(poll-account poll-all sse-account sse-all)
declare -A FPID FSTART
start_follower() { # NAME MODE FIRST-VALIDATOR ARGS...
  local name=$1 mode=$2 first=$3
  shift 3
  "$NODEJS" "$FOLLOW" --mode "$mode" --urls "$(urls_from "$first")" --from-height 1 \
    --out "$E2E_TMP/follow.$name.json" --progress "$E2E_TMP/follow.$name.progress" \
    --cut-ms 2000 --timeout-ms 5000 --max-run-ms 170000 "$@" 2>"$E2E_TMP/follow.$name.log" &
  FPID[$name]=$!
  FSTART[$name]=$first
  E2E_PIDS+=($!)
}
P0=$(primary)
# the two with an account filter start on the primary (killed later), the
# others on the next validator (the next primary, stopped later)
LIMIT_ARGS=()
[ "$POLL_LIMIT" = none ] || LIMIT_ARGS=(--limit "$POLL_LIMIT")
start_follower poll-account poll "$P0" --account "$A" "${LIMIT_ARGS[@]}"
start_follower poll-all poll $(( (P0 + 1) % 4 )) --rotate
start_follower sse-account sse "$P0" --account "$A"
start_follower sse-all sse $(( (P0 + 1) % 4 ))

# ------------------------------------------------------------ load
# Each sender signs its account's transfers with nonces 0, 1, 2, ... (a
# fresh account), CHUNK at a time, and sends each chunk as one JSON-RPC
# batch of broadcast_tx_async. Account 0 sends to accounts 1..9 in turn;
# accounts 1..7 send every third transfer to account 0, the others to
# accounts 8 and 9.
SIGN="$E2E_TMP/signed"
mkdir -p "$SIGN"
# post_txs HEX...: one JSON-RPC batch of broadcast_tx_async, to the first
# validator that takes it (starting at a random one).
post_txs() {
  local body="[" i=0 tx j s
  for tx in "$@"; do
    [ "$i" -gt 0 ] && body+=","
    body+="{\"jsonrpc\":\"2.0\",\"id\":$i,\"method\":\"broadcast_tx_async\",\"params\":{\"tx\":\"$tx\"}}"
    i=$((i + 1))
  done
  s=$((RANDOM % 4))
  for j in 0 1 2 3; do
    [ "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
      --data-binary "$body]" "$(rpc_url $(( (s + j) % 4 )))")" = 200 ] && return 0
  done
  return 1
}
# committed_nonce K: account K's committed nonce, from any validator.
committed_nonce() {
  local s=$((RANDOM % 4)) j out n
  for j in 0 1 2 3; do
    out=$(curl -s --max-time 2 -H 'Content-Type: application/json' \
      -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"account\",\"params\":{\"address\":\"${ADDR[$1]}\"}}" \
      "$(rpc_url $(( (s + j) % 4 )))") || continue
    n=$(sed -n 's/.*"nonce":\([0-9]*\).*/\1/p' <<<"$out")
    [ -n "$n" ] && { echo "$n"; return 0; }
  done
  return 1
}
# sign K I: the hex of account K's transfer with nonce I; its hash goes to $SIGN/K.hashes.
sign() {
  local k=$1 i=$2 to out h tx
  if [ "$k" = 0 ]; then to=${ADDR[1 + i % 9]}
  elif [ $((i % 3)) = 0 ]; then to=$A
  else to=${ADDR[8 + i % 2]}; fi
  out=$("$WALLET" transfer --print-only --json --nonce "$i" --chain-id "$CHAIN" \
    --key "$NET/accounts/account$k.pem" --to "$to" --amount 1) || return 1
  h=${out#*\"hash\":*\"}; h=${h%%\"*}
  tx=${out#*\"tx\":*\"}; tx=${tx%%\"*}
  echo "$h" >>"$SIGN/$k.hashes"
  echo "$tx"
}
# send_sender K END: account K's PER transfers, until all have committed or
# $SECONDS reaches END; how many were sent goes to $SIGN/K.pos as it goes.
# When the account's nonce stands still for 2-3 s below what was sent (a
# transfer lost with a validator's mempool), the uncommitted ones are sent
# again. Exit 0 when all committed.
send_sender() {
  local k=$1 end=$2 txs=() pos=0 nonce last=-1 stall=$SECONDS next_check=0 resent=0 r c
  while [ "$SECONDS" -lt "$end" ]; do
    if [ "$pos" -lt "$PER" ]; then
      for ((c = 0; c < CHUNK && pos + c < PER; c++)); do
        txs[pos + c]=$(sign "$k" $((pos + c))) || return 1
      done
      post_txs "${txs[@]:pos:c}"
      pos=$((pos + c))
      echo "$pos" >"$SIGN/$k.pos"
      sleep "$PAUSE"
    else
      sleep 0.3
    fi
    [ "$SECONDS" -ge "$next_check" ] || continue
    next_check=$((SECONDS + 1))
    nonce=$(committed_nonce "$k") || continue
    if [ "$nonce" -ge "$PER" ]; then
      echo "$resent" >"$SIGN/$k.resent"
      return 0
    fi
    if [ "$nonce" != "$last" ]; then
      last=$nonce
      stall=$SECONDS
    elif [ $((SECONDS - stall)) -ge 3 ] && [ "$nonce" -lt "$pos" ]; then
      for ((r = nonce; r < pos; r += 100)); do
        post_txs "${txs[@]:r:$((pos - r < 100 ? pos - r : 100))}"
      done
      resent=$((resent + 1))
      stall=$SECONDS
    fi
  done
  return 1
}
# sent: transfers sent so far, all senders together.
sent() { cat "$SIGN"/*.pos 2>/dev/null | awk '{s += $1} END {print s + 0}'; }
# wait_sent N: wait (at most 60 s) until N transfers have been sent.
wait_sent() {
  local end=$((SECONDS + 60))
  while [ "$SECONDS" -lt "$end" ] && [ "$(sent)" -lt "$1" ]; do sleep 0.1; done
}
T_LOAD=$SECONDS
SENDER_PIDS=()
for k in $(seq 0 $((SENDERS - 1))); do
  send_sender "$k" $((SECONDS + 100)) &
  SENDER_PIDS+=($!)
  E2E_PIDS+=($!)
done

# ------------------------------------------------------------ faults during the load
# the primary killed at 20% of the transfers sent, restarted 4 s later;
# at 60% the primary of then (or another validator) stopped and started
wait_sent $((NTX / 5))
P=$(primary)
H_KILL=$(tip)
kill_node "$P" KILL
echo "validator $P (the primary) killed with SIGKILL at height $H_KILL, $(sent) transfers sent ($(elapsed))"
sleep 4
start_node "$P"
wait_ready "$P"
echo "validator $P restarted at height $(tip) ($(elapsed))"
wait_sent $((NTX * 3 / 5))
Q=$(primary)
if [ -z "$Q" ] || [ "$Q" = null ] || [ "$Q" = "$P" ]; then Q=$(( (P + 1) % 4 )); fi
H_STOP=$(tip)
check "validator $Q stops cleanly on SIGTERM at height $H_STOP, $(sent) transfers sent ($(elapsed))" stop_node "$Q"
start_node "$Q"
wait_ready "$Q"
echo "validator $Q restarted at height $(tip) ($(elapsed))"

bad=0
for p in "${SENDER_PIDS[@]}"; do wait "$p" || bad=$((bad + 1)); done
cat "$SIGN"/*.hashes >"$E2E_TMP/acked"
resent=$(cat "$SIGN"/*.resent 2>/dev/null | awk '{s += $1} END {print s + 0}')
check_eq "all $NTX transfers committed, load over in $((SECONDS - T_LOAD)) s ($resent resends)" \
  "$bad $(sort -u "$E2E_TMP/acked" | grep -cE '^[0-9a-f]{64}$')" "0 $NTX"
check "the validators converge" converge
H=$(height 0)
tips=$(for i in 0 1 2 3; do rpc status null "$i" | jq -r .result.latest_block_hash; done | sort -u | wc -l)
check_eq "the four validators hold one tip at height $H" "$tips" 1
check "the faults came during the load (heights $H_KILL < $H_STOP < $H)" \
  [ "${H_KILL:-0}" -lt "${H_STOP:-0}" -a "${H_STOP:-0}" -lt "$H" ]

# ------------------------------------------------------------ followers reach H, then stop
follower_height() { jq -r .height "$E2E_TMP/follow.$1.progress" 2>/dev/null || echo -1; }
for name in "${FOLLOWERS[@]}"; do
  end=$((SECONDS + 30))
  while [ "$SECONDS" -lt "$end" ] && [ "$(follower_height "$name")" -lt "$H" ]; do sleep 0.2; done
  check "follower $name reached height $H ($(elapsed))" [ "$(follower_height "$name")" -ge "$H" ]
done
sleep 1.5 # the last block's events with an account filter have no end mark
for name in "${FOLLOWERS[@]}"; do kill -TERM "${FPID[$name]}" 2>/dev/null; done
for name in "${FOLLOWERS[@]}"; do
  rc=0
  for i in $(seq 1 100); do kill -0 "${FPID[$name]}" 2>/dev/null || break; sleep 0.1; done
  kill -0 "${FPID[$name]}" 2>/dev/null && { echo "follower $name: no exit 10 s after SIGTERM"; kill -9 "${FPID[$name]}"; }
  wait "${FPID[$name]}" || rc=$?
  check_eq "follower $name exits 0 on SIGTERM with its summary" \
    "$rc $(jq -r .reason "$E2E_TMP/follow.$name.json" 2>/dev/null)" "0 sigterm"
done

# ------------------------------------------------------------ the chain itself
REF="$E2E_TMP/ref"
mkdir -p "$REF"
# batch METHOD PARAMS-JSON...: one JSON-RPC batch to validator 0.
batch() {
  local m=$1 body="[" i=0 p
  shift
  for p in "$@"; do
    [ "$i" -gt 0 ] && body+=","
    body+="{\"jsonrpc\":\"2.0\",\"id\":$i,\"method\":\"$m\",\"params\":$p}"
    i=$((i + 1))
  done
  curl -s --max-time 30 -H 'Content-Type: application/json' --data-binary "$body]" "$(rpc_url 0)"
}
: >"$REF/blocks"
for ((lo = 1; lo <= H; lo += 50)); do
  hi=$((lo + 49 < H ? lo + 49 : H))
  rpc blockchain "{\"min_height\":$lo,\"max_height\":$hi}" |
    jq -r '.result.blocks[] | "\(.header.height) \(.hash) \(.header.tx_count)"' >>"$REF/blocks"
done
sort -n -o "$REF/blocks" "$REF/blocks"
check_eq "blockchain lists heights 1..$H" "$(cut -d' ' -f1 "$REF/blocks" | tr '\n' ' ')" "$(seq -s ' ' 1 "$H") "
: >"$REF/txs"
for ((lo = 1; lo <= H; lo += 100)); do
  params=()
  for ((h = lo; h < lo + 100 && h <= H; h++)); do params+=("{\"height\":$h}"); done
  batch block "${params[@]}" |
    jq -r '.[].result | .header.height as $h | .txs | to_entries[] | "\($h) \(.key) \(.value)"' >>"$REF/txs"
done
sort -n -k1,1 -k2,2 -o "$REF/txs" "$REF/txs"
check_eq "the chain holds exactly the $NTX transfers" \
  "$(cut -d' ' -f3 "$REF/txs" | sort | md5sum)" "$(sort "$E2E_TMP/acked" | md5sum)"
# from and to of each transaction, by tx lookups
: >"$REF/parties"
mapfile -t hashes < <(cut -d' ' -f3 "$REF/txs")
for ((lo = 0; lo < ${#hashes[@]}; lo += 200)); do
  params=()
  for h in "${hashes[@]:lo:200}"; do params+=("{\"hash\":\"$h\"}"); done
  batch tx "${params[@]}" | jq -r '.[].result | "\(.hash) \(.tx.from) \(.tx.to) \(.height) \(.index)"' >>"$REF/parties"
done
check_eq "tx lookups find every transaction" "$(wc -l <"$REF/parties")" "$(wc -l <"$REF/txs")"
# the account's transactions in chain order
awk -v a="$A" 'NR == FNR { if ($2 == a || $3 == a) mine[$1] = 1; next } ($3 in mine)' \
  "$REF/parties" "$REF/txs" >"$REF/txs.account"
echo "chain: $H blocks, $(wc -l <"$REF/txs") transactions, $(wc -l <"$REF/txs.account") from or to $A"

# ------------------------------------------------------------ each follower against the chain
# same WHAT GOT WANT: the two files are equal; else the first differences.
same() {
  if cmp -s "$2" "$3"; then pass "$1"; return; fi
  fail "$1: $(wc -l <"$2") lines, want $(wc -l <"$3"); first differences (< got, > want):"
  diff "$2" "$3" | grep '^[<>]' | head -n 6
}
for name in "${FOLLOWERS[@]}"; do
  s="$E2E_TMP/follow.$name.json"
  jq -r '.blocks[] | "\(.[0]) \(.[1]) \(.[2])"' "$s" >"$E2E_TMP/got.$name.blocks"
  jq -r '.txs[] | "\(.[0]) \(.[1]) \(.[2])"' "$s" >"$E2E_TMP/got.$name.txs"
  echo "follower $name: $(jq -r '.stats | "\(.events) events, \(.requests) requests, \(.connections) streams, \(.cuts) own cuts, \(.failovers) failovers (\(.url_switches) switches), \(.resumes_with_last_event_id) Last-Event-ID resumes (\(.cuts_in_block) cut inside a block), \(.early_empty_answers) early empty answers"' "$s")"
  jq -r '.errors | to_entries[] | "  error x\(.value): \(.key)"' "$s" | head -n 5
  nv=$(jq -r .violation_count "$s")
  check_eq "follower $name saw no violation as it went" "$nv" 0
  [ "$nv" = 0 ] || jq -r '.violations[:8][] | "  " + .' "$s"
  same "follower $name: blocks 1..$H exactly once, in order, with the chain's hashes" \
    "$E2E_TMP/got.$name.blocks" "$REF/blocks"
  case $name in
    *-account) same "follower $name: the account's $(wc -l <"$REF/txs.account") transactions exactly once, in chain order, none other" \
      "$E2E_TMP/got.$name.txs" "$REF/txs.account" ;;
    *) same "follower $name: all $(wc -l <"$REF/txs") transactions exactly once, in chain order" \
      "$E2E_TMP/got.$name.txs" "$REF/txs" ;;
  esac
  check "follower $name cut its own connection several times" [ "$(jq -r .stats.cuts "$s")" -ge 3 ]
done
# those that stay on a validator until it fails, started on the one killed
# or the one stopped, had to move on
for name in poll-account sse-account sse-all; do
  if [ "${FSTART[$name]}" = "$P" ] || [ "${FSTART[$name]}" = "$Q" ]; then
    check "follower $name moved on when validator ${FSTART[$name]} went down" \
      [ "$(jq -r .stats.failovers "$E2E_TMP/follow.$name.json")" -ge 1 ]
  fi
done

# ------------------------------------------------------------ the answers' shape
ev() { rpc events "$1" "${2:-0}"; }
t0=${EPOCHREALTIME/./}
out=$(ev "{\"from_height\":$((H + 1)),\"timeout_ms\":1000}")
ms=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
check_eq "events above the tip waits timeout_ms ($ms ms) and answers nothing" \
  "$(jq -c '.result | [(.events | length), .next_height, .height]' <<<"$out") $((ms >= 900 && ms < 4000))" \
  "[0,$((H + 1)),$H] 1"
n1=$(awk '$1 == 1 { print $3 }' "$REF/blocks")
out=$(ev '{"from_height":1,"limit":1}')
check_eq "limit 1: the first block whole ($((n1 + 1)) events), next_height 2" \
  "$(jq -c '.result | [(.events | length), (.events | map(.height) | unique), .events[0].kind, .next_height]' <<<"$out")" \
  "[$((n1 + 1)),[1],\"block\",2]"
# a limit between one block's events and two blocks' events: the first block only
read -r hl nl <<<"$(awk 'p != "" && $3 >= 1 { print p, pn; exit } { p = $1; pn = $3 }' "$REF/blocks")"
out=$(ev "{\"from_height\":$hl,\"limit\":$((nl + 2))}")
check_eq "limit $((nl + 2)) from height $hl (blocks of $((nl + 1)) and more events): block $hl only" \
  "$(jq -c '.result | [(.events | length), (.events | map(.height) | unique), .next_height]' <<<"$out")" \
  "[$((nl + 1)),[$hl],$((hl + 1))]"
out=$(ev '{"from_height":1,"kinds":["block"]}')
want=$((H < 1000 ? H : 1000))
check_eq "kinds [block]: one block event per height from 1" \
  "$(jq -c '.result | [(.events | length), (.events | map(.kind) | unique), .events[-1].height, .next_height]' <<<"$out")" \
  "[$want,[\"block\"],$want,$((want + 1))]"
out=$(ev "{\"from_height\":1,\"kinds\":[\"tx\"],\"account\":\"$A\"}")
jq -r '.result.events[] | "\(.height) \(.index) \(.hash)"' <<<"$out" >"$E2E_TMP/got.kinds-tx"
if [ "$(wc -l <"$REF/txs.account")" -le 1000 ] && [ "$H" -le 1000 ]; then
  same "kinds [tx] with account: exactly the account's transactions in one answer" \
    "$E2E_TMP/got.kinds-tx" "$REF/txs.account"
fi
check_eq "kinds [tx] with account: only tx events" "$(jq -c '.result.events | map(.kind) | unique' <<<"$out")" '["tx"]'
h=$(awk 'NR == 1 { print $1 }' "$REF/txs")
out=$(ev "{\"from_height\":$h,\"limit\":1}")
b=$(rpc block "{\"height\":$h}")
check_eq "block event $h-0 as the chain has it (hash, time_ms, proposer, view, tx_count, tx_root)" \
  "$(jq -c '.result.events[0] | [.kind, .id, .height, .hash, .time_ms, .proposer, .view, .tx_count, .tx_root]' <<<"$out")" \
  "$(jq -c --arg id "$h-0" '.result | ["block", $id, .header.height, .hash, .header.time_ms, .header.proposer, .header.view, .header.tx_count, .header.tx_root]' <<<"$b")"
t=$(rpc tx "{\"hash\":\"$(jq -r '.result.txs[0]' <<<"$b")\"}")
check_eq "tx event $h-1 as the chain has it (index, hash, and the tx method's JSON view)" \
  "$(jq -cS '.result.events[1] | [.kind, .id, .height, .index, .hash, .tx]' <<<"$out")" \
  "$(jq -cS --arg id "$h-1" '.result | ["tx", $id, .height, .index, .hash, .tx]' <<<"$t")"
out=$(ev '{"from_height":1}')
check_eq "default limit: at most 1000 events, next_height after the last block" \
  "$(jq -c '.result | [(.events | length) <= 1000, .next_height == .events[-1].height + 1]' <<<"$out")" "[true,true]"
check_eq "from_height 0 is refused with -32602" "$(ev '{"from_height":0}' | jq -r .error.code)" -32602
check_eq "no from_height is refused with -32602" "$(ev '{}' | jq -r .error.code)" -32602

# GET /events: headers, the retry line, one event's lines, Last-Event-ID
curl -s -N --max-time 2 -D "$E2E_TMP/sse.headers" "$(rpc_url 1)events?from_height=1" >"$E2E_TMP/sse.body"
check "GET /events answers 200 text/event-stream" \
  grep -qiE '^content-type: *text/event-stream' "$E2E_TMP/sse.headers"
check_eq "the stream starts with retry: 1000" "$(head -n 1 "$E2E_TMP/sse.body" | tr -d '\r')" "retry: 1000"
first=$(grep -m 1 -A 2 '^id: ' "$E2E_TMP/sse.body" | tr -d '\r' | sed 's/^data: \(.*\)/\1/')
check_eq "the first event: id 1-0, event block, data with the block's hash" \
  "$(head -n 2 <<<"$first" | tr '\n' ' ')$(tail -n 1 <<<"$first" | jq -r '.id + " " + .hash')" \
  "id: 1-0 event: block 1-0 $(awk '$1 == 1 { print $2 }' "$REF/blocks")"
n5=$(awk '$1 == 5 { print $3 }' "$REF/blocks")
curl -s -N --max-time 2 -H 'Last-Event-ID: 5-1' "$(rpc_url 2)events?from_height=1" >"$E2E_TMP/sse.resume"
got=$(grep -m 1 '^id: ' "$E2E_TMP/sse.resume" | tr -d '\r')
if [ "${n5:-0}" -ge 2 ]; then want="id: 5-2"; else want="id: 6-0"; fi
check_eq "Last-Event-ID 5-1 resumes right after it (block 5 holds $n5 txs)" "$got" "$want"
curl -s -N --max-time 2 -H "Last-Event-ID: $H-$(awk -v h="$H" '$1 == h { print $3 }' "$REF/blocks")" \
  "$(rpc_url 3)events?from_height=1" >"$E2E_TMP/sse.tip"
check_eq "Last-Event-ID at the tip's last event: no event after it" "$(grep -c '^id: ' "$E2E_TMP/sse.tip")" 0

curl -s -N --max-time 2 "$(rpc_url 0)events?from_height=1&kinds=block" >"$E2E_TMP/sse.blocks"
check_eq "kinds=block: block events only, one per height" \
  "$(grep '^id: \|^event: ' "$E2E_TMP/sse.blocks" | tr -d '\r' | head -n 6 | tr '\n' ' ')" \
  "id: 1-0 event: block id: 2-0 event: block id: 3-0 event: block "
# rpc_max_streams (default 64) streams per validator, then 503; a closed
# stream's place is free again
spids=()
mkdir -p "$E2E_TMP/streams"
for i in $(seq 1 64); do
  curl -s -N --max-time 30 -D "$E2E_TMP/streams/$i" "$(rpc_url 3)events?from_height=$((H + 1))" >/dev/null &
  spids+=($!)
  E2E_PIDS+=($!)
done
# each of them answered (their headers written) before the 65th
for i in $(seq 1 100); do
  [ "$(cat "$E2E_TMP"/streams/* 2>/dev/null | grep -c '^HTTP/')" -ge 64 ] && break
  sleep 0.1
done
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$(rpc_url 3)events?from_height=$((H + 1))")
open=$(cat "$E2E_TMP"/streams/* 2>/dev/null | grep -c '^HTTP/1.1 200')
alive=0
for p in "${spids[@]}"; do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
check_eq "with 64 streams open (64 answered 200, 64 curls still reading) a 65th is refused" \
  "$open $alive $code" "64 64 503"
kill "${spids[@]}" 2>/dev/null
for p in "${spids[@]}"; do wait "$p" 2>/dev/null; done
sleep 0.5
check_eq "once they close, a stream is taken again" \
  "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$(rpc_url 3)events?from_height=$((H + 1))")" 200

# ------------------------------------------------------------ the data directories
for i in 0 1 2 3; do check "node $i stops cleanly on SIGTERM" stop_node "$i"; done
audit "$NET/genesis.json" "$E2E_TMP/acked" "$NET"/node{0,1,2,3}/data
echo "run time $(elapsed)"
e2e_done
