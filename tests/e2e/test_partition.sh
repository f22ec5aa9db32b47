#!/usr/bin/env bash
# Partitions, loss and delay between real validators. Every validator
# reaches every other through build/netproxy (one link per direction of each
# pair, set in config.json's peer_addresses), which the test rewires while
# transfers flow: a minority cut off from the rest makes no progress and
# catches up after healing; an even split stops everyone and resumes after
# healing; an isolated primary is replaced; lossy, delayed links still
# commit. At the end the four data directories pass chain-audit.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
e2e_init "${1:-build}"
NET="$E2E_TMP/net"
RULES="$E2E_TMP/rules"
STATS="$E2E_TMP/proxy-stats"
PBASE=$((BASE_PORT + 20)) # link i-j listens on PBASE + 4 i + j
ACKED="$E2E_TMP/acked"
: >"$ACKED"
"$CHAIND" testnet --validators 4 --dir "$NET" --base-port "$BASE_PORT" --accounts 4 >/dev/null
proxy_links "$NET" "$PBASE"
"$BUILD/netproxy" "$RULES" "$STATS" "${PROXY_LINKS[@]}" 2>"$E2E_TMP/netproxy.log" &
E2E_PIDS+=($!)
for i in 0 1 2 3; do start_node "$i"; done
for i in 0 1 2 3; do wait_ready "$i"; done

# rules LINE...: the network from now on (no line: every link perfect).
rules() {
  printf '%s\n' "$@" >"$RULES.tmp" && mv "$RULES.tmp" "$RULES"
  sleep 0.1
}
# isolate I...: cut every link between these validators and the others.
isolate() {
  local lines=() a b
  for a in "$@"; do
    for b in 0 1 2 3; do
      case " $* " in *" $b "*) continue ;; esac
      lines+=("$a-$b drop 100 delay 0 0" "$b-$a drop 100 delay 0 0")
    done
  done
  rules "${lines[@]}"
}
heal() { rules; }
ms() { date +%s%3N; }
# send I [TIMEOUT_MS]: a transfer from account I through validator I; acknowledged ones are recorded.
send() {
  local out
  out=$("$WALLET" --node "$(rpc_url "$1")" transfer --json --key "$NET/accounts/account$1.pem" \
    --to "$TO" --amount 1 --wait --timeout-ms "${2:-30000}" 2>/dev/null) || return 1
  jq -r .hash <<<"$out" >>"$ACKED"
}
dropped() { awk '{d += $5} END {print d + 0}' "$STATS"; }
forwarded() { awk '{f += $3} END {print f + 0}' "$STATS"; }
TO=$("$WALLET" address --key "$NET/accounts/account0.pem")

check "a transfer commits through the proxies" send 1
sleep 0.5
check "messages flow through the proxies ($(forwarded))" [ "$(forwarded)" -gt 0 ]

# --- a minority: validator 3 alone
isolate 3
h3=$(height 3)
d0=$(dropped)
n=0
for k in 1 2 3 4 5; do send $((k % 3)) && n=$((n + 1)); done
check_eq "the majority commits while validator 3 is cut off" "$n" 5
check_eq "validator 3 commits nothing while cut off" "$(height 3)" "$h3"
check "the cut dropped messages" [ "$(dropped)" -gt "$d0" ]
heal
h=$(height 0)
t0=$(ms)
check "validator 3 catches up after healing" wait_height 3 "$h" 60
minority_ms=$(( $(ms) - t0 ))
row "partition: one validator of 4 cut off from the rest, under load" 1 \
  "majority committed 5 of 5; the minority committed nothing; caught up ${minority_ms} ms after healing"

# --- an even split: no quorum anywhere
isolate 0 1
hs="$(height 0) $(height 1) $(height 2) $(height 3)"
"$WALLET" --node "$(rpc_url 2)" transfer --json --key "$NET/accounts/account2.pem" --to "$TO" \
  --amount 1 >"$E2E_TMP/split.json" 2>/dev/null
split_tx=$(jq -r .hash "$E2E_TMP/split.json")
check "a transfer is accepted during the split" test -n "$split_tx" -a "$split_tx" != null
sleep 3
check_eq "nobody commits during a 2-2 split" "$(height 0) $(height 1) $(height 2) $(height 3)" "$hs"
heal
t0=$(ms)
committed() { "$WALLET" --node "$(rpc_url 2)" tx "$split_tx" --json 2>/dev/null | jq -e '.status == "committed"' >/dev/null; }
for k in $(seq 1 600); do committed && break; sleep 0.1; done
check "the transfer sent during the split commits after healing" committed
split_ms=$(( $(ms) - t0 ))
committed && echo "$split_tx" >>"$ACKED"
row "partition: 2-2 split (no quorum on either side)" 1 \
  "no validator committed for 3 s; the pending transfer committed ${split_ms} ms after healing"

# --- the primary cut off: replaced by a view change
p=$(rpc status null 1 | jq -r .result.primary)
v0=$(rpc status null $(( (p + 1) % 4 )) | jq -r .result.view)
isolate "$p"
t0=$(ms)
q=$(( (p + 1) % 4 ))
check "a transfer commits while the primary ($p) is cut off" send "$q"
primary_ms=$(( $(ms) - t0 ))
v1=$(rpc status null "$q" | jq -r .result.view)
check "the others changed view ($v0 -> $v1)" [ "$v1" -gt "$v0" ]
heal
h=$(height "$q")
check "the old primary catches up after healing" wait_height "$p" "$h" 60
row "partition: the primary cut off from the rest" 1 \
  "view $v0 -> $v1; a transfer committed ${primary_ms} ms after the cut"

# --- lossy, slow links everywhere
rules "* drop 10 delay 0 40"
d0=$(dropped)
n=0
t0=$(ms)
for k in $(seq 1 12); do send $((k % 4)) 60000 && n=$((n + 1)); done
lossy_ms=$(( $(ms) - t0 ))
lossy_dropped=$(( $(dropped) - d0 ))
check_eq "every transfer commits over lossy, slow links" "$n" 12
check "messages were dropped ($lossy_dropped)" [ "$lossy_dropped" -gt 0 ]
heal
row "every link drops 10 % of messages and delays 0-40 ms" "$lossy_dropped" \
  "12 of 12 transfers committed in ${lossy_ms} ms; $lossy_dropped messages dropped"

# --- all converge; a clean stop; the audit
h=0
for i in 0 1 2 3; do [ "$(height "$i")" -gt "$h" ] && h=$(height "$i"); done
for i in 0 1 2 3; do check "validator $i reaches height $h" wait_height "$i" "$h" 60; done
for i in 0 1 2 3; do check "node $i stops cleanly" stop_node "$i"; done
audit "$NET/genesis.json" "$ACKED" "$NET"/node*/data
record_rows
e2e_done
