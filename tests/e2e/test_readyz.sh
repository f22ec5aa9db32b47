#!/usr/bin/env bash
# GET /readyz and /healthz of real validators, and the JSON-RPC health
# method, through three faults. The validators reach each other through
# build/netproxy (one link per direction of each pair, as in
# test_partition.sh), and validator 1's data directory is on a tmpfs of its
# own (mounted by this test, so it needs root).
#  (a) validator 3 cut off from the others: 503 failing "peers" once the
#      window passes, 200 again after reconnecting (and it catches up);
#  (b) validator 1's file system filled to below min_free_disk_mb: it stays
#      up, paused (commits nothing, refuses transactions with -32011), 503
#      failing "disk", health says the same; once the file is removed it
#      resumes by itself: 200 and caught up;
#  (c) validator 2 restarted with its data directory wiped, up to 256 blocks
#      behind (its messages delayed by 150 ms each way, so that each
#      round trip of the state transfer, 64 blocks, takes over 300 ms):
#      polled every 50 ms, it answers 503 failing "sync" at least once, then
#      200 once caught up.
# /healthz answers 200 on every running validator throughout.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
e2e_init "${1:-build}"
if [ "$(id -u)" != 0 ]; then
  echo "SKIP: mounting a tmpfs needs root"
  exit 0
fi
pick_ports $(seq 20 35)
NET="$E2E_TMP/net"
RULES="$E2E_TMP/rules"
STATS="$E2E_TMP/proxy-stats"
MNT="$E2E_TMP/disk1"
PBASE=$((BASE_PORT + 20)) # link i-j listens on PBASE + 4 i + j
"$CHAIND" testnet --validators 4 --dir "$NET" --base-port "$BASE_PORT" --accounts 4 >/dev/null
mkdir -p "$MNT"
check "a 256 MiB tmpfs for validator 1's data" mount -t tmpfs -o size=256m tmpfs "$MNT"
E2E_MOUNTS+=("$MNT")
proxy_links "$NET" "$PBASE"
jq --arg d "$MNT/data" '.data_dir = $d' "$NET/node1/config.json" >"$E2E_TMP/c" &&
  mv "$E2E_TMP/c" "$NET/node1/config.json"
"$BUILD/netproxy" "$RULES" "$STATS" "${PROXY_LINKS[@]}" 2>"$E2E_TMP/netproxy.log" &
E2E_PIDS+=($!)
for i in 0 1 2 3; do start_node "$i"; done
for i in 0 1 2 3; do wait_ready "$i"; done
check "the four validators run and serve their own ports" ours

# rules LINE...: the network from now on (no line: every link perfect).
rules() {
  printf '%s\n' "$@" >"$RULES.tmp" && mv "$RULES.tmp" "$RULES"
  sleep 0.1
}
heal() { rules; }
TO=$("$WALLET" address --key "$NET/accounts/account0.pem")
# is_true JSON FILTER [JQ-OPTION...]: FILTER yields true on JSON (no JSON: false;
# unlike jq -e, which jq 1.6 lets succeed on empty input).
is_true() {
  local json=$1 filter=$2
  shift 2
  [ "$(jq -r "$@" "$filter" <<<"$json" 2>/dev/null)" = true ]
}
# send K V: a transfer from account K through validator V, waiting for its commit.
send() {
  is_true "$("$WALLET" --node "$(rpc_url "$2")" transfer --json --key "$NET/accounts/account$1.pem" \
    --to "$TO" --amount 1 --wait --timeout-ms 20000 2>/dev/null)" '.status == "committed"'
}

# readyz I: GET /readyz of validator I; sets CODE (000: no answer) and BODY.
readyz() {
  CODE=$(curl -s --max-time 5 -o "$E2E_TMP/readyz.body" -w '%{http_code}' "$(rpc_url "$1")readyz")
  BODY=$(<"$E2E_TMP/readyz.body")
}
# is_ready: the last answer is 200, ready, nothing failing.
is_ready() {
  [ "$CODE" = 200 ] && is_true "$BODY" '.ready == true and ((.failing // []) == [])'
}
# is_failing WHAT: the last answer is 503, not ready, "failing" names WHAT and its check is not ok.
is_failing() {
  [ "$CODE" = 503 ] && is_true "$BODY" \
    '.ready == false and any(.failing[]; . == $w) and .checks[$w].ok == false' --arg w "$1"
}
# until_ready I SECONDS: poll validator I's /readyz every 0.1 s until it is ready.
until_ready() {
  local end=$((SECONDS + $2)) k
  for k in $(seq 1 $((10 * $2 + 10))); do
    readyz "$1"
    is_ready && return 0
    [ "$SECONDS" -ge "$end" ] && break
    sleep 0.1
  done
  echo "  validator $1: /readyz $CODE $BODY"
  return 1
}
# until_failing I WHAT SECONDS: poll validator I's /readyz every 0.1 s until it fails WHAT.
until_failing() {
  local end=$((SECONDS + $3)) k
  for k in $(seq 1 $((10 * $3 + 10))); do
    readyz "$1"
    is_failing "$2" && return 0
    [ "$SECONDS" -ge "$end" ] && break
    sleep 0.1
  done
  echo "  validator $1: /readyz $CODE $BODY"
  return 1
}
# healthz_ok I: GET /healthz of validator I answers 200 {"ok":true,"loop_ms_ago":N}.
healthz_ok() {
  local code
  code=$(curl -s --max-time 5 -o "$E2E_TMP/healthz.body" -w '%{http_code}' "$(rpc_url "$1")healthz")
  [ "$code" = 200 ] && is_true "$(cat "$E2E_TMP/healthz.body")" \
    '.ok == true and (.loop_ms_ago | type) == "number"' && return 0
  echo "  validator $1: /healthz $code $(cat "$E2E_TMP/healthz.body" 2>/dev/null)"
  return 1
}
# health_rpc I READY [WHAT]: the JSON-RPC health result of validator I has ready
# READY and, when not ready, WHAT among its failing checks.
health_rpc() {
  local r
  r=$(rpc health null "$1")
  is_true "$r" '.result.ready == $ready and (if $ready then true else any(.result.failing[]; . == $w) end)' \
    --argjson ready "$2" --arg w "${3:-}" && return 0
  echo "  validator $1: health $r"
  return 1
}
all_healthz() {
  local i
  for i in "$@"; do check "validator $i: /healthz 200 ok" healthz_ok "$i"; done
}

# --- all four ready
for i in 0 1 2 3; do check "validator $i: /readyz 200 once the others are heard from" until_ready "$i" 15; done
# body_ok: the last /readyz answer has every documented check, all passing.
body_ok() {
  is_true "$BODY" '.checks.store.ok == true and .checks.disk.ok == true and .checks.disk.min_free_disk_mb == 64
    and (.checks.disk.free_mb | type) == "number" and .checks.sync.ok == true and .checks.sync.max_lag == 5
    and (.checks.sync.height | type) == "number" and (.checks.sync.peer_height | type) == "number"
    and .checks.peers.ok == true and .checks.peers.seen == 4 and .checks.peers.quorum == 3
    and .checks.peers.window_ms == 5000' && return 0
  echo "  $BODY"
  return 1
}
readyz 0
check "the /readyz body has the documented checks (store, disk 64 MiB, sync lag 5, peers 4 of quorum 3 in 5 s)" \
  body_ok
for i in 0 1 2 3; do check "validator $i: JSON-RPC health says ready" health_rpc "$i" true; done
all_healthz 0 1 2 3
check "a transfer commits through the proxies" send 1 1

# --- (a) validator 3 cut off from its peers
lines=()
for j in 0 1 2; do lines+=("3-$j drop 100 delay 0 0" "$j-3 drop 100 delay 0 0"); done
rules "${lines[@]}"
t0=$SECONDS
check "a transfer commits while validator 3 is cut off" send 1 0
check "validator 3: /readyz 503 failing \"peers\" (within 12 s)" until_failing 3 peers 12
echo "  $((SECONDS - t0)) s after the cut: $BODY"
check "validator 3: JSON-RPC health says not ready, \"peers\"" health_rpc 3 false peers
readyz 0
check "validator 0, hearing from three of four, stays ready" is_ready
all_healthz 3
heal
check "reconnected, validator 3: /readyz 200 again within 15 s" until_ready 3 15
check "validator 3 catches up" wait_height 3 "$(height 0)" 30

# --- (b) validator 1's file system below min_free_disk_mb
avail=$(df --output=avail -m "$MNT" | tail -n 1 | tr -d ' ')
dd if=/dev/zero of="$MNT/filler" bs=1M count=$((avail - 16)) status=none 2>/dev/null
free=$(df --output=avail -m "$MNT" | tail -n 1 | tr -d ' ')
check "validator 1's file system has less than 64 MiB free ($free MiB)" [ "$free" -lt 64 ]
check "validator 1: /readyz 503 failing \"disk\" within 10 s" until_failing 1 disk 10
echo "  $BODY"
check "its disk check reports the free space below the limit" \
  is_true "$BODY" '.checks.disk.free_mb < 64 and .checks.disk.min_free_disk_mb == 64'
check "validator 1: JSON-RPC health says not ready, \"disk\"" health_rpc 1 false disk
# /readyz looks at the disk on each request, the validator once a second: it
# pauses at its next check, which it logs.
paused() {
  local k
  for k in $(seq 1 30); do
    grep -q 'disk: pausing' "$NET/node1/node.log" && return 0
    sleep 0.1
  done
  return 1
}
check "validator 1 logs that it pauses" paused
check "validator 1 is still running" kill -0 "$NODE_PID_1"
all_healthz 1
check "validator 1: /metrics says chaind_ready 0" \
  [ "$(curl -s --max-time 5 "$(rpc_url 1)metrics" | awk '$1 == "chaind_ready" { print $2 }')" = 0 ]
CHAIN_ID=$(rpc status | jq -r .result.chain_id)
A2=$("$WALLET" address --key "$NET/accounts/account2.pem")
n2=$(rpc account "{\"address\":\"$A2\"}" 0 | jq -r .result.pending_nonce)
tx=$("$WALLET" transfer --print-only --nonce "$n2" --chain-id "$CHAIN_ID" \
  --key "$NET/accounts/account2.pem" --to "$TO" --amount 1)
check_eq "paused, validator 1 refuses a transaction with -32011" \
  "$(rpc broadcast_tx_sync "{\"tx\":\"$tx\"}" 1 | jq -r '.error.code // "none"')" -32011
h1=$(height 1)
h0=$(height 0)
check "the others commit while validator 1 is paused" send 3 0
sleep 0.5
paused_behind() { [ "$h1" -ge 0 ] && [ "$(height 1)" = "$h1" ] && [ "$(height 0)" -gt "$h0" ]; }
check "paused, validator 1 commits nothing (height $h1; validator 0: $h0 -> $(height 0))" paused_behind
rm -f "$MNT/filler"
check "space freed, validator 1: /readyz 200 again within 15 s" until_ready 1 15
check "validator 1 catches up with validator 0" wait_height 1 "$(height 0)" 30
check "a transfer commits through validator 1 again" send 2 1

# --- (c) validator 2 syncing after its data directory is wiped
# Blocks first: transfers one at a time from two accounts, which makes about
# one block each, until 256 blocks or for at most 20 s; a state transfer
# answer holds at most 64 blocks.
# blocks K V END: transfers from account K through validator V until 256 blocks or END.
blocks() {
  local k
  for k in $(seq 1 3000); do
    [ "$(height "$2")" -ge 256 ] || [ "$SECONDS" -ge "$3" ] && break
    "$WALLET" --node "$(rpc_url "$2")" transfer --key "$NET/accounts/account$1.pem" --to "$TO" \
      --amount 1 >/dev/null 2>&1 || sleep 0.1
  done
}
end=$((SECONDS + 20))
blocks 2 3 "$end" &
E2E_PIDS+=($!)
BLOCKS=$!
blocks 3 0 "$end"
wait "$BLOCKS"
check "the chain is longer than two state transfer answers, 128 blocks ($(height 0))" \
  [ "$(height 0)" -gt 128 ]
check "the validators converge" converge
H=$(height 0)
check "validator 2 stops cleanly" stop_node 2
rm -rf "$NET/node2/data"
rules "*-2 drop 0 delay 150 150" "2-* drop 0 delay 150 150"
start_node 2
t0=${EPOCHREALTIME/./}
seen_sync=0 nsync=0 ready_after=0 states="" last=""
for k in $(seq 1 600); do # every 50 ms, at most 30 s
  readyz 2
  state=$CODE
  case "$CODE" in
    200 | 503) state="$CODE $(jq -r '"ready=\(.ready) failing=\(.failing | join(","))"' <<<"$BODY" 2>/dev/null)" ;;
  esac
  [ "$state" != "$last" ] && states="$states; $state" last=$state
  case "$state" in
    "503 ready=false failing="*sync*) seen_sync=1 nsync=$((nsync + 1)) ;;
    "200 ready=true failing=") if [ "$seen_sync" = 1 ]; then ready_after=1; break; fi ;;
  esac
  [ $(( ${EPOCHREALTIME/./} - t0 )) -ge 30000000 ] && break
  sleep 0.05
done
ms=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
echo "  validator 2's /readyz after the restart, $H blocks behind, $k polls in $ms ms:"
echo "   ${states#; }"
check "validator 2: /readyz 503 failing \"sync\" while it catches up ($nsync polls)" [ "$seen_sync" = 1 ]
check "validator 2: then /readyz 200 once caught up" [ "$ready_after" = 1 ]
heal
check "validator 2 reaches height $H" wait_height 2 "$H" 30
check "validator 2: JSON-RPC health says ready" health_rpc 2 true

all_healthz 0 1 2 3
for i in 0 1 2 3; do check "node $i stops cleanly" stop_node "$i"; done
e2e_done
