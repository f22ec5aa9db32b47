#!/usr/bin/env bash
# A real file system that fills up, then turns read-only, under a validator.
# Validator 1's data directory is on a tmpfs of its own (mounted by this
# test, so it needs root). Filling the file system must pause validator 1
# (min_free_disk_mb, checked every second): it stays up, /readyz fails its
# disk check, it refuses transactions and logs why, while the others go on;
# once space is freed it resumes by itself and catches up. Started on a full
# disk it refuses to start and never serves; once space is freed it starts.
# Remounted read-only, it refuses to start with a message; remounted
# read-write, it resumes. At the end chain-audit checks all four directories.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
e2e_init "${1:-build}"
if [ "$(id -u)" != 0 ]; then
  echo "SKIP: mounting a tmpfs needs root"
  exit 0
fi
NET="$E2E_TMP/net"
ACKED="$E2E_TMP/acked"
MNT="$E2E_TMP/disk1"
: >"$ACKED"
"$CHAIND" testnet --validators 4 --dir "$NET" --base-port "$BASE_PORT" --accounts 4 >/dev/null
mkdir -p "$MNT"
check "a 256 MiB tmpfs for validator 1's data" mount -t tmpfs -o size=256m tmpfs "$MNT"
E2E_MOUNTS+=("$MNT")
jq --arg d "$MNT/data" '.data_dir = $d' "$NET/node1/config.json" >"$E2E_TMP/c" &&
  mv "$E2E_TMP/c" "$NET/node1/config.json"
for i in 0 1 2 3; do start_node "$i"; done
for i in 0 1 2 3; do wait_ready "$i"; done
TO=$("$WALLET" address --key "$NET/accounts/account0.pem")
# send I V: a transfer from account I through validator V, recorded when acknowledged.
send() {
  local out
  out=$("$WALLET" --node "$(rpc_url "$2")" transfer --json --key "$NET/accounts/account$1.pem" \
    --to "$TO" --amount 1 --wait --timeout-ms 30000 2>/dev/null) || return 1
  jq -r .hash <<<"$out" >>"$ACKED"
}
check "a transfer commits through validator 1" send 1 1

# refuses WHY: validator 1 must exit 1 within 10 s, saying WHY, never serving.
refuses() {
  refuses_start 1 "$1" || return 1
  grep -h "ERROR" "$E2E_TMP/refuse.log" | tail -n 1
}

# failing I CHECK: node I answers /readyz 503 and names CHECK among the failing ones.
failing() {
  local code
  code=$(curl -s -o "$E2E_TMP/readyz" -w '%{http_code}' --max-time 5 "$(rpc_url "$1")readyz")
  [ "$code" = 503 ] && jq -e --arg c "$2" '.failing | index($c) != null' "$E2E_TMP/readyz" >/dev/null
}
ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$(rpc_url "$1")readyz")" = 200 ]; }
# within SECONDS COMMAND...: COMMAND succeeds within SECONDS (tried every 0.2 s).
within() {
  local n=$(( $1 * 5 )) k; shift
  for k in $(seq 1 "$n"); do "$@" && return 0; sleep 0.2; done
  return 1
}

# --- the disk fills up while it runs (another program's file takes every free block)
dd if=/dev/zero of="$MNT/filler" bs=1M status=none 2>/dev/null
check "the file system is full" [ "$(df --output=avail -k "$MNT" | tail -n 1)" -lt 1024 ]
check "validator 1 pauses, saying why in its log" \
  within 10 grep -q 'pausing: the disk holding' "$NET/node1/node.log"
check "its /readyz fails the disk check" failing 1 disk
check "it stays up, answering" kill -0 "$NODE_PID_1"
grep -h 'pausing' "$NET/node1/node.log" | tail -n 1
refused() { ! send "$@"; }
check "it refuses a transfer while paused" refused 1 1
check "a transfer commits without validator 1" send 2 0
rm -f "$MNT/filler"
check "space freed, validator 1 resumes by itself" within 20 ready 1
check "and catches up" wait_height 1 "$(height 0)" 60
check "a transfer commits through validator 1 again" send 3 1
row "the file system of a validator's data directory fills up" 1 \
  "paused (not ready, refusing transactions) while full; resumed by itself and caught up once space was freed"

# --- full when it starts
check "validator 1 stops cleanly" stop_node 1
dd if=/dev/zero of="$MNT/filler" bs=1M status=none 2>/dev/null
check "with the disk full, validator 1 refuses to start" refuses 'is full'
rm -f "$MNT/filler"
start_node 1
wait_ready 1
check "space freed, validator 1 starts and catches up" wait_height 1 "$(height 0)" 60
row "a validator starts on a full disk" 1 "refused to start with a message; started and caught up once space was freed"

# --- the file system turns read-only
check "validator 1 stops cleanly" stop_node 1
check "the file system is remounted read-only" mount -o remount,ro "$MNT"
check "read-only, validator 1 refuses to start" refuses 'Read-only file system'
check "send while it is down" send 2 0
check "the file system is remounted read-write" mount -o remount,rw "$MNT"
start_node 1
wait_ready 1
check "read-write again, validator 1 resumes and catches up" wait_height 1 "$(height 0)" 60
row "a validator's data directory on a file system remounted read-only" 1 \
  "refused to start with a message; resumed and caught up once read-write"

# --- the chain goes on; all converge; a clean stop; the audit
check "a transfer commits after the faults" send 1 1
h=$(height 0)
for i in 0 1 2 3; do check "validator $i reaches height $h" wait_height "$i" "$h" 60; done
for i in 0 1 2 3; do check "node $i stops cleanly" stop_node "$i"; done
audit "$NET/genesis.json" "$ACKED" "$NET"/node{0,2,3}/data "$MNT/data"
record_rows
e2e_done
