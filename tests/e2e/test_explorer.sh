#!/usr/bin/env bash
# The block explorer (node/explorer/index.html, served at GET / by every
# validator) in headless Chromium against four real validators: the page
# shows the latest block JSON-RPC returns, a transfer's block within 2 s of
# its commit (GET /events), the transfer found by its hash with its Merkle
# proof verified in the browser, and it keeps updating with validator 1
# killed (shown disconnected); it says so when validator 0, which serves it,
# is killed, and once that is back it recovers by itself, the block stream
# resuming with the block the others committed meanwhile. The browser side is
# tests/js/explorer.mjs (puppeteer-core, tests/js/node_modules); screenshots
# go to $BUILD/screenshots/explorer-*.png, and with SAVE_DOCS_SCREENSHOT=1
# the view of a transaction with a proof of several steps also to
# docs/explorer.png.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
e2e_init "${1:-build}"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
JS="$ROOT/tests/js"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
for need in node "$CHROMIUM"; do
  command -v "$need" >/dev/null || { echo "test_explorer: $need is not installed"; exit 1; }
done
[ -d "$JS/node_modules/puppeteer-core" ] ||
  { echo "test_explorer: run npm ci in tests/js first (puppeteer-core)"; exit 1; }

start_testnet 10
NET="$E2E_TMP/net"
NODE=$(rpc_url 0)
W() { "$WALLET" --node "$NODE" "$@"; }
A2=$(W address --key "$NET/accounts/account2.pem" --json | jq -r .address)

# --- the page itself, as chaind serves it
ctype=$(curl -s --max-time 10 -o "$E2E_TMP/index.html" -w '%{content_type}' "$NODE")
check "GET / answers text/html ($ctype)" grep -q '^text/html' <<<"$ctype"
check "GET / serves node/explorer/index.html as it is in the source" \
  cmp -s "$E2E_TMP/index.html" "$ROOT/node/explorer/index.html"
rpc_ct=$(curl -s --max-time 10 -o /dev/null -w '%{content_type}' \
  -d '{"jsonrpc":"2.0","id":1,"method":"health"}' "$NODE")
check "POST / is still JSON-RPC ($rpc_ct)" grep -q '^application/json' <<<"$rpc_ct"

# --- a few blocks for the table and the chart: transfers account1 -> account2
for i in $(seq 1 12); do
  W transfer --key "$NET/accounts/account1.pem" --to "$A2" --amount "$i" >/dev/null
  sleep 0.25
done
# and blocks of several transactions (Merkle paths longer than one step):
# accounts 3..9 send at once, until a block holds 3 or more
burst() {
  local k pids=()
  for k in 3 4 5 6 7 8 9; do
    W transfer --key "$NET/accounts/account$k.pem" --to "$A2" --amount 1 >/dev/null &
    pids+=($!)
  done
  wait "${pids[@]}" || true
  wait_mempool_empty 0 || true
}
fullest() { rpc blockchain | jq '[.result.blocks[].header.tx_count] | max'; }
for round in 1 2 3 4 5; do
  burst
  [ "$(fullest)" -ge 3 ] && break
done
check "the recipient sets a value" \
  W set --key "$NET/accounts/account2.pem" greeting "hello, chain" --wait >/dev/null
check "the first transfers commit" wait_mempool_empty 0
check "a block holds 3 or more transactions ($(fullest))" [ "$(fullest)" -ge 3 ]

# --- the browser; it asks for validators to be killed and started through $CTL
CTL="$E2E_TMP/explorer-ctl"
OUT="$E2E_TMP/explorer.out"
mkdir -p "$CTL" "$BUILD/screenshots"
rm -f "$BUILD"/screenshots/explorer-*.png
: >"$OUT"
node "$JS/explorer.mjs" --url "$NODE" --other-url "$(rpc_url 2)" --wallet "$WALLET" \
  --key "$NET/accounts/account0.pem" --to "$A2" --shots "$BUILD/screenshots" --ctl "$CTL" --out "$OUT" \
  --profile "$E2E_TMP/chromium-profile" --chromium "$CHROMIUM" --time-limit 300 &
DRIVER=$!
E2E_PIDS+=("$DRIVER")

# control N: carry out the driver's request N, answer in $CTL/done-N.
control() {
  local cmd answer=ok
  cmd=$(cat "$CTL/req-$1")
  case "$cmd" in
    "kill 0" | "kill 1") kill_node "${cmd#kill }" KILL ;;
    "start 0") start_node 0; wait_ready 0 || answer="node 0 did not answer health in 30 s" ;;
    "start 1") # back and caught up with validator 0
      start_node 1
      { wait_ready 1 && wait_height 1 "$(height 0)" 30; } || answer="node 1 did not catch up in 30 s" ;;
    *) answer="unknown request: $cmd" ;;
  esac
  echo "$answer" >"$CTL/done-$1.tmp"
  mv "$CTL/done-$1.tmp" "$CTL/done-$1"
}

n=1
deadline=$((SECONDS + 330))
while kill -0 "$DRIVER" 2>/dev/null; do
  if [ -e "$CTL/req-$n" ]; then
    control "$n"
    n=$((n + 1))
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "test_explorer: the browser driver is still running after 330 s; stopping it"
    kill -TERM "$DRIVER" 2>/dev/null || true
    sleep 5
    kill -KILL "$DRIVER" 2>/dev/null || true
    break
  fi
  sleep 0.1
done
rc=0
wait "$DRIVER" || rc=$?
# the browser the driver started, if it was left behind (its own process group)
bpid=$(cat "$CTL/browser.pid" 2>/dev/null || true)
if [ -n "$bpid" ] && kill -0 "$bpid" 2>/dev/null; then kill -KILL -- "-$bpid" 2>/dev/null || true; fi

# the driver's checks count as this test's checks
E2E_PASS=$((E2E_PASS + $(grep -c '^ok ' "$OUT" || true)))
E2E_FAIL=$((E2E_FAIL + $(grep -c '^FAIL ' "$OUT" || true)))
check_eq "the browser driver exits 0" "$rc" 0
check "the browser driver ran its checks to the end" grep -q '^ok .*no uncaught JavaScript errors' "$OUT"

if [ "${SAVE_DOCS_SCREENSHOT:-}" = 1 ] && [ "$E2E_FAIL" -eq 0 ] &&
   [ -s "$BUILD/screenshots/explorer-tx-path.png" ]; then
  cp "$BUILD/screenshots/explorer-tx-path.png" "$ROOT/docs/explorer.png"
  echo "saved docs/explorer.png"
fi

e2e_done
