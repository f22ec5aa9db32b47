# Shared helpers for the end-to-end tests: real chaind processes on
# 127.0.0.1, driven with the wallet and curl. Source it, then call e2e_init.
# Every process a test starts is recorded and killed (by PID) on exit.

E2E_PIDS=()
E2E_PASS=0
E2E_FAIL=0
# The network start_testnet makes: NVAL validators ordered by E2E_ENGINE
# (empty: the default, pbft), E2E_VIEW_TIMEOUT ms before a primary or leader
# is replaced (empty: the default).
NVAL=4
E2E_ENGINE=""
E2E_VIEW_TIMEOUT=""
vals() { seq 0 $((NVAL - 1)); }

e2e_init() {
  BUILD=$(cd "$1" && pwd)
  CHAIND="$BUILD/chaind"
  WALLET="$BUILD/wallet"
  E2E_TMP=$(mktemp -d /tmp/chaind-e2e.XXXXXX)
  E2E_MOUNTS=()
  trap e2e_cleanup EXIT
  # A port range of our own: base in 20000..31400, even, so that base + 500
  # stays below the kernel's ephemeral ports (32768 up), which outgoing
  # connections take and which a listener cannot share.
  BASE_PORT=$(( 20000 + (RANDOM % 5700) * 2 ))
  FAULT_FILE="$BUILD/faults/$(basename "$0" .sh).tsv"
  mkdir -p "$BUILD/faults"
  : >"$FAULT_FILE"
}

# pick_ports OFFSET...: a BASE_PORT whose ports BASE_PORT + OFFSET (and the
# validators' first 8) nothing answers on yet: another test running at the
# same time may hold ports of the range e2e_init picked. At most 20 tries.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_ports() {
  local k p busy
  for k in $(seq 1 20); do
    busy=0
    for p in $(seq 0 7) "$@"; do
      if port_in_use $((BASE_PORT + p)); then busy=1; break; fi
    done
    [ "$busy" = 0 ] && return 0
    BASE_PORT=$(( 20000 + (RANDOM % 5700) * 2 ))
  done
  return 1
}

# ours: each of the validators of $E2E_TMP/net started here runs and serves
# its own RPC port (so no other test's validator answers in its place).
ours() {
  local i v
  for i in $(vals); do
    v="NODE_PID_$i"
    kill -0 "${!v}" 2>/dev/null &&
      grep -q "serving JSON-RPC on $(rpc_url "$i" | sed 's,/$,,')\$" "$E2E_TMP/net/node$i/node.log" ||
      return 1
  done
}

# proxy_links NET PBASE: every validator of the NVAL in NET reaches every other
# through a netproxy link of its own (config.json's peer_addresses): link i-j
# listens on PBASE + NVAL i + j. Sets PROXY_LINKS, netproxy's link arguments.
# With PROXY_HUB (an address) the links listen there, and with RPC_HOSTS
# (validators on hosts of their own) they lead to host j's BASE_PORT.
PROXY_HUB=""
proxy_links() {
  local net=$1 pbase=$2 i j pa port listen target
  PROXY_LINKS=()
  for i in $(vals); do
    pa="{}"
    for j in $(vals); do
      [ "$i" = "$j" ] && continue
      port=$((pbase + NVAL * i + j))
      listen=${PROXY_HUB:+$PROXY_HUB:}$port
      if [ ${#RPC_HOSTS[@]} -gt 0 ]; then target="${RPC_HOSTS[$j]}:$BASE_PORT"
      else target=$((BASE_PORT + 2 * j)); fi
      pa=$(jq -c --arg id "node$j" --arg a "tcp://${PROXY_HUB:-127.0.0.1}:$port" '.[$id] = $a' <<<"$pa")
      PROXY_LINKS+=("$i-$j=$listen:$target")
    done
    jq --argjson pa "$pa" '.peer_addresses = $pa' "$net/node$i/config.json" >"$net/node$i/c.json" &&
      mv "$net/node$i/c.json" "$net/node$i/config.json"
  done
}

# sanitized: is $BUILD built with the sanitizers (slower: loops run shorter)?
sanitized() { grep -q '^CHAIN_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt" 2>/dev/null; }

# use_tls: the testnet start_testnet makes has mutual TLS between validators
# and HTTPS for clients (chaind testnet --tls); rpc, post, the load clients
# and final_transfer then speak HTTPS, trust the network's CA, and show the
# network's client certificate to a node that asks for one.
E2E_TLS=""
CURL_TLS=()
WALLET_TLS=()
use_tls() {
  E2E_TLS=1
  local t="$E2E_TMP/net/tls"
  CURL_TLS=(--cacert "$t/ca.crt" --cert "$t/client.crt" --key "$t/client.key")
  WALLET_TLS=(--ca "$t/ca.crt" --tls-cert "$t/client.crt" --tls-key "$t/client.key")
}

# make_testnet ACCOUNTS: write an NVAL-validator testnet in $E2E_TMP/net
# with ACCOUNTS funded accounts (E2E_ENGINE, E2E_VIEW_TIMEOUT, use_tls).
make_testnet() {
  "$CHAIND" testnet --validators "$NVAL" --dir "$E2E_TMP/net" --base-port "$BASE_PORT" \
    --accounts "$1" ${E2E_TLS:+--tls} ${E2E_ENGINE:+--engine "$E2E_ENGINE"} \
    ${E2E_VIEW_TIMEOUT:+--view-timeout-ms "$E2E_VIEW_TIMEOUT"} >/dev/null
}

# start_testnet ACCOUNTS: make_testnet, every validator started and answering.
start_testnet() {
  local i
  make_testnet "$1"
  for i in $(vals); do start_node "$i"; done
  for i in $(vals); do wait_ready "$i"; done
}

# fault_record FAULT TIMES SAFETY_VIOLATIONS ACKED_LOST OUTCOME: one row of
# the fault table (scripts/fault-table renders $BUILD/faults/*.tsv).
fault_record() {
  printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >>"$FAULT_FILE"
}

# row FAULT TIMES OUTCOME: a fault-table row kept until record_rows, which
# writes each with the audit's numbers, marked FAILED if any check failed.
ROWS=()
row() { ROWS+=("$1"$'\t'"$2"$'\t'"$3"); }
record_rows() {
  local r fault times what
  for r in "${ROWS[@]}"; do
    IFS=$'\t' read -r fault times what <<<"$r"
    [ "$E2E_FAIL" -eq 0 ] || what="FAILED: $what"
    fault_record "$fault" "$times" "${AUDIT_SAFETY:-?}" "${AUDIT_LOST:-?}" "$what"
  done
}

# audit GENESIS ACKED DATADIR...: chain-audit of stopped validators' data
# directories (one tip, every hash in ACKED committed), checked; sets
# AUDIT_SAFETY (heights with different blocks) and AUDIT_LOST (acknowledged
# transactions missing) for the fault table, and AUDIT_LOOKED_UP (hashes
# of ACKED looked up).
audit() {
  local genesis=$1 acked=$2 out rc=0
  shift 2
  out=$("$BUILD/chain-audit" "$genesis" --same-tip --acked "$acked" "$@") || rc=$?
  check "chain-audit finds no violation" [ "$rc" -eq 0 ]
  tail -n 1 <<<"$out"
  AUDIT_SAFETY=$(sed -n 's/.* \([0-9]*\) safety violations.*/\1/p' <<<"$out")
  AUDIT_LOST=$(sed -n 's/.* \([0-9]*\) missing.*/\1/p' <<<"$out")
  AUDIT_LOOKED_UP=$(sed -n 's/.* \([0-9]*\) acknowledged transactions looked up.*/\1/p' <<<"$out")
}

# end_soak WHAT: after a loop of faults under load on the validators
# of $E2E_TMP/net, they converge, a transfer commits, they stop cleanly and
# chain-audit checks every transfer acknowledged ($E2E_TMP/acked.*).
end_soak() {
  local what=$1 net="$E2E_TMP/net" i
  check "the validators converge after $what" converge
  check "a transfer commits after $what" final_transfer
  check "the validators converge again" converge
  for i in $(vals); do check "node $i stops cleanly on SIGTERM (exit 0, no leak)" stop_node "$i"; done
  cat "$E2E_TMP"/acked.* >"$E2E_TMP/acked"
  audit "$net/genesis.json" "$E2E_TMP/acked" $(for i in $(vals); do echo "$net/node$i/data"; done)
}

e2e_cleanup() {
  local pid
  for pid in "${E2E_PIDS[@]:-}"; do
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  done
  for pid in "${E2E_PIDS[@]:-}"; do
    [ -n "$pid" ] && wait "$pid" 2>/dev/null || true
  done
  local m
  for m in "${E2E_MOUNTS[@]:-}"; do # file systems the test mounted
    [ -n "$m" ] && umount "$m" 2>/dev/null || true
  done
  if [ "$E2E_FAIL" -eq 0 ] && [ -z "${E2E_KEEP:-}" ]; then
    rm -rf "$E2E_TMP"
  else
    echo "e2e: files kept in $E2E_TMP"
    for log in "$E2E_TMP"/net/node*/node.log; do
      [ -f "$log" ] && { echo "--- tail of $log"; tail -n 30 "$log"; }
    done
  fi
}

pass() { E2E_PASS=$((E2E_PASS + 1)); echo "ok   $*"; }
fail() { E2E_FAIL=$((E2E_FAIL + 1)); echo "FAIL $*"; }
check() { # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
check_eq() { # check_eq DESCRIPTION GOT WANT
  if [ "$2" == "$3" ]; then pass "$1"; else fail "$1: got '$2', want '$3'"; fi
}
e2e_done() {
  echo "$E2E_PASS passed, $E2E_FAIL failed"
  [ "$E2E_FAIL" -eq 0 ]
}

# rpc_url I: node I's JSON-RPC URL. With RPC_HOSTS (one address per
# validator, chaind testnet --hosts) each listens on its own host's BASE_PORT + 1.
RPC_HOSTS=()
CLIENT_EXEC=() # a prefix for curl and the wallet, e.g. (ip netns exec NS)
rpc_url() {
  if [ ${#RPC_HOSTS[@]} -gt 0 ]; then
    echo "http${E2E_TLS:+s}://${RPC_HOSTS[$1]}:$((BASE_PORT + 1))/"
  else
    echo "http${E2E_TLS:+s}://127.0.0.1:$((BASE_PORT + 2 * $1 + 1))/"
  fi
}

# rpc METHOD [PARAMS-JSON] [I]: the JSON response of one call to node I (default 0).
rpc() {
  local params=${2:-} node=${3:-0} body
  if [ -z "$params" ] || [ "$params" = null ]; then
    body="{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\"}"
  else
    body="{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":$params}"
  fi
  "${CLIENT_EXEC[@]}" curl -s --max-time 30 "${CURL_TLS[@]}" -H 'Content-Type: application/json' \
    -d "$body" "$(rpc_url "$node")"
}

# post RAW-BODY [I]: POST a raw body, print the response body.
post() { "${CLIENT_EXEC[@]}" curl -s --max-time 30 "${CURL_TLS[@]}" -d "$1" "$(rpc_url "${2:-0}")"; }

# start_node I: start validator I of $E2E_TMP/net in the background, logging
# to its node.log; with NODE_EXEC_I set (an array, e.g. ip netns exec NS), under it.
start_node() {
  local home="$E2E_TMP/net/node$1" pre="NODE_EXEC_$1[@]"
  ${!pre+"${!pre}"} "$CHAIND" start --home "$home" >>"$home/node.log" 2>&1 &
  E2E_PIDS+=($!)
  eval "NODE_PID_$1=$!"
}

# wait_ready I: wait (at most 30 s) until node I answers health (it answers;
# whether it is ready is /readyz's, and health's "ready").
wait_ready() {
  local i
  for i in $(seq 1 300); do
    if [ "$(rpc health null "$1" 2>/dev/null | jq -r '.result.ok' 2>/dev/null)" = true ]; then
      return 0
    fi
    sleep 0.1
  done
  fail "node $1 did not become ready in 30 s"; return 1
}

# kill_node I SIGNAL: signal node I and wait for it to exit.
kill_node() {
  local pid_var="NODE_PID_$1"
  kill "-$2" "${!pid_var}" 2>/dev/null || true
  wait "${!pid_var}" 2>/dev/null || true
}

# stop_node I: stop node I with SIGTERM and return its exit status, which is
# 0 only for a clean shutdown (under ASan also: LeakSanitizer found no leak).
# Status 3 is chaind's last-resort limit on a stop that does not finish at
# all: reported with where it stuck, and not counted as a failure.
stop_node() {
  local pid_var="NODE_PID_$1" rc=0
  kill -TERM "${!pid_var}" 2>/dev/null || return 1
  wait "${!pid_var}" || rc=$?
  if [ "$rc" = 3 ]; then
    echo "WARN node $1: $(grep 'shutdown did not finish' "$E2E_TMP/net/node$1/node.log" | tail -n 1)"
    return 0
  fi
  return "$rc"
}

# timed_stop I: stop node I with SIGTERM and wait for it to exit; sets
# STOP_MS (from the signal to its exit, in milliseconds) and STOP_RC (its
# exit status).
timed_stop() {
  local pid_var="NODE_PID_$1" t0 t1
  STOP_RC=0
  t0=${EPOCHREALTIME/./}
  kill -TERM "${!pid_var}" 2>/dev/null || { STOP_RC=255; STOP_MS=0; return; }
  wait "${!pid_var}" || STOP_RC=$?
  t1=${EPOCHREALTIME/./}
  STOP_MS=$(( (t1 - t0) / 1000 ))
}

# load_client K N END: transfers from account K to account K+1 (of N) of
# $E2E_TMP/net through random validators, until $SECONDS reaches END or
# stop_load is called; the hash of each transfer the RPC reported committed
# goes to $E2E_TMP/acked.K, each failed attempt to $E2E_TMP/failed.K.
load_client() {
  local k=$1 n=$2 end=$3 to out net="$E2E_TMP/net"
  to=$("$WALLET" address --key "$net/accounts/account$(( (k + 1) % n )).pem")
  while [ "$SECONDS" -lt "$end" ] && [ ! -e "$E2E_TMP/stop-load" ]; do
    if out=$("${CLIENT_EXEC[@]}" "$WALLET" --node "$(rpc_url $((RANDOM % NVAL)))" "${WALLET_TLS[@]}" transfer --json \
        --key "$net/accounts/account$k.pem" --to "$to" --amount 1 --wait --timeout-ms 5000 2>/dev/null) &&
       [ "$(jq -r .status <<<"$out")" = committed ]; then
      jq -r .hash <<<"$out" >>"$E2E_TMP/acked.$k"
    else
      echo x >>"$E2E_TMP/failed.$k"
      sleep 0.1
    fi
  done
}

# start_load N [END]: N load_clients in the background (LOAD_PIDS), one per
# account, until END ($SECONDS; default: until stop_load).
LOAD_PIDS=()
start_load() {
  local k
  rm -f "$E2E_TMP/stop-load"
  for k in $(seq 0 $(($1 - 1))); do
    load_client "$k" "$1" "${2:-999999999}" &
    LOAD_PIDS+=($!)
    E2E_PIDS+=($!)
  done
}

# stop_load: tell the load clients to finish their transfer and wait for them.
stop_load() {
  local pid
  touch "$E2E_TMP/stop-load"
  for pid in "${LOAD_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  LOAD_PIDS=()
}

# final_transfer: one transfer from account 0 to account 1 through node 0,
# waiting for its commit; its hash goes to $E2E_TMP/acked.final.
final_transfer() {
  local net="$E2E_TMP/net" to
  to=$("$WALLET" address --key "$net/accounts/account1.pem")
  "${CLIENT_EXEC[@]}" "$WALLET" --node "$(rpc_url 0)" "${WALLET_TLS[@]}" transfer --json \
    --key "$net/accounts/account0.pem" \
    --to "$to" --amount 1 --wait --timeout-ms 30000 | jq -r .hash >>"$E2E_TMP/acked.final"
}

# heights_equal: every validator answers and all are at one height.
heights_equal() {
  local i h first=""
  for i in $(vals); do
    h=$(rpc status null "$i" | jq -r .result.height) || return 1
    [ -n "$h" ] && [ "$h" != null ] || return 1
    [ -z "$first" ] && first=$h
    [ "$h" = "$first" ] || return 1
  done
}

# converge: wait (at most 60 s) until all validators hold the same height.
converge() {
  local i
  for i in $(seq 1 600); do heights_equal && return 0; sleep 0.1; done
  return 1
}

# refuses_start I PATTERN: node I, started, must exit with status 1 within
# 10 s without ever answering health, its output matching PATTERN (grep).
# The output is kept in $E2E_TMP/refuse.log.
refuses_start() {
  local i=$1 pid served=0 k rc log="$E2E_TMP/refuse.log"
  "$CHAIND" start --home "$E2E_TMP/net/node$i" >"$log" 2>&1 &
  pid=$!
  E2E_PIDS+=($pid)
  for k in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    rpc health null "$i" 2>/dev/null | grep -q '"ok":true' && served=1
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid"
    wait "$pid"
    echo "node $i: still running after 10 s"
    return 1
  fi
  wait "$pid"
  rc=$?
  [ "$rc" = 1 ] && [ "$served" = 0 ] && grep -q "$2" "$log" && return 0
  echo "node $i: status $rc, served $served:"
  tail -n 5 "$log"
  return 1
}

# height I: node I's height (-1 if it does not answer).
height() { rpc status null "$1" | jq -r '.result.height // -1'; }

# wait_height I H SECONDS: wait until node I reaches height H.
wait_height() {
  local end=$((SECONDS + $3))
  while [ "$SECONDS" -lt "$end" ]; do
    [ "$(height "$1")" -ge "$2" ] && return 0
    sleep 0.1
  done
  return 1
}

# wait_mempool_empty I: wait (at most 60 s) until node I has no pending transactions.
wait_mempool_empty() {
  local i
  for i in $(seq 1 600); do
    if [ "$(rpc num_unconfirmed_txs null "${1:-0}" | jq -r .result.count)" = "0" ]; then return 0; fi
    sleep 0.1
  done
  return 1
}
