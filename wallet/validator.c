/*
 * validator add, remove, rekey and pending, and validators: changes of the
 * validator set (chain/valset.h) and what the node says of the sets.
 *
 * A change is a transaction of type validator signed with a validator's own
 * key (--key: validator.pem in its home). Each signature is one approval;
 * once approvals of a quorum of the set in force are committed, the change
 * rules from two blocks after the block that completed the quorum. Before it
 * signs, the wallet asks the node whether the key is a member of the set in
 * force and whether it approved this change already, so that it does not
 * send a transaction the chain could only refuse; the node still decides.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/tx.h"
#include "chain/valset.h"
#include "rpc/jsonrpc.h"
#include "wallet/wallet.h"

static const cJSON *
item(const cJSON *o, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(o, name);
}

static const char *
text(const cJSON *o, const char *name)
{
	const cJSON *v = item(o, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool
id_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("._:/-", c) != NULL;
}

/* ---- what the user typed ---- */

static int
parse_id(struct wallet_ctx *w, struct chain_tx *tx)
{
	const char *id = w->val[WOPT_ID];
	size_t n = strlen(id);
	if (n < 1 || n > CHAIN_MAX_VAL_ID || !chain_name_valid(id, n))
		return wallet_errf(w, "--id must be 1..%d characters of [A-Za-z0-9._:/-], got \"%.80s\"",
				   CHAIN_MAX_VAL_ID, id);
	memcpy(tx->name, id, n + 1);
	return WALLET_OK;
}

static int
parse_pub(struct wallet_ctx *w, uint8_t out[CR_PUBKEY_LEN])
{
	const char *s = w->val[WOPT_PUB_KEY];
	const char *h = s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? s + 2 : s;
	size_t n = strlen(h);
	struct cr_pubkey *pk = NULL;
	if (strspn(h, "0123456789abcdefABCDEF") != n)
		return wallet_errf(w, "--pub-key must be hex (digits 0-9 and a-f), got \"%.80s\"", s);
	if (n != 2 * CR_PUBKEY_LEN)
		return wallet_errf(w, "--pub-key must be a compressed P-256 public key: %d hex "
				      "characters (%d bytes), got %zu characters",
				   2 * CR_PUBKEY_LEN, CR_PUBKEY_LEN, n);
	if (cr_hex_decode_exact(h, out, CR_PUBKEY_LEN) != 0)
		return wallet_errf(w, "--pub-key is not hex: \"%.80s\"", s);
	if (out[0] != 2 && out[0] != 3)
		return wallet_errf(w, "--pub-key must be a compressed key, starting with 02 or 03 "
				      "(got %02x...)",
				   out[0]);
	if (cr_pubkey_parse(&pk, out, NULL) != 0)
		return wallet_errf(w, "--pub-key is not a point of the P-256 curve");
	cr_pubkey_free(pk);
	return WALLET_OK;
}

/* parse_p2p takes --p2p: tcp://HOST:PORT in the characters the chain allows. */
static int
parse_p2p(struct wallet_ctx *w, struct chain_tx *tx)
{
	const char *a = w->val[WOPT_P2P];
	size_t n = strlen(a), i;
	const char *colon = strrchr(a, ':');
	uint64_t port = 0;
	for (i = 0; i < n && id_char(a[i]);)
		i++;
	bool ok = n <= CHAIN_MAX_VAL_ADDR && i == n && strncmp(a, "tcp://", 6) == 0 &&
		  colon != NULL && colon > a + 6 && colon[1] != '\0';
	for (const char *p = ok ? colon + 1 : ""; ok && *p != '\0'; p++) {
		ok = *p >= '0' && *p <= '9';
		port = port * 10 + (uint64_t)(*p - '0');
		ok = ok && port <= 65535;
	}
	if (!ok || port == 0)
		return wallet_errf(w, "--p2p must be tcp://HOST:PORT (at most %d characters of "
				      "[A-Za-z0-9._:/-], port 1..65535), got \"%.80s\"",
				   CHAIN_MAX_VAL_ADDR, a);
	memcpy(tx->value, a, n + 1);
	tx->value_len = (uint16_t)n;
	return WALLET_OK;
}

/* check_fields applies the chain's stateless rules to the change before the node is asked. */
static int
check_fields(struct wallet_ctx *w, const struct chain_tx *tx)
{
	struct chain_tx probe = *tx;
	struct ch_err e;
	ch_err_clear(&e);
	snprintf(probe.chain_id, sizeof(probe.chain_id), "%s",
		 w->val[WOPT_CHAIN_ID] != NULL ? w->val[WOPT_CHAIN_ID] : "probe");
	if (chain_tx_check_fields(&probe, &e) != 0) {
		const char *m = ch_err_msg(&e);
		return wallet_errf(w, "the change breaks a rule: %s",
				   strncmp(m, "tx: ", 4) == 0 ? m + 4 : m);
	}
	return WALLET_OK;
}

/* ---- what the node says ---- */

/* same_change: is ch (an entry of validator_changes) the change tx makes? */
static bool
same_change(const cJSON *ch, const struct chain_tx *tx)
{
	char pub[2 * CR_PUBKEY_LEN + 1];
	const char *op = text(ch, "op"), *id = text(ch, "id"), *pk = text(ch, "pub_key");
	const char *p2p = text(ch, "p2p_address");
	cr_hex_encode(tx->val_pub, CR_PUBKEY_LEN, pub);
	if (op == NULL || id == NULL || strcmp(op, chain_val_op_name(tx->val_op)) != 0 ||
	    strcmp(id, tx->name) != 0)
		return false;
	if (tx->val_op != CHAIN_VAL_REMOVE && (pk == NULL || strcmp(pk, pub) != 0))
		return false;
	return tx->val_op != CHAIN_VAL_ADD ||
	       (p2p != NULL && strcmp(p2p, (const char *)tx->value) == 0);
}

/* find_change: the entry of changes (validator_changes' answer) that is tx's, or NULL. */
static const cJSON *
find_change(const cJSON *changes, const struct chain_tx *tx)
{
	const cJSON *ch;
	cJSON_ArrayForEach(ch, item(changes, "changes"))
	{
		if (same_change(ch, tx))
			return ch;
	}
	return NULL;
}

/* has_id: does the array of ids (strings), or of members ({id}), hold id? */
static bool
has_id(const cJSON *arr, const char *id)
{
	const cJSON *v;
	cJSON_ArrayForEach(v, arr)
	{
		const char *s = cJSON_IsString(v) ? v->valuestring : text(v, "id");
		if (s != NULL && strcmp(s, id) == 0)
			return true;
	}
	return false;
}

/* list_ids writes the ids of arr (as has_id) to out, comma-separated. */
static void
list_ids(const cJSON *arr, char *out, size_t cap)
{
	const cJSON *v;
	size_t len = 0;
	out[0] = '\0';
	cJSON_ArrayForEach(v, arr)
	{
		const char *s = cJSON_IsString(v) ? v->valuestring : text(v, "id");
		if (s != NULL && len < cap)
			len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? ", " : "", s);
	}
}

/* latest_ids: the ids of the latest scheduled set: the last of scheduled, else those of vals. */
static const cJSON *
latest_ids(const cJSON *vals, const cJSON *changes)
{
	const cJSON *sched = item(changes, "scheduled");
	int n = cJSON_IsArray(sched) ? cJSON_GetArraySize(sched) : 0;
	if (n > 0)
		return item(cJSON_GetArrayItem(sched, n - 1), "validators");
	return item(vals, "validators");
}

/*
 * check_signer (before signing): the chain must follow set changes (pbft),
 * the signer must be a member of the set in force, must not have approved
 * this change already, and the change must fit the latest scheduled set.
 */
static int
check_signer(struct wallet_ctx *w, const struct chain_tx *tx, const uint8_t signer[CR_PUBKEY_LEN])
{
	char pub[2 * CR_PUBKEY_LEN + 1], ids[512];
	cJSON *vals = NULL, *changes = NULL;
	const cJSON *v, *me = NULL, *ch;
	uint64_t height = 0, slot = 0;
	int rc = WALLET_FAIL;
	cr_hex_encode(signer, CR_PUBKEY_LEN, pub);
	if (wallet_call(w, "status", NULL, WALLET_RPC_TIMEOUT_MS, &vals) != 0)
		goto out;
	const char *engine = text(vals, "engine");
	if (engine != NULL && strcmp(engine, "pbft") != 0) {
		wallet_errf(w, "this chain runs %s: validator-set changes need the pbft engine, and "
			       "its validators are fixed by its genesis",
			    engine);
		goto out;
	}
	cJSON_Delete(vals);
	vals = NULL;
	if (wallet_call(w, "validators", NULL, WALLET_RPC_TIMEOUT_MS, &vals) != 0 ||
	    wallet_call(w, "validator_changes", NULL, WALLET_RPC_TIMEOUT_MS, &changes) != 0)
		goto out;
	(void)wallet_json_u64(vals, "height", &height);
	cJSON_ArrayForEach(v, item(vals, "validators"))
	{
		const char *p = text(v, "pub_key");
		if (p != NULL && strcmp(p, pub) == 0)
			me = v;
	}
	list_ids(item(vals, "validators"), ids, sizeof(ids));
	if (me == NULL || !wallet_json_u64(me, "slot", &slot)) {
		wallet_errf(w, "the key in %s is not a validator of the set in force at height %" PRIu64
			       " (%s): only their approvals count",
			    w->val[WOPT_KEY], height, ids);
		goto out;
	}
	const cJSON *latest = latest_ids(vals, changes);
	list_ids(latest, ids, sizeof(ids));
	if (tx->val_op == CHAIN_VAL_ADD && has_id(latest, tx->name)) {
		wallet_errf(w, "validator %s is in the set already (%s)", tx->name, ids);
		goto out;
	}
	if (tx->val_op != CHAIN_VAL_ADD && !has_id(latest, tx->name)) {
		wallet_errf(w, "no validator %s in the set (%s)", tx->name, ids);
		goto out;
	}
	if ((ch = find_change(changes, tx)) != NULL) {
		const cJSON *s;
		uint64_t quorum = 0;
		int n = cJSON_GetArraySize(item(ch, "approvals"));
		(void)wallet_json_u64(ch, "quorum", &quorum);
		cJSON_ArrayForEach(s, item(ch, "approvals"))
		{
			if (cJSON_IsNumber(s) && (uint64_t)s->valuedouble == slot) {
				wallet_errf(w, "validator %s already approved this change (%d of %" PRIu64
					       " approvals; see wallet validator pending)",
					    text(me, "id") != NULL ? text(me, "id") : "?", n, quorum);
				goto out;
			}
		}
	}
	rc = WALLET_OK;
out:
	cJSON_Delete(changes);
	cJSON_Delete(vals);
	return rc;
}

/* in_set_at: does the set at height show tx's change as done? -1 if the node does not say. */
static int
in_set_at(struct wallet_ctx *w, const struct chain_tx *tx, uint64_t height)
{
	cJSON *p = cJSON_CreateObject(), *r = NULL;
	const cJSON *v, *m = NULL;
	char pub[2 * CR_PUBKEY_LEN + 1];
	if (p == NULL || !cJSON_AddItemToObject(p, "height", rpc_json_u64(height))) {
		cJSON_Delete(p);
		return -1;
	}
	if (wallet_call(w, "validators", p, WALLET_RPC_TIMEOUT_MS, &r) != 0)
		return -1;
	cJSON_ArrayForEach(v, item(r, "validators"))
	{
		const char *id = text(v, "id");
		if (id != NULL && strcmp(id, tx->name) == 0)
			m = v;
	}
	cr_hex_encode(tx->val_pub, CR_PUBKEY_LEN, pub);
	const char *pk = m != NULL ? text(m, "pub_key") : NULL;
	int done = tx->val_op == CHAIN_VAL_REMOVE ? m == NULL : pk != NULL && strcmp(pk, pub) == 0;
	cJSON_Delete(r);
	return done;
}

/*
 * report (after a commit, --wait): the change's approvals so far, or the
 * height it rules from once the quorum is complete. Best effort: what the
 * node does not answer is left out, the transaction being committed.
 */
static void
report(struct wallet_ctx *w, const struct chain_tx *tx, cJSON *answer)
{
	uint64_t height;
	cJSON *changes = NULL;
	const char *status = text(answer, "status");
	if (status == NULL || strcmp(status, "committed") != 0 ||
	    !wallet_json_u64(answer, "height", &height))
		return;
	if (wallet_call(w, "validator_changes", NULL, WALLET_RPC_TIMEOUT_MS, &changes) == 0) {
		const cJSON *ch = find_change(changes, tx);
		uint64_t quorum = 0;
		if (ch != NULL && wallet_json_u64(ch, "quorum", &quorum)) {
			cJSON_AddNumberToObject(answer, "approvals",
						cJSON_GetArraySize(item(ch, "approvals")));
			cJSON_AddNumberToObject(answer, "quorum", (double)quorum);
			cJSON_AddItemToObject(answer, "approved_by",
					      cJSON_Duplicate(item(ch, "approved_by"), 1));
		} else if (ch == NULL && in_set_at(w, tx, height + CHAIN_VAL_DELAY) == 1) {
			cJSON_AddNumberToObject(answer, "in_force_from", (double)(height + CHAIN_VAL_DELAY));
		}
	}
	cJSON_Delete(changes);
	ch_err_clear(&w->err);
}

static int
send_change(struct wallet_ctx *w, uint8_t op)
{
	static const struct wallet_send_hooks hooks = {.check = check_signer, .answer = report};
	struct chain_tx tx;
	memset(&tx, 0, sizeof(tx));
	tx.type = CHAIN_TX_VALIDATOR;
	tx.val_op = op;
	if (parse_id(w, &tx) != 0 || (op != CHAIN_VAL_REMOVE && parse_pub(w, tx.val_pub) != 0) ||
	    (op == CHAIN_VAL_ADD && parse_p2p(w, &tx) != 0) || check_fields(w, &tx) != 0)
		return WALLET_FAIL;
	return wallet_sign_and_send(w, &tx, &hooks);
}

int
wallet_cmd_validator_add(struct wallet_ctx *w)
{
	return send_change(w, CHAIN_VAL_ADD);
}

int
wallet_cmd_validator_remove(struct wallet_ctx *w)
{
	return send_change(w, CHAIN_VAL_REMOVE);
}

int
wallet_cmd_validator_rekey(struct wallet_ctx *w)
{
	return send_change(w, CHAIN_VAL_REKEY);
}

/* ---- reading the sets ---- */

static uint64_t
u64_or(const cJSON *o, const char *name, uint64_t dflt)
{
	uint64_t v;
	return wallet_json_u64(o, name, &v) ? v : dflt;
}

int
wallet_cmd_validator_pending(struct wallet_ctx *w)
{
	cJSON *r;
	const cJSON *ch, *s;
	char ids[1024];
	if (wallet_call(w, "validator_changes", NULL, WALLET_RPC_TIMEOUT_MS, &r) != 0)
		return WALLET_FAIL;
	if (w->json) {
		wallet_print(w, r);
		cJSON_Delete(r);
		return WALLET_OK;
	}
	const cJSON *changes = item(r, "changes");
	printf("open validator changes at height %" PRIu64 " (the next block):%s\n",
	       u64_or(r, "height", 0), cJSON_GetArraySize(changes) == 0 ? " none" : "");
	cJSON_ArrayForEach(ch, changes)
	{
		const char *op = text(ch, "op"), *pk = text(ch, "pub_key"), *p2p = text(ch, "p2p_address");
		printf("  %s %s", op != NULL ? op : "?", text(ch, "id") != NULL ? text(ch, "id") : "?");
		if (pk != NULL)
			printf(", key %s", pk);
		if (p2p != NULL)
			printf(", at %s", p2p);
		list_ids(item(ch, "approved_by"), ids, sizeof(ids));
		printf("\n    approvals: %d of %" PRIu64 " (%s); first at height %" PRIu64
		       ", open until height %" PRIu64 "\n",
		       cJSON_GetArraySize(item(ch, "approvals")), u64_or(ch, "quorum", 0), ids,
		       u64_or(ch, "first_height", 0), u64_or(ch, "open_until", 0));
	}
	cJSON_ArrayForEach(s, item(r, "scheduled"))
	{
		list_ids(item(s, "validators"), ids, sizeof(ids));
		printf("scheduled: from height %" PRIu64 ", %d validators: %s\n",
		       u64_or(s, "start_height", 0), cJSON_GetArraySize(item(s, "validators")), ids);
	}
	cJSON_Delete(r);
	return WALLET_OK;
}

int
wallet_cmd_validators(struct wallet_ctx *w)
{
	cJSON *p = NULL, *r;
	const cJSON *v;
	uint64_t height;
	if (wallet_has(w, WOPT_HEIGHT)) {
		if (wallet_parse_u64(w, "--height", w->val[WOPT_HEIGHT], 1, UINT64_MAX, &height) != 0)
			return WALLET_FAIL;
		if ((p = cJSON_CreateObject()) == NULL ||
		    !cJSON_AddItemToObject(p, "height", rpc_json_u64(height))) {
			cJSON_Delete(p);
			return wallet_errf(w, "out of memory");
		}
	}
	if (wallet_call(w, "validators", p, WALLET_RPC_TIMEOUT_MS, &r) != 0)
		return WALLET_FAIL;
	if (w->json) {
		wallet_print(w, r);
		cJSON_Delete(r);
		return WALLET_OK;
	}
	const cJSON *vals = item(r, "validators");
	int idw = 2;
	cJSON_ArrayForEach(v, vals)
	{
		const char *id = text(v, "id");
		if (id != NULL && (int)strlen(id) > idw)
			idw = (int)strlen(id);
	}
	printf("validator set at height %" PRIu64 " (in force from height %" PRIu64
	       "): %d validators, f %" PRIu64 ", quorum %" PRIu64 "\n",
	       u64_or(r, "height", 0), u64_or(r, "start_height", 0), cJSON_GetArraySize(vals),
	       u64_or(r, "f", 0), u64_or(r, "quorum", 0));
	printf("%-5s %-4s %-*s %-66s %s\n", "index", "slot", idw, "id", "pub_key", "p2p_address");
	cJSON_ArrayForEach(v, vals)
	{
		const char *id = text(v, "id"), *pk = text(v, "pub_key"), *p2p = text(v, "p2p_address");
		printf("%-5" PRIu64 " %-4" PRIu64 " %-*s %-66s %s\n", u64_or(v, "index", 0),
		       u64_or(v, "slot", 0), idw, id != NULL ? id : "?", pk != NULL ? pk : "?",
		       p2p != NULL ? p2p : "");
	}
	cJSON_Delete(r);
	return WALLET_OK;
}
