#!/usr/bin/env bash
# The consensus comparison of docs/CONSENSUS.md, measured: for each engine
# (pbft, raft, multipaxos) and each network size, on this machine:
#   - max committed tx/s: chain-bench --rate max for MAX_S seconds;
#   - light load over links with a fixed one-way delay of DELAY_MS (every
#     validator reaches every other through build/netproxy): the closed-loop
#     p50 of one client sending to validator 0, in milliseconds and in round
#     trips (2 * DELAY_MS), and the consensus messages sent per committed
#     block (chaind_consensus_messages_sent_total over all validators);
#   - the time to resume after the leader (primary) is killed with SIGKILL:
#     from the kill until a transfer sent to another validator commits, the
#     median of KILLS kills.
# Prints a Markdown table; the runs' reports stay in OUT/.
# Usage: bench/consensus.sh [BUILD_DIR] [OUT]   (defaults: build, bench-consensus)
# Environment: ENGINES ("pbft raft multipaxos"), SIZES ("4 7"), MAX_S (20),
# LAT_S (15), DELAY_MS (10), KILLS (3).
set -uo pipefail
source "$(dirname "$0")/../tests/e2e/lib.sh"
e2e_init "${1:-build}"
OUT=$(mkdir -p "${2:-bench-consensus}" && cd "${2:-bench-consensus}" && pwd)
ENGINES=${ENGINES:-pbft raft multipaxos}
SIZES=${SIZES:-4 7}
MAX_S=${MAX_S:-20}
LAT_S=${LAT_S:-15}
DELAY_MS=${DELAY_MS:-10}
KILLS=${KILLS:-3}
BENCH="$BUILD/chain-bench"
NET="$E2E_TMP/net"
RULES="$E2E_TMP/rules"
PBASE=$((BASE_PORT + 40))
ms() { date +%s%3N; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
sent_total() { # the consensus messages all validators sent so far
  local i s=0 v
  for i in $(vals); do
    v=$(rpc net_info null "$i" | jq -r '.result.consensus_messages_sent // 0')
    s=$((s + v))
  done
  echo "$s"
}
leader() { # the validator that leads (or is primary), as validator 0 sees it
  rpc status null "${1:-0}" | jq -r '.result.primary // empty'
}
# send_to I: one transfer through validator I, waiting for its commit.
send_to() {
  "$WALLET" --node "$(rpc_url "$1")" transfer --json --key "$NET/accounts/account$1.pem" \
    --to "$TO" --amount 1 --wait --timeout-ms 60000 2>/dev/null | jq -e '.status == "committed"' >/dev/null
}

rows=()
for engine in $ENGINES; do
  for n in $SIZES; do
    NVAL=$n
    E2E_ENGINE=$engine
    tag="$engine-$n"
    echo "consensus: $tag: max rate" >&2
    "$BENCH" --validators "$n" --duration "$MAX_S" --rate max --clients 8 --batch 250 \
      --base-port $((BASE_PORT + 200)) --testnet-args "--engine $engine" --out "$OUT/$tag-max" \
      >"$OUT/$tag-max.out" 2>"$OUT/$tag-max.err" || echo "consensus: $tag max run failed" >&2
    max_tps=$(jq -r '.committed_tps // 0 | floor' "$OUT/$tag-max/report.json" 2>/dev/null || echo 0)
    limit=$(jq -r '.verify_limit_tps // 0 | floor' "$OUT/$tag-max/report.json" 2>/dev/null || echo 0)

    echo "consensus: $tag: light load over ${DELAY_MS} ms links" >&2
    rm -rf "$NET"
    make_testnet 4
    proxy_links "$NET" "$PBASE"
    printf '* drop 0 delay %s %s\n' "$DELAY_MS" "$DELAY_MS" >"$RULES"
    "$BUILD/netproxy" "$RULES" "$E2E_TMP/stats" "${PROXY_LINKS[@]}" 2>"$E2E_TMP/netproxy.log" &
    proxy=$!
    E2E_PIDS+=($proxy)
    for i in $(vals); do start_node "$i"; done
    for i in $(vals); do wait_ready "$i"; done
    TO=$("$WALLET" address --key "$NET/accounts/account0.pem")
    send_to 0 # a leader is in place and the links are up
    h0=$(height 0); s0=$(sent_total)
    "$BENCH" --attach "$NET" --rate closed --clients 1 --duration "$LAT_S" --out "$OUT/$tag-closed" \
      >"$OUT/$tag-closed.out" 2>"$OUT/$tag-closed.err" || echo "consensus: $tag closed run failed" >&2
    sleep 1
    h1=$(height 0); s1=$(sent_total)
    p50=$(jq -r '.latency_ms.p50 // 0' "$OUT/$tag-closed/report.json" 2>/dev/null || echo 0)
    at=$(leader 0)
    where=$([ "$at" = 0 ] && echo "at the leader" || echo "at a follower")
    per_block=$(awk -v s=$((s1 - s0)) -v h=$((h1 - h0)) 'BEGIN { printf "%.1f", (h > 0 ? s / h : 0) }')
    rtts=$(awk -v p="$p50" -v d="$DELAY_MS" 'BEGIN { printf "%.1f", p / (2 * d) }')
    p50=$(awk -v p="$p50" 'BEGIN { printf "%.1f", p }')

    echo "consensus: $tag: kill the leader $KILLS times" >&2
    printf '' >"$RULES"
    sleep 0.5
    times=()
    for k in $(seq 1 "$KILLS"); do
      l=$(leader 0)
      [ -n "$l" ] || l=$(leader 1)
      q=$(( (l + 1) % n ))
      kill_node "$l" KILL
      t0=$(ms)
      send_to "$q" && times+=($(( $(ms) - t0 )))
      start_node "$l"
      wait_ready "$l"
      converge
    done
    resume=$(printf '%s\n' "${times[@]:-0}" | median)
    for i in $(vals); do stop_node "$i" || true; done
    kill "$proxy" 2>/dev/null; wait "$proxy" 2>/dev/null
    rows+=("| $engine | $n | $per_block | $p50 ms = $rtts RTT ($where) | $max_tps (verify limit $limit) | $resume ms |")
  done
done
printf '| engine | n | consensus messages per block (light load) | closed-loop p50 over %s ms links | max committed tx/s | time to resume after SIGKILL of the leader (median of %s) |\n' \
  "$DELAY_MS" "$KILLS"
printf '|---|---|---|---|---|---|\n'
printf '%s\n' "${rows[@]}"
