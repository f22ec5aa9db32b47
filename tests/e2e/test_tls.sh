#!/usr/bin/env bash
# Mutual TLS between validators and HTTPS for clients (chaind testnet --tls):
# transfers commit over HTTPS under load; every hostile peer connection (no
# certificate, a self-made one in a genesis validator's name, a valid one of
# a validator not in genesis, plaintext) is refused before the transport's
# hello and counted in net_info, and the chain goes on; bytes flipped inside
# the TLS streams break the links, which reconnect; a client with the wrong
# CA is refused, and an endpoint that demands client certificates refuses a
# client without one. Each validator reaches the others through netproxy
# --raw, which forwards TLS bytes it cannot read.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init "$1"
NET="$E2E_TMP/net"
PBASE=$((BASE_PORT + 20))
pick_ports $(seq 20 35) || { fail "no free ports"; e2e_done; exit 1; }
use_tls
RULES="$E2E_TMP/rules"
STATS="$E2E_TMP/stats"
: >"$RULES"

"$CHAIND" testnet --validators 4 --dir "$NET" --base-port "$BASE_PORT" --accounts 4 --tls >/dev/null
proxy_links "$NET" "$PBASE"
"$BUILD/netproxy" --raw "$RULES" "$STATS" "${PROXY_LINKS[@]}" 2>"$E2E_TMP/netproxy.log" &
E2E_PIDS+=($!)
for i in 0 1 2 3; do start_node "$i"; done
for i in 0 1 2 3; do wait_ready "$i"; done
check "every validator says its peer links use mutual TLS" \
  bash -c "grep -q 'peers: listening on .* (mutual TLS)' '$NET'/node0/node.log"
tls_failed() { rpc net_info null "$1" | jq -r '.result.peer_connections_tls_failed'; }
connected() { # connected I: node I's links to the three others are up
  [ "$(rpc net_info null "$1" | jq '[.result.peers[] | select(.connected)] | length')" = 3 ]
}
wait_for() { # wait_for SECONDS COMMAND...: until COMMAND succeeds
  local end=$((SECONDS + $1)); shift
  while [ "$SECONDS" -lt "$end" ]; do "$@" && return 0; sleep 0.2; done
  return 1
}
all_connected() { connected 0 && connected 1 && connected 2 && connected 3; }
check "the four validators connect over TLS (through the proxy)" wait_for 20 all_connected

start_load 4
sleep 2

# ---- hostile peers, against node 0's peer port ----
P2P0="tcp://127.0.0.1:$BASE_PORT"
before=$(tls_failed 0)
for mode in nocert selfmade outsider; do
  out=$("$BUILD/peer-inject" "$P2P0" tls "$mode" "$NET/genesis.json" 1 2>&1)
  check "a peer with a $mode certificate is refused before the hello ($out)" [ $? -eq 0 ]
done
out=$("$BUILD/peer-inject" "$P2P0" tls genuine "$NET/genesis.json" 1 "$NET/node1/validator.pem" 2>&1)
check "the control: validator 1's own key is accepted ($out)" [ $? -eq 0 ]
out=$("$BUILD/peer-inject" "$P2P0" tls genuine "$NET/genesis.json" 2 "$NET/node1/validator.pem" 2>&1)
check "validator 1's key passing for validator 2 is refused ($out)" [ $? -eq 1 ]
out=$("$BUILD/peer-inject" "$P2P0" conns 1 1000 2>&1)
check "plaintext on the TLS peer port is closed ($out)" [ $? -eq 0 ]
sleep 0.5
after=$(tls_failed 0)
check "net_info counts the 5 refused connections ($before -> $after)" [ "$after" -ge $((before + 5)) ]
h0=$(height 0)
check "the chain goes on after the hostile peers" wait_height 0 $((h0 + 2)) 30
row "peer link without a TLS certificate" 1 "refused in the handshake; net_info peer_connections_tls_failed"
row "self-made certificate in a genesis validator's name" 1 "refused in the handshake; counted"
row "valid certificate of a validator not in genesis" 1 "refused in the handshake; counted"
row "one genesis validator's key passing for another" 1 "refused in the handshake; counted"
row "plaintext on a TLS peer port" 1 "closed before the hello; counted"

# ---- bytes flipped inside the TLS streams into node 0 ----
flips_before=$(tls_failed 0)
echo "*-0 drop 0 delay 0 0 flip 20" >"$RULES.new" && mv "$RULES.new" "$RULES"
sleep 3
: >"$RULES.new" && mv "$RULES.new" "$RULES"
flipped=$(awk '$1 ~ /-0$/ {s += $7} END {print s + 0}' "$STATS")
flips_after=$(tls_failed 0)
check "flipped bytes ($flipped) broke TLS links into node 0 ($flips_before -> $flips_after)" \
  [ "$flips_after" -gt "$flips_before" ]
check "the links reconnect once the bytes are left alone" wait_for 20 all_connected
row "bytes flipped inside TLS streams (20% of pieces, 3 s)" "$((flips_after - flips_before))" \
  "each broken link dropped and redialed; counted"

stop_load
check "a transfer commits over HTTPS after the faults" final_transfer
check "the validators converge" converge
acked=$(cat "$E2E_TMP"/acked.* | wc -l)
failed=$(cat "$E2E_TMP"/failed.* 2>/dev/null | wc -l)
echo "load over HTTPS: $acked transfers committed, $failed attempts failed"
check "transfers committed under load over HTTPS" [ "$acked" -gt 10 ]

# ---- HTTPS clients ----
"$CHAIND" testnet --validators 1 --dir "$E2E_TMP/other" --base-port "$((BASE_PORT + 40))" --tls >/dev/null
URL0=$(rpc_url 0)
curl -s --max-time 10 --cacert "$E2E_TMP/other/tls/ca.crt" "${URL0}healthz" >/dev/null
check "curl with another network's CA is refused (exit $?)" [ $? -ne 0 ]
out=$("$WALLET" --node "$URL0" --ca "$E2E_TMP/other/tls/ca.crt" status 2>&1)
refused_clearly() { ! grep -q chain_id <<<"$1" && grep -q certificate <<<"$1"; }
check "the wallet with the wrong CA is refused with a clear error ($out)" refused_clearly "$out"
out=$("$WALLET" --node "$URL0" status 2>&1)
check "the wallet without --ca says it needs one ($out)" grep -q -- "--ca" <<<"$out"
check "plain HTTP to the HTTPS port gets no answer" \
  bash -c "! curl -s --max-time 5 http://127.0.0.1:$((BASE_PORT + 1))/healthz | grep -q ok"
row "HTTPS client with a wrong CA" 2 "refused by curl and the wallet"

# ---- an endpoint that demands client certificates (node 3) ----
check "node 3 stops" stop_node 3
jq '.rpc_tls_client_ca = "tls/ca.crt"' "$NET/node3/config.json" >"$NET/node3/c.json" &&
  mv "$NET/node3/c.json" "$NET/node3/config.json"
start_node 3
URL3=$(rpc_url 3)
wait_ready 3
check "with a client certificate, node 3 answers" bash -c "curl -s --max-time 5 --cacert '$NET/tls/ca.crt' \
  --cert '$NET/tls/client.crt' --key '$NET/tls/client.key' '${URL3}healthz' | grep -q '\"ok\":true'"
check "without one, node 3 refuses the connection" \
  bash -c "! curl -s --max-time 5 --cacert '$NET/tls/ca.crt' '${URL3}healthz' | grep -q ok"
out=$("$WALLET" --node "$URL3" --ca "$NET/tls/ca.crt" --tls-cert "$NET/tls/client.crt" \
  --tls-key "$NET/tls/client.key" status --json 2>&1)
check "the wallet with --tls-cert reaches node 3" bash -c 'jq -e .chain_id >/dev/null <<<"$1"' _ "$out"
out=$("$WALLET" --node "$URL3" --ca "$NET/tls/ca.crt" status 2>&1)
check "the wallet without one is refused by node 3 ($out)" refused_clearly "$out"
row "HTTPS client without the demanded client certificate" 1 "connection refused"
check "the validators converge with node 3 back" converge

for i in 0 1 2 3; do check "node $i stops cleanly" stop_node "$i"; done
cat "$E2E_TMP"/acked.* >"$E2E_TMP/acked"
audit "$NET/genesis.json" "$E2E_TMP/acked" "$NET"/node{0,1,2,3}/data
record_rows
e2e_done
