#!/usr/bin/env bash
# The crash-fault engines (genesis "engine": raft, multipaxos) with 3 and 5
# real validators, every link through build/netproxy. For each engine and
# size: transfers from the wallet commit; the leader cut into a minority
# steps down while the majority elects another and commits, and the
# minority commits nothing; after healing all converge; the leader killed
# with SIGKILL is replaced (the time until a transfer commits again is
# reported); a crash loop under load (one validator down at a time); then
# all converge, stop cleanly, and chain-audit checks the data directories
# against the engine's certificate quorum (a majority).
# ENGINES and SIZES choose the runs (default "raft multipaxos" and "3 5";
# under the sanitizers "3" only); LOOP_SECONDS the crash loop (default 12,
# 6 under the sanitizers).
set -uo pipefail
source "$(dirname "$0")/lib.sh"
e2e_init "${1:-build}"
ENGINES=${ENGINES:-raft multipaxos}
if sanitized; then
  SIZES=${SIZES:-3}
  LOOP=${LOOP_SECONDS:-6}
else
  SIZES=${SIZES:-3 5}
  LOOP=${LOOP_SECONDS:-12}
fi
E2E_VIEW_TIMEOUT=500
NET="$E2E_TMP/net"
RULES="$E2E_TMP/rules"
STATS="$E2E_TMP/proxy-stats"
PBASE=$((BASE_PORT + 20)) # link i-j listens on PBASE + NVAL i + j
ms() { date +%s%3N; }

rules() {
  printf '%s\n' "$@" >"$RULES.tmp" && mv "$RULES.tmp" "$RULES"
  sleep 0.1
}
# isolate I...: cut every link between these validators and the others.
isolate() {
  local lines=() a b
  for a in "$@"; do
    for b in $(vals); do
      case " $* " in *" $b "*) continue ;; esac
      lines+=("$a-$b drop 100 delay 0 0" "$b-$a drop 100 delay 0 0")
    done
  done
  rules "${lines[@]}"
}
heal() { rules; }

role_of() { rpc status null "$1" | jq -r '.result.role // "down"' 2>/dev/null; }
# leader_among I...: the one of these validators that leads (and knows it), else fail.
leader_among() {
  local i
  for i in "$@"; do
    [ "$(role_of "$i")" = leader ] && { echo "$i"; return 0; }
  done
  return 1
}
# wait_leader SECONDS I...: wait until one of these validators leads; print it.
wait_leader() {
  local end=$((SECONDS + $1)) l
  shift
  while [ "$SECONDS" -lt "$end" ]; do
    l=$(leader_among "$@") && { echo "$l"; return 0; }
    sleep 0.05
  done
  return 1
}
# send I [TIMEOUT_MS]: a transfer through validator I, waiting for its commit; recorded.
send() {
  local out
  out=$("$WALLET" --node "$(rpc_url "$1")" transfer --json --key "$NET/accounts/account$1.pem" \
    --to "$TO" --amount 1 --wait --timeout-ms "${2:-30000}" 2>/dev/null) || return 1
  [ "$(jq -r .status <<<"$out")" = committed ] || return 1
  jq -r .hash <<<"$out" >>"$E2E_TMP/acked.sent"
}
others() { local i; for i in $(vals); do case " $* " in *" $i "*) ;; *) echo "$i" ;; esac; done; }

run() {
  local engine=$1 i l p h q old_heights new_heights minority majority t0 kills=0 acked
  NVAL=$2
  E2E_ENGINE=$engine
  local f=$(( (NVAL - 1) / 2 )) tag="$engine, n = $NVAL"
  echo "== $tag"
  rm -rf "$NET" "$E2E_TMP"/acked.* "$E2E_TMP/stop-load"
  : >"$RULES"
  make_testnet "$NVAL"
  proxy_links "$NET" "$PBASE"
  "$BUILD/netproxy" "$RULES" "$STATS" "${PROXY_LINKS[@]}" 2>"$E2E_TMP/netproxy.log" &
  local proxy=$!
  E2E_PIDS+=($proxy)
  for i in $(vals); do start_node "$i"; done
  for i in $(vals); do wait_ready "$i"; done
  TO=$("$WALLET" address --key "$NET/accounts/account0.pem")

  check_eq "[$tag] status names the engine" "$(rpc status null 0 | jq -r .result.engine)" "$engine"
  check_eq "[$tag] validators reports f = $f" "$(rpc validators null 0 | jq -r .result.f)" "$f"
  l=$(wait_leader 20 $(vals))
  check "[$tag] a leader is elected ($l)" [ -n "$l" ]
  local n=0
  for i in $(vals); do send "$i" && n=$((n + 1)); done
  check_eq "[$tag] a transfer through each validator commits" "$n" "$NVAL"

  # --- the leader and f - 1 followers cut off: a minority of f
  minority="$l $(others "$l" | head -n $((f - 1)))"
  majority=$(others $minority)
  old_heights=$(for i in $minority; do height "$i"; done | tr '\n' ' ')
  isolate $minority
  t0=$(ms)
  q=$(wait_leader 20 $majority)
  check "[$tag] the majority elects a new leader ($q) while the old one ($l) is cut off" [ -n "$q" ]
  check "[$tag] the majority commits while the leader is cut off" send "$(echo $majority | cut -d' ' -f1)"
  local cut_ms=$(( $(ms) - t0 ))
  sleep $(( 2 * E2E_VIEW_TIMEOUT / 1000 + 1 ))
  check "[$tag] the old leader ($l), in the minority, steps down ($(role_of "$l"))" \
    [ "$(role_of "$l")" != leader ]
  new_heights=$(for i in $minority; do height "$i"; done | tr '\n' ' ')
  check_eq "[$tag] the minority commits nothing" "$new_heights" "$old_heights"
  heal
  check "[$tag] all converge after healing" converge
  row "$tag: the leader and $((f - 1)) other(s) cut into a minority, under transfers" 1 \
    "leader $l -> $q; a transfer committed ${cut_ms} ms after the cut; the minority committed nothing"

  # --- the leader killed with SIGKILL
  l=$(wait_leader 20 $(vals))
  p=$(others "$l" | head -n 1)
  kill_node "$l" KILL
  t0=$(ms)
  check "[$tag] a transfer commits after the leader ($l) is killed" send "$p" 60000
  local resume_ms=$(( $(ms) - t0 ))
  echo "[$tag] time to resume after SIGKILL of the leader: $resume_ms ms"
  echo "$engine $NVAL $resume_ms" >>"$E2E_TMP/resume"
  start_node "$l"
  wait_ready "$l"
  check "[$tag] the killed leader catches up" converge
  row "$tag: SIGKILL of the leader" 1 "a transfer committed ${resume_ms} ms after the kill"

  # --- a crash loop under load, one validator down at a time
  local end=$((SECONDS + LOOP))
  start_load "$NVAL" "$end"
  while [ "$SECONDS" -lt "$end" ]; do
    sleep "0.$((3 + RANDOM % 7))"
    i=$((RANDOM % NVAL))
    kill_node "$i" KILL
    kills=$((kills + 1))
    sleep "0.$((1 + RANDOM % 9))"
    start_node "$i"
    wait_ready "$i"
  done
  stop_load
  acked=$(cat "$E2E_TMP"/acked.[0-9]* 2>/dev/null | wc -l)
  check "[$tag] transfers commit during the crash loop ($acked, $kills kills)" [ "$acked" -gt 0 ]
  end_soak "[$tag] the crash loop"
  row "$tag: SIGKILL of a random validator every 0.3-1 s under load, restarted after 0.1-1 s" \
    "$kills" "$acked transfers acknowledged; all converged"
  record_rows
  ROWS=()
  kill "$proxy" 2>/dev/null
  wait "$proxy" 2>/dev/null
  mv "$NET" "$E2E_TMP/net-$engine-$NVAL"
}

for e in $ENGINES; do
  for n in $SIZES; do run "$e" "$n"; done
done
echo "time to resume after SIGKILL of the leader (engine n ms):"
cat "$E2E_TMP/resume" 2>/dev/null
e2e_done
