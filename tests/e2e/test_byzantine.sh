#!/usr/bin/env bash
# One Byzantine validator among four. For each misbehaviour of
# chaind-byzantine (tests/byzantine/byzantine.h) a fresh network runs validator 0, the
# primary of view 0, as chaind-byzantine and validators 1-3 as chaind, while
# three wallet clients send transfers through the honest ones. Each case
# shows that the misbehaviour happened (the Byzantine node logs every act),
# that every transfer still commits (through a view change where the
# primary is at fault), and, after a clean stop, that chain-audit finds the
# honest validators' chains identical and valid and the Byzantine one's a
# prefix of theirs, with every acknowledged transfer in each.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
e2e_init "${1:-build}"
BYZ="$BUILD/chaind-byzantine"
AUDIT="$BUILD/chain-audit"
PER_CLIENT=5

check "chaind-byzantine holds the misbehaviours" grep -q node_byz_send "$BYZ"
check "chaind does not" bash -c "! grep -q node_byz_send '$CHAIND'"

describe() {
  case $1 in
  silent) echo "silent, sends no consensus message" ;;
  equivocate) echo "equivocating primary, two valid blocks for one height" ;;
  votes) echo "PREPAREs and COMMITs for random digests to half of the validators" ;;
  replay) echo "replays its old consensus messages" ;;
  bad-sig) echo "proposes blocks with a broken transaction signature" ;;
  wrong-parent) echo "proposes blocks on a wrong parent" ;;
  overspend) echo "proposes blocks with a transfer from an empty account" ;;
  stale-nonce) echo "proposes blocks with an already committed transaction" ;;
  oversized) echo "proposes blocks with more transactions than a block may hold" ;;
  forge) echo "sends votes in two other validators' names" ;;
  flood) echo "floods its peers with junk (1,500 messages per consensus message)" ;;
  esac
}

# run_case BEHAVIOUR K: the whole scenario on ports BASE0 + 10 K.
BASE0=$BASE_PORT
run_case() {
  local b=$1 port=$((BASE0 + 10 * $2)) net="$E2E_TMP/$1" i k pids=() ready=1
  BASE_PORT=$port # for rpc_url
  "$CHAIND" testnet --validators 4 --dir "$net" --base-port "$port" --accounts 4 >/dev/null
  ln -sfn "$net" "$E2E_TMP/net" # lib.sh's start_node and logs look here
  CHAIND_BYZANTINE=$b "$BYZ" start --home "$net/node0" >>"$net/node0/node.log" 2>&1 &
  E2E_PIDS+=($!)
  NODE_PID_0=$!
  for i in 1 2 3; do start_node "$i"; done
  for i in 0 1 2 3; do wait_ready "$i" || ready=0; done
  check_eq "$b: the four validators start" "$ready" 1
  if [ "$ready" = 0 ]; then
    for i in 0 1 2 3; do kill_node "$i" KILL; done
    return 1
  fi
  # client K: PER_CLIENT transfers from account K through validator K.
  client() {
    local k=$1 j to out
    to=$("$WALLET" address --key "$net/accounts/account0.pem")
    for j in $(seq 1 $PER_CLIENT); do
      out=$("$WALLET" --node "$(rpc_url "$k")" transfer --json --key "$net/accounts/account$k.pem" \
        --to "$to" --amount 1 --wait --timeout-ms 30000) || return 1
      jq -r .hash <<<"$out" >>"$net/acked"
    done
  }
  for k in 1 2 3; do client "$k" & pids+=($!); done
  local failed=0
  for i in "${pids[@]}"; do wait "$i" || failed=$((failed + 1)); done
  local acked acts view
  acked=$(wc -l <"$net/acked" 2>/dev/null || echo 0)
  acts=$(grep -c 'byzantine: ' "$net/node0/node.log")
  view=$(rpc status null 1 | jq -r .result.view)
  check_eq "$b: all $((3 * PER_CLIENT)) transfers commit" "$acked" $((3 * PER_CLIENT))
  check "$b: the misbehaviour happened ($acts acts)" [ "$acts" -gt 0 ]
  case $b in
  silent | bad-sig | wrong-parent | overspend | stale-nonce | oversized)
    check "$b: the honest validators replaced the primary (view $view)" [ "$view" -ge 1 ] ;;
  esac
  case $b in
  bad-sig | wrong-parent | overspend | stale-nonce | oversized)
    local rejected
    rejected=$(cat "$net"/node{1,2,3}/node.log | grep -c 'rejecting proposal')
    check "$b: honest validators rejected the proposals ($rejected)" [ "$rejected" -gt 0 ] ;;
  esac
  local sum=0 field=
  case $b in
  forge) field=peer_messages_bad_signature ;;
  flood) field=peer_messages_rate_limited ;;
  esac
  if [ -n "$field" ]; then
    for i in 1 2 3; do
      sum=$((sum + $(rpc net_info null "$i" | jq -r ".result.$field // 0")))
    done
    check "$b: the honest validators refused its messages ($field: $sum)" [ "$sum" -gt 0 ]
  fi
  # The honest validators converge; then a clean stop and the audit.
  local h3 ok=0
  for k in $(seq 1 100); do
    h3=$(rpc status null 3 | jq -r .result.height)
    [ "$(rpc status null 1 | jq -r .result.height)" = "$h3" ] &&
      [ "$(rpc status null 2 | jq -r .result.height)" = "$h3" ] && ok=1 && break
    sleep 0.1
  done
  check "$b: the honest validators converge" [ "$ok" = 1 ]
  kill_node 0 KILL
  for i in 1 2 3; do check "$b: node $i stops cleanly" stop_node "$i"; done
  local honest all
  honest=$("$AUDIT" "$net/genesis.json" --same-tip --acked "$net/acked" "$net"/node{1,2,3}/data)
  check "$b: the honest chains pass the audit" [ $? -eq 0 ]
  all=$("$AUDIT" "$net/genesis.json" "$net"/node{0,1,2,3}/data)
  check "$b: the Byzantine validator's chain is a prefix of theirs" [ $? -eq 0 ]
  tail -n 1 <<<"$honest"
  local safety lost outcome
  safety=0
  for k in $(sed -n 's/.* \([0-9]*\) safety violations.*/\1/p' <<<"$honest"$'\n'"$all"); do
    safety=$((safety + k))
  done
  lost=$(sed -n 's/.* \([0-9]*\) missing.*/\1/p' <<<"$honest")
  outcome="$acked of $((3 * PER_CLIENT)) transfers committed; view $view; $failed clients failed"
  fault_record "Byzantine validator (1 of 4, primary of view 0): $(describe "$b")" "$acts" "${safety:-?}" \
    "${lost:-?}" "$outcome"
}

k=0
for b in silent equivocate votes replay bad-sig wrong-parent overspend stale-nonce oversized forge flood; do
  k=$((k + 1))
  run_case "$b" "$k"
done
e2e_done
