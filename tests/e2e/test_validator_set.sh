#!/usr/bin/env bash
# Validator-set changes on a running chain, under steady load: four genesis
# validators vote in a fifth, then a sixth and a seventh, each made with
# `chaind init` and started from the genesis file alone (it syncs the chain,
# checking every certificate against the set of its height, and votes from
# its activation height); they vote out the current primary, re-key a
# validator (whose old key is refused afterwards), vote out a Byzantine one
# (chaind-byzantine, if built), and shrink back to four. A change with
# fewer approvals than a quorum never takes effect, a forged approval and a
# second approval by the same validator are refused with clear errors, and
# `validators` reports f and the quorum of the set in force at every step.
# At the end chain-audit replays the chain and checks every certificate
# against the set of its height, and that every acknowledged transfer is
# in every member's data directory.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
e2e_init "$1"
pick_ports $(seq 8 13) || { echo "no free port range"; exit 1; }

NET="$E2E_TMP/net"
NVAL=4
ACCOUNTS=4
make_testnet "$ACCOUNTS"
for i in 0 1 2 3; do start_node "$i"; done
for i in 0 1 2 3; do wait_ready "$i"; done
W() { "$WALLET" --node "$(rpc_url "$1")" "${@:2}"; }
VKEY() { echo "$NET/node$1/validator.pem"; }
MEMBERS=(0 1 2 3) # the nodes of the set in force, by node number

# --- steady load: transfers through any member, each acknowledged one recorded
LOADERS=()
loader() { # loader K: account K pays account K+1, through members picked at random
  local k=$1 to out node
  to=$("$WALLET" address --key "$NET/accounts/account$(( (k + 1) % ACCOUNTS )).pem")
  while [ ! -e "$E2E_TMP/stop-load" ]; do
    node=$(shuf -n 1 "$E2E_TMP/members")
    if out=$(W "$node" transfer --json --key "$NET/accounts/account$k.pem" --to "$to" --amount 1 \
        --wait --timeout-ms 8000 2>/dev/null) && [ "$(jq -r .status <<<"$out")" = committed ]; then
      jq -r .hash <<<"$out" >>"$E2E_TMP/acked.$k"
    else
      sleep 0.2
    fi
  done
}
publish_members() { printf '%s\n' "${MEMBERS[@]}" >"$E2E_TMP/members.new"; mv "$E2E_TMP/members.new" "$E2E_TMP/members"; }
publish_members
for k in $(seq 0 $((ACCOUNTS - 1))); do loader "$k" & LOADERS+=($!); E2E_PIDS+=($!); done

# set_json NODE: the `validators` answer of NODE (the set in force at its next height).
set_json() { rpc validators null "$1" | jq -c .result; }
ids_of() { jq -r '[.validators[].id] | join(",")' <<<"$1"; }
member_ids() { local m out=(); for m in "${MEMBERS[@]}"; do out+=("node$m"); done; (IFS=,; echo "${out[*]}"); }
# f_quorum N: PBFT's f and quorum for a set of N
f_quorum() { local f=$(( ($1 - 1) / 3 )); echo "$f $(( ($1 + f + 2) / 2 ))"; }

# in_force: every running member reports the set MEMBERS, with its f and quorum.
in_force() {
  local m js want f q
  read -r f q <<<"$(f_quorum ${#MEMBERS[@]})"
  for m in "${MEMBERS[@]}"; do
    js=$(set_json "$m") || return 1
    [ "$(ids_of "$js" | tr , '\n' | sort | paste -sd,)" = "$(member_ids | tr , '\n' | sort | paste -sd,)" ] || return 1
    [ "$(jq -r .f <<<"$js")" = "$f" ] && [ "$(jq -r .quorum <<<"$js")" = "$q" ] || return 1
  done
}
wait_in_force() { local i; for i in $(seq 1 300); do in_force && return 0; sleep 0.2; done; return 1; }

# approve OP ID [ARGS...]: a quorum of the members in force approves, each with --wait.
approve() {
  local op=$1 id=$2 q k n=0 out
  shift 2
  q=$(set_json "${MEMBERS[0]}" | jq -r .quorum)
  for k in "${MEMBERS[@]}"; do
    [ "$n" -ge "$q" ] && break
    [ "node$k" = "$id" ] && [ "$op" = remove ] && continue # others vote it out
    out=$(W "$k" validator "$op" --key "$(VKEY "$k")" --id "$id" "$@" --wait --json --timeout-ms 20000 2>&1) ||
      { echo "approval of $op $id by node$k failed: $out"; return 1; }
    n=$((n + 1))
  done
}

# join J: node J is made with chaind init, voted in, started from genesis alone, and votes.
join() {
  local j=$1 home="$NET/node$1" info
  "$CHAIND" init --home "$home" --moniker "node$j" --p2p "tcp://127.0.0.1:$((BASE_PORT + 2 * j))" \
    --rpc "http://127.0.0.1:$((BASE_PORT + 2 * j + 1))" >/dev/null
  # the testnet's links are plaintext on loopback; TLS admits genesis validators only for now
  jq '.p2p_tls = false' "$home/config.json" >"$home/c.json" && mv "$home/c.json" "$home/config.json"
  info=$("$CHAIND" show-validator --home "$home" --json)
  check "node$j: show-validator gives id, pub_key and p2p_address" \
    jq -e '.id and .pub_key and .p2p_address' <<<"$info"
  check "node$j is voted in by a quorum" approve add "$(jq -r .id <<<"$info")" \
    --pub-key "$(jq -r .pub_key <<<"$info")" --p2p "$(jq -r .p2p_address <<<"$info")"
  start_node "$j"
  wait_ready "$j"
  MEMBERS+=("$j")
  check "the set of ${#MEMBERS[@]} is in force on every member, with its f and quorum" wait_in_force
  member_of() { [ "$(rpc status null "$1" | jq -r .result.member)" = true ]; }
  for k in $(seq 1 150); do member_of "$j" && break; sleep 0.2; done
  check "node$j synced from genesis and votes" member_of "$j"
  publish_members
}

# leave ID NODE: a quorum of the others votes node NODE (validator ID) out.
leave() {
  local node=$2
  check "$1 is voted out by a quorum" approve remove "$1"
  local rest=() m
  for m in "${MEMBERS[@]}"; do [ "$m" != "$node" ] && rest+=("$m"); done
  MEMBERS=("${rest[@]}")
  publish_members
  check "the set of ${#MEMBERS[@]} is in force on every member, with its f and quorum" wait_in_force
}

# --- fewer approvals than a quorum, a forged approval, a repeated one
"$WALLET" keygen --out "$E2E_TMP/stranger.pem" >/dev/null
SPUB=$("$WALLET" address --key "$E2E_TMP/stranger.pem" --json | jq -r .pub_key)
out=$(W 0 validator add --key "$E2E_TMP/stranger.pem" --id stranger --pub-key "$SPUB" \
  --p2p tcp://127.0.0.1:1 --json 2>&1 || true)
check "an approval signed by no validator is refused with a clear error" grep -q "not a validator" <<<"$out"
W 0 validator add --key "$(VKEY 0)" --id stranger --pub-key "$SPUB" --p2p tcp://127.0.0.1:1 \
  --wait --json >/dev/null
out=$(W 1 validator add --key "$(VKEY 0)" --id stranger --pub-key "$SPUB" --p2p tcp://127.0.0.1:1 \
  --json 2>&1 || true)
check "a second approval by the same validator is refused" grep -q "already approved" <<<"$out"
pending=$(W 2 validator pending --json)
check_eq "the change holds one approval" \
  "$(jq '[.changes[] | select(.id == "stranger")][0].approvals | length' <<<"$pending")" 1
H0=$(height 0)
wait_height 0 $((H0 + 4)) 60 || true
check "a change approved by fewer than a quorum does not take effect" in_force

# --- grow 4 -> 5 -> 7 (4 -> 5 under the sanitizers, whose validators are slower)
JOINERS=(4 5 6)
sanitized && JOINERS=(4)
for j in "${JOINERS[@]}"; do join "$j"; done

# --- vote out the current primary
P=$(rpc status null "${MEMBERS[0]}" | jq -r .result.primary)
PID_=$(set_json "${MEMBERS[0]}" | jq -r --argjson p "$P" '.validators[] | select(.index == $p) | .id')
PNODE=${PID_#node}
H=$(height "${MEMBERS[0]}")
leave "$PID_" "$PNODE"
check "the removed primary says so in its log" grep -q "not in the validator set" "$NET/node$PNODE/node.log"
kill_node "$PNODE" TERM
OTHER=${MEMBERS[0]}
check "blocks commit after the primary is voted out" wait_height "$OTHER" $((H + 6)) 60

# --- re-key a validator: its old key is refused afterwards
R=${MEMBERS[1]}
OLDKEY="$E2E_TMP/old-node$R.pem"
cp "$(VKEY "$R")" "$OLDKEY"
"$WALLET" keygen --out "$E2E_TMP/new-node$R.pem" >/dev/null
NPUB=$("$WALLET" address --key "$E2E_TMP/new-node$R.pem" --json | jq -r .pub_key)
check "node$R's new key is approved by a quorum" approve rekey "node$R" --pub-key "$NPUB"
rekeyed() { set_json "$OTHER" | jq -e --arg k "$NPUB" '[.validators[].pub_key] | index($k)' >/dev/null; }
for k in $(seq 1 150); do rekeyed && break; sleep 0.2; done
check "the new key rules" rekeyed
kill_node "$R" TERM
cp "$E2E_TMP/new-node$R.pem" "$(VKEY "$R")"
start_node "$R"
wait_ready "$R"
for k in $(seq 1 150); do [ "$(rpc status null "$R" | jq -r .result.member)" = true ] && break; sleep 0.2; done
check_eq "node$R votes again with its new key" "$(rpc status null "$R" | jq -r .result.member)" true
out=$(W "$OTHER" validator remove --key "$OLDKEY" --id "node$OTHER" --json 2>&1 || true)
check "the old key is no longer accepted" grep -q "not a validator" <<<"$out"

# --- vote out a Byzantine validator
BYZ="$BUILD/chaind-byzantine"
B=${MEMBERS[2]}
if [ -x "$BYZ" ]; then
  kill_node "$B" TERM
  CHAIND_BYZANTINE=votes "$BYZ" start --home "$NET/node$B" >>"$NET/node$B/node.log" 2>&1 &
  E2E_PIDS+=($!)
  eval "NODE_PID_$B=$!"
  wait_ready "$B"
  sleep 2
  check "node$B misbehaves (chaind-byzantine votes)" grep -q "byzantine:" "$NET/node$B/node.log"
fi
leave "node$B" "$B"
kill_node "$B" TERM

# --- shrink back to four (to three under the sanitizers: 5 - primary - Byzantine)
while [ "${#MEMBERS[@]}" -gt 4 ]; do
  V=${MEMBERS[${#MEMBERS[@]} - 1]}
  leave "node$V" "$V"
  kill_node "$V" TERM
done
check_eq "the final set remains" "${#MEMBERS[@]}" $(( ${#JOINERS[@]} == 3 ? 4 : 3 ))
H=$(height "${MEMBERS[0]}")
check "blocks commit with the final set" wait_height "${MEMBERS[0]}" $((H + 3)) 60

# --- stop the load; every acknowledged transfer is on every member
touch "$E2E_TMP/stop-load"
for p in "${LOADERS[@]}"; do wait "$p" 2>/dev/null || true; done
cat "$E2E_TMP"/acked.* >"$E2E_TMP/acked"
check "transfers were acknowledged under load" [ "$(wc -l <"$E2E_TMP/acked")" -ge 20 ]
converged() {
  local m h first=""
  for m in "${MEMBERS[@]}"; do
    h=$(height "$m"); [ -z "$first" ] && first=$h; [ "$h" = "$first" ] || return 1
  done
}
for k in $(seq 1 300); do converged && break; sleep 0.1; done
check "the final members converge" converged
for m in "${MEMBERS[@]}"; do check "node$m stops cleanly on SIGTERM (exit 0, no leak)" stop_node "$m"; done
audit "$NET/genesis.json" "$E2E_TMP/acked" $(for m in "${MEMBERS[@]}"; do echo "$NET/node$m/data"; done)
row "validator set changes under load (4 -> 7 -> 4, primary removed, re-key, Byzantine voted out)" 1 \
  "every certificate checked against its height's set; $(wc -l <"$E2E_TMP/acked") transfers acknowledged"
record_rows
e2e_done
