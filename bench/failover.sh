#!/usr/bin/env bash
# Failover time: on a 4-validator network under steady load, kill -9 the
# primary and measure the time until a block of a later view commits (the
# view change is done and the new primary's block is certified); restart
# it, let it catch up, and repeat. Prints every run and the median.
# Usage: bench/failover.sh [BUILD_DIR] [RUNS]   (defaults: build, 5)
set -euo pipefail
source "$(dirname "$0")/../tests/e2e/lib.sh"
e2e_init "${1:-build}"
RUNS=${2:-5}
NET="$E2E_TMP/net"
N=4
"$CHAIND" testnet --validators $N --dir "$NET" --base-port "$BASE_PORT" --accounts 4 \
  --balance 100000000 >/dev/null
for i in $(seq 0 $((N - 1))); do start_node "$i"; done
for i in $(seq 0 $((N - 1))); do wait_ready "$i"; done
W() { "$WALLET" --node "$(rpc_url "$1")" "${@:2}"; }
TO=$(W 0 address --key "$NET/accounts/account3.pem")
COMMITTED="$E2E_TMP/commits.txt"
: >"$COMMITTED"
# Steady load: three clients, each sending to a different node and waiting for the commit.
load() { # load ACCOUNT
  local k=0 node out
  while :; do
    node=$(( (k + $1) % N )); k=$((k + 1))
    out=$(W "$node" transfer --key "$NET/accounts/account$1.pem" --to "$TO" --amount 1 --wait \
      --timeout-ms 3000 --json 2>/dev/null) || continue
    echo "$(date +%s%3N)" >>"$COMMITTED"
  done
}
for a in 0 1 2; do load "$a" & E2E_PIDS+=($!); done
sleep 3
times=()
for run in $(seq 1 "$RUNS"); do
  # The primary of the highest view any node reports.
  V=-1; P=0
  for i in $(seq 0 $((N - 1))); do
    st=$(rpc status null "$i")
    v=$(jq -r '.result.view // -1' <<<"$st")
    if [ "$v" -gt "$V" ]; then V=$v; P=$(jq -r .result.primary <<<"$st"); fi
  done
  LIVE=$(( (P + 1) % N ))
  # Kill only while the load flows: a commit within the last 300 ms.
  for i in $(seq 1 200); do
    last=$(tail -n 1 "$COMMITTED"); now=$(date +%s%3N)
    [ -n "$last" ] && [ $((now - last)) -lt 300 ] && break
    sleep 0.05
  done
  t0=$(date +%s%3N)
  kill_node "$P" KILL
  t1=""
  for i in $(seq 1 600); do
    bv=$(rpc block null "$LIVE" | jq -r '.result.header.view // -1')
    if [ "$bv" -gt "$V" ]; then t1=$(date +%s%3N); break; fi
    sleep 0.02
  done
  ms=$(( ${t1:-$((t0 + 15000))} - t0 ))
  times+=("$ms")
  echo "run $run: killed primary $P of view $V; first block of a later view after $ms ms"
  start_node "$P"
  wait_ready "$P"
  # Let it catch up before the next kill.
  for i in $(seq 1 200); do
    [ "$(rpc status null "$P" | jq -r .result.height)" -ge \
      "$(rpc status null "$LIVE" | jq -r .result.height)" ] && break
    sleep 0.1
  done
  sleep 2
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
echo "failover: median $((sorted[RUNS / 2])) ms over $RUNS runs (${times[*]} ms)"
E2E_FAIL=0
