#!/usr/bin/env bash
# Backup and restore: 4 validators under load from wallet clients. Validator
# 3 is backed up while it runs (no key, no vote record in the backup), then
# stopped; its home is moved away and made again with `chaind restore` from
# the backup, with the key and vote record moved from the old home. The
# restored validator starts at the backup's height and catches up from its
# peers; afterwards the four converge, a transfer commits and chain-audit
# checks their data directories. On the way, restores that could make the
# validator sign twice, or that would write over a home, are refused and
# leave nothing behind.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
e2e_init "${1:-build}"
NET="$E2E_TMP/net"
CLIENTS=4
BACKUP="$E2E_TMP/backup"       # taken while node 3 runs, without the key
EARLY="$E2E_TMP/backup-early"  # with the key, while it runs, before BACKUP
LATE="$E2E_TMP/backup-late"    # with the key, once it has stopped
OLD="$E2E_TMP/node3-old"       # node 3's home, moved away
FRESH="$E2E_TMP/fresh"         # where refused restores would have written
OUT="$E2E_TMP/restore.out"
# the backups' secondary instances keep their files here, to be checked gone
export TMPDIR="$E2E_TMP/tmp"
mkdir -p "$TMPDIR"

# json_true FILE FILTER: jq's FILTER is true of FILE.
json_true() { jq -e "$2" "$1" >/dev/null; }

# all_files PATH...: every PATH is a regular file.
all_files() {
  local f
  for f in "$@"; do [ -f "$f" ] || return 1; done
}

# restore_refused WHAT PATTERN ARGS...: chaind restore ARGS exits 1, saying PATTERN on stderr.
restore_refused() {
  local what=$1 pattern=$2 rc=0
  shift 2
  "$CHAIND" restore "$@" >"$OUT" 2>&1 || rc=$?
  if [ "$rc" = 1 ] && grep -q "$pattern" "$OUT"; then
    pass "$what"
  else
    fail "$what: status $rc, $(tail -n 2 "$OUT")"
  fi
}

start_testnet "$CLIENTS"
start_load "$CLIENTS"
check "the chain moves under load" wait_height 3 5 30

check "a backup with the key of the running validator" \
  "$CHAIND" backup --home "$NET/node3" --out "$EARLY" --with-key
h=$(height 3)
check "the chain moves on" wait_height 3 $((h + 5)) 30
if "$CHAIND" backup --home "$NET/node3" --out "$BACKUP" >"$OUT" 2>&1; then
  pass "a backup of the running validator"
else
  fail "a backup of the running validator: $(cat "$OUT")"
fi
cat "$OUT"
check "backup.json says it was taken running, without the key" json_true "$BACKUP/backup.json" \
  '.with_key == false and .source_running == true and .moniker == "node3"'
backup_height=$(jq -r .tip_height "$BACKUP/backup.json")
check "the backup holds blocks (height $backup_height)" [ "$backup_height" -ge 5 ]
check "the backup holds config.json, genesis.json and data/" \
  all_files "$BACKUP/config.json" "$BACKUP/genesis.json" "$BACKUP/data/CURRENT"
check_eq "the backup holds no validator key and no vote record" \
  "$(find "$BACKUP" -name validator.pem -o -name 'votes-*')" ""
check_eq "the backups leave no temporary files" "$(ls -A "$TMPDIR")" ""

check "the chain moves on after the backup" wait_height 3 $((backup_height + 5)) 30
check "node 3 stops cleanly" stop_node 3
check "a backup with the key of the stopped validator" \
  "$CHAIND" backup --home "$NET/node3" --out "$LATE" --with-key
check_eq "its key has mode 600" "$(stat -c %a "$LATE/validator.pem")" 600
check "it holds the vote record" all_files "$LATE/votes-a" "$LATE/votes-b"
late_votes=$(jq -r .votes_height "$LATE/backup.json")
mv "$NET/node3" "$OLD"

restore_refused "a key without its vote record is refused" "vote record" \
  --from "$BACKUP" --home "$FRESH" --key "$OLD/validator.pem"
check "and leaves nothing behind" [ ! -e "$FRESH" ]
restore_refused "a vote record older than the backup's own is refused" "older than" \
  --from "$LATE" --home "$FRESH" --key "$OLD/validator.pem" --votes "$EARLY"
check "and leaves nothing behind" [ ! -e "$FRESH" ]
restore_refused "another validator's key is refused" "not the key of the validator" \
  --from "$BACKUP" --home "$FRESH" --key "$NET/node2/validator.pem" --votes "$OLD"
before=$(sha256sum "$NET/node0/config.json")
restore_refused "a restore onto a validator's home is refused" "already holds" \
  --from "$BACKUP" --home "$NET/node0"
check_eq "and leaves its config.json alone" "$(sha256sum "$NET/node0/config.json")" "$before"
mkdir -p "$FRESH/data"
restore_refused "a restore onto a home with a data directory is refused" "a data directory" \
  --from "$BACKUP" --home "$FRESH"
check_eq "and writes nothing there" "$(ls -A "$FRESH"):$(ls -A "$FRESH/data")" "data:"
rm -rf "$FRESH"

if "$CHAIND" restore --from "$BACKUP" --home "$NET/node3" --key "$OLD/validator.pem" \
    --votes "$OLD" >"$OUT" 2>&1; then
  pass "node 3's home restored from the backup, with its key and vote record"
else
  fail "restore: $(cat "$OUT")"
fi
cat "$OUT"
# the key and the vote record are moved, not copied: the old home must never start again
rm -f "$OLD/validator.pem" "$OLD"/votes-*
check_eq "the restored key has mode 600" "$(stat -c %a "$NET/node3/validator.pem")" 600
check "the restored config.json points inside the home" json_true "$NET/node3/config.json" \
  '.genesis_file == "genesis.json" and .key_file == "validator.pem" and .data_dir == "data"'
check "the restored vote record is the old home's (last vote at height $late_votes)" \
  grep -q "vote record of $OLD (last vote at height $late_votes," "$OUT"

top=$(height 0)
start_node 3
wait_ready 3
check "the restored validator starts at the backup's height" \
  grep -q "of chain .* at height $backup_height " "$NET/node3/node.log"
check "it catches up with the others (height $top)" wait_height 3 "$top" 30
restore_refused "the vote record of a running validator is refused" "is running" \
  --from "$BACKUP" --home "$FRESH" --key "$NET/node3/validator.pem" --votes "$NET/node3"
check "and leaves nothing behind" [ ! -e "$FRESH" ]
h=$(height 3)
check "the restored validator follows the chain under load" wait_height 3 $((h + 5)) 30
stop_load
acked=$(cat "$E2E_TMP"/acked.* 2>/dev/null | wc -l)
check "transfers committed under load: $acked" [ "$acked" -ge 10 ]

end_soak "the restore"
row "a validator backed up running under load, its home restored (key, votes moved)" 1 \
  "restored at height $backup_height, caught up; $acked transfers acknowledged"
record_rows
e2e_done
