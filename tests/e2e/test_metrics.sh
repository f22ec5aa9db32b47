#!/usr/bin/env bash
# GET /metrics on four real validators, scraped by a real Prometheus (one of
# the test's own, on 127.0.0.1, scraping every second). Under load every
# target is up and chaind_height rises on all four; each validator's
# exposition passes `promtool check metrics` without a remark, has every
# documented metric (HELP, TYPE and samples) and agrees with `status`; a
# refused transaction is counted by reason and by RPC result code. Then the
# primary is killed: Prometheus sees its target go down and
# chaind_view_changes_total rise on the three others, one of which reports
# chaind_is_primary 1.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
e2e_init "${1:-build}"
PROMETHEUS=${PROMETHEUS:-/usr/bin/prometheus}
PROMTOOL=${PROMTOOL:-/usr/bin/promtool}
if [ ! -x "$PROMETHEUS" ] || [ ! -x "$PROMTOOL" ]; then
  echo "FAIL: needs $PROMETHEUS and $PROMTOOL (Debian's prometheus; scripts/setup installs it)"
  exit 1
fi
pick_ports 400
NET="$E2E_TMP/net"
PROM="http://127.0.0.1:$((BASE_PORT + 400))"
start_testnet 4
check "the four validators run and serve their own ports" ours

# --- a Prometheus scraping the four validators every second
rpc_port() { echo $((BASE_PORT + 2 * $1 + 1)); }
{
  echo "global:"
  echo "  scrape_interval: 1s"
  echo "  scrape_timeout: 1s"
  echo "  evaluation_interval: 1s"
  echo "scrape_configs:"
  echo "  - job_name: chaind"
  echo "    metrics_path: /metrics"
  echo "    static_configs:"
  for i in 0 1 2 3; do
    echo "      - targets: ['127.0.0.1:$(rpc_port "$i")']"
    echo "        labels: {validator: '$i'}"
  done
} >"$E2E_TMP/prometheus.yml"
config_ok() { "$PROMTOOL" check config "$E2E_TMP/prometheus.yml" >"$E2E_TMP/promtool-config.log" 2>&1; }
check "promtool accepts the Prometheus configuration" config_ok
"$PROMETHEUS" --config.file="$E2E_TMP/prometheus.yml" --storage.tsdb.path="$E2E_TMP/prom" \
  --web.listen-address="127.0.0.1:$((BASE_PORT + 400))" >"$E2E_TMP/prometheus.log" 2>&1 &
PROM_PID=$!
E2E_PIDS+=("$PROM_PID")
prom_ready() {
  local k
  for k in $(seq 1 150); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$PROM/-/ready")" = 200 ] && return 0
    kill -0 "$PROM_PID" 2>/dev/null || break
    sleep 0.1
  done
  tail -n 5 "$E2E_TMP/prometheus.log"
  return 1
}
check "Prometheus is ready" prom_ready

# promq QUERY: the instant vector QUERY evaluates to, one "VALIDATOR VALUE" a line.
promq() {
  curl -s --max-time 5 -G "$PROM/api/v1/query" --data-urlencode "query=$1" |
    jq -r '.data.result[]? | "\(.metric.validator) \(.value[1])"'
}
# prom_value QUERY I: validator I's value in QUERY's result (empty if none).
prom_value() { promq "$1" | awk -v i="$2" '$1 == i { print $2 }'; }
# targets_up: Prometheus reports the four targets, each with health "up".
targets_up() {
  curl -s --max-time 5 "$PROM/api/v1/targets?state=active" >"$E2E_TMP/targets.json" || return 1
  [ "$(jq '[.data.activeTargets[] | select(.health == "up")] | length' \
    "$E2E_TMP/targets.json" 2>/dev/null)" = 4 ]
}
# wait_for SECONDS COMMAND...: run COMMAND every 0.5 s until it succeeds or SECONDS pass.
wait_for() {
  local secs=$1 end=$((SECONDS + $1)) k
  shift
  for k in $(seq 1 $((2 * secs + 2))); do
    "$@" && return 0
    [ "$SECONDS" -ge "$end" ] && return 1
    sleep 0.5
  done
  return 1
}

# --- transfers for 20 s through all four validators
start_load 4 $((SECONDS + 20))
LOAD_END=$((SECONDS + 20))
wait_for 12 targets_up
check "Prometheus scrapes all four targets, each up" targets_up
targets_up || jq -c '.data.activeTargets[]? | {validator: .labels.validator, health, lastError}' \
  "$E2E_TMP/targets.json"
for k in $(seq 1 25); do [ "$SECONDS" -ge "$LOAD_END" ] && break; sleep 1; done
rose=$(promq 'delta(chaind_height[15s]) > 0' | awk '{print $1}' | sort | tr '\n' ' ')
check_eq "chaind_height rose in the last 15 s on every validator (Prometheus)" "$rose" "0 1 2 3 "
stop_load
committed=$(cat "$E2E_TMP"/acked.* 2>/dev/null | wc -l)
check "the load committed transfers ($committed)" [ "$committed" -gt 0 ]

# --- a refusal on each validator: a transfer signed with a nonce already used
CHAIN_ID=$(rpc status | jq -r .result.chain_id)
for i in 0 1 2 3; do
  stale=$("$WALLET" transfer --print-only --nonce 0 --chain-id "$CHAIN_ID" \
    --key "$NET/accounts/account$i.pem" --to 0000000000000000000000000000000000000007 \
    --amount 7)
  code=$(rpc broadcast_tx_sync "{\"tx\":\"$stale\"}" "$i" | jq -r '.error.code // "none"')
  check_eq "validator $i refuses a transfer with a used nonce" "$code" -32004
done

# --- each validator's exposition, fetched by curl once nothing is in flight
check "the validators converge after the load" converge
for i in 0 1 2 3; do wait_mempool_empty "$i" || fail "validator $i: mempool does not drain"; done
declare -A REQUIRED_TYPE=(
  [chaind_height]=gauge [chaind_view]=gauge [chaind_view_changes_total]=counter
  [chaind_is_primary]=gauge [chaind_validators]=gauge [chaind_ready]=gauge
  [chaind_block_interval_seconds]=histogram [chaind_block_txs]=histogram
  [chaind_commit_latency_seconds]=histogram [chaind_mempool_txs]=gauge
  [chaind_mempool_bytes]=gauge [chaind_txs_admitted_total]=counter
  [chaind_txs_refused_total]=counter [chaind_signatures_verified_total]=counter
  [chaind_signature_cache_hits_total]=counter [chaind_peers_connected]=gauge
  [chaind_peer_messages_sent_total]=counter [chaind_peer_messages_received_total]=counter
  [chaind_peer_messages_dropped_total]=counter [chaind_peer_messages_rate_limited_total]=counter
  [chaind_peer_messages_refused_total]=counter [chaind_synced_write_seconds]=histogram
  [chaind_store_bytes]=gauge [chaind_disk_free_bytes]=gauge
  [chaind_rpc_requests_total]=counter [chaind_rpc_request_seconds]=histogram
  [process_cpu_seconds_total]=counter [process_resident_memory_bytes]=gauge
  [process_virtual_memory_bytes]=gauge [process_open_fds]=gauge [process_max_fds]=gauge
  [process_start_time_seconds]=gauge
)
# missing_metrics FILE: the names of REQUIRED_TYPE that FILE lacks: no HELP line, no
# TYPE line of the right type, or no sample (a histogram: no +Inf bucket, _sum, _count).
missing_metrics() {
  local f=$1 name out=()
  for name in $(printf '%s\n' "${!REQUIRED_TYPE[@]}" | sort); do
    if ! grep -q "^# HELP $name " "$f" || ! grep -qx "# TYPE $name ${REQUIRED_TYPE[$name]}" "$f"; then
      out+=("$name(help/type)")
    elif [ "${REQUIRED_TYPE[$name]}" = histogram ]; then
      grep -qE "^${name}_bucket\{(.*,)?le=\"\+Inf\"" "$f" && grep -qE "^${name}_sum " "$f" &&
        grep -qE "^${name}_count " "$f" || out+=("$name(samples)")
    else
      grep -qE "^$name( |\{)" "$f" || out+=("$name(sample)")
    fi
  done
  echo "${out[*]:-}"
}
# sample FILE NAME: the value of the unlabelled sample NAME in FILE.
sample() { awk -v n="$2" '$1 == n { print $2; exit }' "$1"; }
for i in 0 1 2 3; do
  f="$E2E_TMP/metrics.$i"
  got=$(curl -s --max-time 5 -o "$f" -w '%{http_code} %{content_type}' "$(rpc_url "$i")metrics")
  # (further parameters, such as a charset, may follow the version)
  check_eq "validator $i: GET /metrics answers 200 text/plain; version=0.0.4" \
    "$(sed 's/\(version=0\.0\.4\);.*/\1/' <<<"$got")" "200 text/plain; version=0.0.4"
  lint=$("$PROMTOOL" check metrics <"$f" 2>&1)
  rc=$?
  check "validator $i: promtool check metrics passes (status $rc, no remark)" \
    [ "$rc" = 0 -a -z "$lint" ]
  [ -n "$lint" ] && head -n 20 <<<"$lint"
  check_eq "validator $i: every documented metric has HELP, TYPE and samples" \
    "missing: $(missing_metrics "$f")" "missing: "
  check "validator $i: HELP and TYPE lines for chaind_height" \
    [ "$(grep -c -e '^# HELP chaind_height .' -e '^# TYPE chaind_height gauge$' "$f")" = 2 ]
  check_eq "validator $i: chaind_height is the height status reports" \
    "$(sample "$f" chaind_height)" "$(height "$i")"
  check_eq "validator $i: chaind_validators" "$(sample "$f" chaind_validators)" 4
  check "validator $i: chaind_txs_refused_total{reason=\"nonce_too_low\"} counts the refusal" \
    awk '/^chaind_txs_refused_total\{.*reason="nonce_too_low"/ && $2 >= 1 { ok = 1 } END { exit !ok }' "$f"
  check "validator $i: chaind_rpc_requests_total counts broadcast_tx_sync with code -32004" \
    awk '/^chaind_rpc_requests_total\{/ && /method="broadcast_tx_sync"/ && /code="-32004"/ && $2 >= 1 { ok = 1 }
         END { exit !ok }' "$f"
done

# --- the primary is killed: the others change view
p=$(rpc status null 1 | jq -r .result.primary)
q=$(( (p + 1) % 4 ))
survivors=""
for i in 0 1 2 3; do [ "$i" != "$p" ] && survivors="$survivors $i"; done
declare -A VC0
for i in $survivors; do VC0[$i]=$(prom_value chaind_view_changes_total "$i"); done
check "Prometheus holds chaind_view_changes_total of the others (${VC0[*]})" \
  [ -n "${VC0[$q]}" ]
kill_node "$p" KILL
echo "killed the primary, validator $p; transfers go through validator $q"
(
  end=$((SECONDS + 25))
  to=$("$WALLET" address --key "$NET/accounts/account1.pem")
  while [ "$SECONDS" -lt "$end" ] && [ ! -e "$E2E_TMP/stop-vc" ]; do
    "$WALLET" --node "$(rpc_url "$q")" transfer --key "$NET/accounts/account0.pem" --to "$to" \
      --amount 1 --wait --timeout-ms 3000 >/dev/null 2>&1 || sleep 0.2
  done
) &
E2E_PIDS+=($!)
SENDER=$!
# view_changed: every survivor's chaind_view_changes_total is above its value before the kill.
view_changed() {
  local i v
  for i in $survivors; do
    v=$(prom_value chaind_view_changes_total "$i")
    [ -n "$v" ] && [ -n "${VC0[$i]}" ] && awk -v a="$v" -v b="${VC0[$i]}" 'BEGIN { exit !(a > b) }' ||
      return 1
  done
}
t0=$SECONDS
wait_for 20 view_changed
check "chaind_view_changes_total rose on validators$survivors within 20 s (Prometheus, $((SECONDS - t0)) s)" \
  view_changed
for i in $survivors; do echo "  validator $i: ${VC0[$i]} -> $(prom_value chaind_view_changes_total "$i")"; done
target_down() { [ "$(prom_value up "$p")" = 0 ]; }
wait_for 10 target_down
check "Prometheus reports the killed primary's target down" target_down
# one_primary: exactly one survivor says chaind_is_primary 1, the one status names.
one_primary() {
  local i n=0 who="" st
  for i in $survivors; do
    [ "$(curl -s --max-time 5 "$(rpc_url "$i")metrics" | awk '$1 == "chaind_is_primary" { print $2 }')" = 1 ] &&
      n=$((n + 1)) who=$i
  done
  st=$(rpc status null "$q" | jq -r .result.primary)
  [ "$n" = 1 ] && [ "$who" = "$st" ]
}
wait_for 5 one_primary
check "exactly one survivor reports chaind_is_primary 1, the primary status names" one_primary
touch "$E2E_TMP/stop-vc"
wait "$SENDER" 2>/dev/null
for i in $survivors; do check "validator $i stops cleanly" stop_node "$i"; done
e2e_done
