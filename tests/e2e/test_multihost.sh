#!/usr/bin/env bash
# Four validators on four "hosts": each in a network namespace of its own
# with its own address (10.77.0.1..4), made by `chaind testnet --tls --hosts`,
# reaching each other through netproxy --raw in a fifth namespace that
# holds the bridge and adds 10 ms to every direction of every link. Peer
# links are mutual TLS and clients speak HTTPS (from the bridge's namespace).
# Transfers commit on all four under load; the primary is killed and
# replaced; a validator restarts and catches up; chain-audit is clean.
# Prints the commit latency at light load in round trips (latency / RTT).
# The test creates and removes its namespaces; nothing binds outside them.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init "$1"
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null; then
  echo "skipped: needs root and ip(8) to make network namespaces"
  exit 0
fi
if sanitized; then # the sanitizers' slowness would measure nothing
  echo "skipped under the sanitizers: the normal build runs it"
  exit 0
fi
NET="$E2E_TMP/net"
TAG="ch$$"
NSNET="${TAG}net"
NS=("${TAG}n0" "${TAG}n1" "${TAG}n2" "${TAG}n3")
HOSTS=(10.77.0.1 10.77.0.2 10.77.0.3 10.77.0.4)
HUB=10.77.0.254
netns_cleanup() {
  local ns
  for ns in "${NS[@]}" "$NSNET"; do ip netns del "$ns" 2>/dev/null || true; done
}
trap 'e2e_cleanup; netns_cleanup' EXIT

# ---- the hosts: one namespace each, on a bridge in the hub's namespace ----
ip netns add "$NSNET" && ip -n "$NSNET" link set lo up &&
  ip -n "$NSNET" link add br0 type bridge && ip -n "$NSNET" addr add "$HUB/24" dev br0 &&
  ip -n "$NSNET" link set br0 up || { fail "cannot make the hub namespace"; e2e_done; exit 1; }
for i in 0 1 2 3; do
  ip netns add "${NS[$i]}" && ip -n "${NS[$i]}" link set lo up &&
    ip -n "${NS[$i]}" link add eth0 type veth peer name "h$i" netns "$NSNET" &&
    ip -n "${NS[$i]}" addr add "${HOSTS[$i]}/24" dev eth0 &&
    ip -n "${NS[$i]}" link set eth0 up &&
    ip -n "$NSNET" link set "h$i" master br0 up || { fail "cannot make host $i"; e2e_done; exit 1; }
  eval "NODE_EXEC_$i=(ip netns exec ${NS[$i]})"
done
CLIENT_EXEC=(ip netns exec "$NSNET")

# ---- the network: every validator on its own host, the same ports on each ----
BASE_PORT=26600
"$CHAIND" testnet --dir "$NET" --hosts "$(IFS=,; echo "${HOSTS[*]}")" --tls --accounts 4 \
  --base-port "$BASE_PORT" >"$E2E_TMP/testnet.out"
check "testnet --hosts gives each validator its host's address" \
  grep -q "\"p2p_listen\":.*\"tcp://10.77.0.3:$BASE_PORT\"" "$NET/node2/config.json"
use_tls
RPC_HOSTS=("${HOSTS[@]}")
# link i-j: validator i dials validator j at the hub, port 27000 + 4 i + j
PROXY_HUB=$HUB
proxy_links "$NET" 27000
RULES="$E2E_TMP/rules"
D=${MULTIHOST_DELAY_MS:-10} # one way, per link
echo "* drop 0 delay $D $D" >"$RULES"
ip netns exec "$NSNET" "$BUILD/netproxy" --raw "$RULES" "$E2E_TMP/stats" "${PROXY_LINKS[@]}" \
  2>"$E2E_TMP/netproxy.log" &
E2E_PIDS+=($!)
for i in 0 1 2 3; do start_node "$i"; done
for i in 0 1 2 3; do wait_ready "$i"; done

# ---- light load: one transfer at a time, signed ahead, on one kept HTTPS connection ----
# (curl reuses its connection across --next, so after the first request no
# handshake is in the times: what is left is the node and consensus)
KEY="$NET/accounts/account3.pem"
TO=$("$WALLET" address --key "$NET/accounts/account2.pem")
CURL_ARGS=()
for n in $(seq 0 20); do
  tx=$("$WALLET" transfer --key "$KEY" --to "$TO" --amount 1 --nonce "$n" --chain-id chaind-testnet \
    --print-only)
  [ "$n" -gt 0 ] && CURL_ARGS+=(--next)
  CURL_ARGS+=(-s -o /dev/null -w '%{http_code} %{time_total}\n' "${CURL_TLS[@]}"
    -H 'Content-Type: application/json' --max-time 15
    -d "{\"jsonrpc\":\"2.0\",\"id\":$n,\"method\":\"broadcast_tx_commit\",\"params\":{\"tx\":\"$tx\"}}"
    "$(rpc_url 1)")
done
"${CLIENT_EXEC[@]}" curl "${CURL_ARGS[@]}" >"$E2E_TMP/light.txt"
ok=$(awk '$1 == 200' "$E2E_TMP/light.txt" | wc -l)
check "light-load transfers commit over HTTPS ($ok of 21 answered)" [ "$ok" -eq 21 ]
check "every one of them committed" [ "$(rpc account "{\"address\":\"$TO\"}" 1 | jq -r .result.balance)" -ge 21 ]
# the first request also made the connection; the other 20 are the sample
p50=$(tail -n +2 "$E2E_TMP/light.txt" | awk '{print $2 * 1000}' | sort -n |
  awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}')
first=$(head -n 1 "$E2E_TMP/light.txt" | awk '{printf "%.0f", $2 * 1000}')
echo "commit latency at light load, TLS on, RTT $((2 * D)) ms: p50 ${p50} ms = $(awk -v l="$p50" \
  -v r="$((2 * D))" 'BEGIN {if (r > 0) printf "%.1f", l / r; else print "-"}') round trips" \
  "(broadcast_tx_commit on a kept HTTPS connection; the first, with the handshake: ${first} ms)"

# ---- under load: kill the primary, then restart a validator ----
start_load 3
sleep 3
PRIMARY=$(rpc status null 1 | jq -r .result.primary)
H=$(height 1)
kill_node "$PRIMARY" KILL
OTHER=$(( (PRIMARY + 1) % 4 ))
check "commits resume without the primary (validator $PRIMARY)" wait_height "$OTHER" $((H + 3)) 40
start_node "$PRIMARY"
wait_ready "$PRIMARY"
check "the killed primary restarts and catches up" wait_height "$PRIMARY" "$(height "$OTHER")" 40
R=$(( (PRIMARY + 2) % 4 ))
check "validator $R stops cleanly" stop_node "$R"
sleep 2
start_node "$R"
wait_ready "$R"
check "validator $R restarts and catches up" wait_height "$R" "$(height "$OTHER")" 40
stop_load
check "a transfer commits after the faults" final_transfer
check "the four converge" converge
acked=$(cat "$E2E_TMP"/acked.* | wc -l)
echo "under load across the namespaces: $acked transfers acknowledged"
row "SIGKILL of the primary, validators on four hosts (TLS, 10 ms links)" 1 \
  "view change, commits resumed; the primary caught up"
row "restart of a validator on its host (TLS)" 1 "caught up"
for i in 0 1 2 3; do check "node $i stops cleanly" stop_node "$i"; done
cat "$E2E_TMP"/acked.* >"$E2E_TMP/acked"
audit "$NET/genesis.json" "$E2E_TMP/acked" "$NET"/node{0,1,2,3}/data
record_rows
e2e_done
