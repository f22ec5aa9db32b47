#!/usr/bin/env bash
# The installed node, driven as an operator would: `cmake --install` into a
# prefix puts the programs, the systemd unit and the guide there (and none of
# the test tools); systemd-analyze accepts the unit; the installed chaind runs
# a 1-validator network, the installed wallet commits a transfer on it, the
# installed chain-audit checks what it wrote, and SIGTERM stops it with
# status 0 within the unit's TimeoutStopSec (30 s).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
e2e_init "$1"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
T0=$SECONDS

# --- the install
P="$E2E_TMP/prefix"
UNIT="$P/lib/systemd/system/chaind@.service"
rc=0
cmake --install "$BUILD" --prefix "$P" >"$E2E_TMP/install.log" 2>&1 || rc=$?
check_eq "cmake --install succeeds" "$rc" 0
[ "$rc" = 0 ] || cat "$E2E_TMP/install.log"
for b in chaind wallet chain-bench chain-audit; do
  check "bin/$b is installed and executable" [ -x "$P/bin/$b" ]
done
for b in chaind-byzantine peer-inject netproxy; do
  check "the test tool $b is not installed" [ ! -e "$P/bin/$b" ]
done
check "the unit is installed in lib/systemd/system" [ -f "$UNIT" ]
check "the guide is installed as share/doc/chaind/OPERATING.md" \
  cmp -s "$SRC/docs/OPERATING.md" "$P/share/doc/chaind/OPERATING.md"
check "the unit runs the installed chaind on /var/lib/chaind/%i" \
  grep -qxF "ExecStart=$P/bin/chaind start --home /var/lib/chaind/%i" "$UNIT"
check_eq "no @VARIABLE@ is left unconfigured in the unit" "$(grep -c '@[A-Z_]*@' "$UNIT" || true)" 0

# --- systemd-analyze verify on an instance, chaind@node0.service. It exits 0
# even on keys it could not parse ("..., ignoring"), so any line it prints
# fails the check. Nothing harmless is filtered because nothing harmless is
# printed: ExecStart= is the installed binary, which verify finds, and User=
# is looked up only when the unit starts, so the absent user chaind is no
# error here. A unit with an unknown key shows that verify does report here.
verify_clean() { # verify_clean UNITFILE: status 0 and no output
  local out rc=0
  out=$(systemd-analyze verify --man=no "$1" 2>&1) || rc=$?
  [ "$rc" = 0 ] && [ -z "$out" ] && return 0
  echo "systemd-analyze verify $1: status $rc"
  [ -z "$out" ] || printf '%s\n' "$out"
  return 1
}
if command -v systemd-analyze >/dev/null; then
  mkdir -p "$E2E_TMP/units"
  cp "$UNIT" "$E2E_TMP/units/chaind@node0.service"
  check "systemd-analyze verify accepts chaind@node0.service" \
    verify_clean "$E2E_TMP/units/chaind@node0.service"
  { cat "$UNIT"; echo "NoSuchKey=1"; } >"$E2E_TMP/units/broken@node0.service"
  out=$(systemd-analyze verify --man=no "$E2E_TMP/units/broken@node0.service" 2>&1 || true)
  check "systemd-analyze verify reports an unknown key (the check can fail)" \
    grep -q NoSuchKey <<<"$out"
else
  echo "skipped: systemd-analyze not installed"
fi

# --- the installed programs on a 1-validator network, with the home as the
# unit runs it: mode 0700, files made under UMask=0077
CHAIND="$P/bin/chaind"
WALLET="$P/bin/wallet"
NET="$E2E_TMP/net"
pick_ports || { fail "no free port range"; e2e_done; exit 1; }
"$CHAIND" testnet --validators 1 --dir "$NET" --base-port "$BASE_PORT" --accounts 2 >/dev/null
chmod 0700 "$NET/node0"
NODE="http://127.0.0.1:$((BASE_PORT + 1))"
(umask 0077 && exec "$CHAIND" start --home "$NET/node0" >>"$NET/node0/node.log" 2>&1) &
NODE_PID_0=$!
E2E_PIDS+=("$NODE_PID_0")
answers() {
  local i
  for i in $(seq 1 100); do
    "$WALLET" --node "$NODE" status >/dev/null 2>&1 && return 0
    kill -0 "$NODE_PID_0" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
check "the installed wallet gets the installed node's status" answers

TO=$("$WALLET" address --key "$NET/accounts/account1.pem")
check "the recipient is 40 hex characters" grep -qxE '[0-9a-f]{40}' <<<"$TO"
out=$("$WALLET" --node "$NODE" transfer --json --key "$NET/accounts/account0.pem" --to "$TO" \
  --amount 1 --wait --timeout-ms 10000 2>&1) || true
check_eq "the transfer commits" "$(jq -r .status <<<"$out" 2>/dev/null)" committed
HASH=$(jq -r .hash <<<"$out" 2>/dev/null || true)
check_eq "the recipient's balance counts it" \
  "$("$WALLET" --node "$NODE" balance "$TO" --json | jq -r .balance)" 1000000001

# --- stop: SIGTERM, status 0 within 30 s
stopped() { # stopped PID SECONDS: PID has exited within SECONDS
  local k
  for k in $(seq 1 $(($2 * 10))); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
  return 1
}
kill -TERM "$NODE_PID_0" 2>/dev/null || true
if stopped "$NODE_PID_0" 30; then
  pass "the node exits within 30 s of SIGTERM"
  rc=0; wait "$NODE_PID_0" || rc=$?
  check_eq "its exit status is 0" "$rc" 0
else
  fail "the node is still running 30 s after SIGTERM"
fi
check_eq "the files the node made in its home are private (UMask=0077)" \
  "$(find "$NET/node0" ! -name config.json -perm /077)" ""

echo "$HASH" >"$E2E_TMP/acked"
rc=0
"$P/bin/chain-audit" "$NET/genesis.json" --acked "$E2E_TMP/acked" "$NET/node0/data" \
  >"$E2E_TMP/audit.log" 2>&1 || rc=$?
check_eq "the installed chain-audit finds the transfer and no violation" "$rc" 0
[ "$rc" = 0 ] || cat "$E2E_TMP/audit.log"

echo "took $((SECONDS - T0)) s"
e2e_done
