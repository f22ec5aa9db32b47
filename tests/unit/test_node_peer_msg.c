/*
 * The peer protocol's codec (node/peer_msg.c): every message type through
 * the encoder and back, the JSON-RPC text it writes, and the decoder's
 * refusals, each of which must leave the message empty.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "chain/block.h"
#include "chain/rules.h"
#include "chain/tx.h"
#include "crypto/crypto.h"
#include "node/peer_msg.h"
#include "test.h"
#include "testchain.h"

#define CHAIN_ID "peer-msg"

static struct cr_key *key;
static const struct peer_msg_limits lim = {
	.nvalidators = 4, .max_engine = 1024, .max_block = 65536};

/* ---- allocation sizes, where the sanitizer lets us watch them ---- */

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_MALLOC_HOOK 1
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
					      void (*free_hook)(const volatile void *));
static volatile size_t largest_alloc;
static void
on_malloc(const volatile void *p, size_t n)
{
	(void)p;
	if (n > largest_alloc)
		largest_alloc = n;
}
static void
on_free(const volatile void *p)
{
	(void)p;
}
#else
#define HAVE_MALLOC_HOOK 0
#endif

/* ---- building messages ---- */

/* sign_transfer signs with key a transfer of amount to the address of 20 bytes `to`. */
static void
sign_transfer(struct chain_tx *tx, uint64_t nonce, uint64_t amount, uint8_t to)
{
	uint8_t addr[CR_ADDR_LEN];
	memset(addr, to, sizeof(addr));
	test_transfer(tx, key, CHAIN_ID, nonce, addr, amount);
}

/* sign_set signs with key a set of name to value_len bytes 'v'. */
static void
sign_set(struct chain_tx *tx, const char *chain_id, uint64_t nonce, const char *name,
	 size_t value_len)
{
	uint8_t value[CHAIN_MAX_VALUE];
	memset(value, 'v', sizeof(value));
	test_set(tx, key, chain_id, nonce, name, value, value_len);
}

/* block_bytes encodes a sealed block at height with ntx signed transfers. */
static void
block_bytes(uint64_t height, uint32_t ntx, struct ch_buf *out)
{
	struct chain_block b;
	memset(&b, 0, sizeof(b));
	strcpy(b.header.chain_id, CHAIN_ID);
	b.header.height = height;
	b.header.time_ms = TEST_GENESIS_MS + height;
	b.header.proposer = (uint16_t)(height % 4);
	b.header.view = height / 2;
	memset(b.header.prev_hash, (int)height, CR_HASH_LEN);
	memset(b.header.state_digest, 0x33, CR_HASH_LEN);
	b.header.tx_count = ntx;
	b.txs = calloc(ntx, sizeof(*b.txs));
	for (uint32_t i = 0; i < ntx; i++)
		sign_transfer(&b.txs[i], i, 10 + i, (uint8_t)height);
	chain_block_seal(&b);
	chain_block_encode(&b, out);
	chain_block_close(&b);
}

/* cert_bytes encodes a certificate of block hash at height with nvotes votes. */
static void
cert_bytes(uint64_t height, const uint8_t hash[CR_HASH_LEN], uint16_t nvotes, struct ch_buf *out)
{
	struct chain_cert *c = calloc(1, sizeof(*c));
	c->height = height;
	c->view = 5;
	memcpy(c->block_hash, hash, CR_HASH_LEN);
	c->count = nvotes;
	for (uint16_t i = 0; i < nvotes; i++) {
		c->votes[i].validator = i;
		memset(c->votes[i].sig, 0x40 + i, CR_SIG_LEN);
	}
	chain_cert_encode(c, out);
	free(c);
}

/* b64_text is head + base64(pl) + tail, NUL-terminated (caller frees). */
static char *
b64_text(const char *head, const struct ch_buf *pl, const char *tail)
{
	size_t hl = strlen(head), tl = strlen(tail), bl = 4 * ((pl->len + 2) / 3);
	char *t = malloc(hl + bl + tl + 1);
	memcpy(t, head, hl);
	cr_base64_encode(pl->data, pl->len, t + hl);
	memcpy(t + hl + bl, tail, tl + 1);
	return t;
}

#define HEAD(method) "{\"jsonrpc\":\"2.0\",\"method\":\"" method "\",\"params\":{\"msg\":\""
#define HEAD_GET(id) \
	"{\"jsonrpc\":\"2.0\",\"id\":" id ",\"method\":\"get_blocks\",\"params\":{\"msg\":\""
#define HEAD_BLOCKS(id) "{\"jsonrpc\":\"2.0\",\"id\":" id ",\"result\":{\"msg\":\""
#define TAIL "\"}}"

/* payload_start begins a payload of type: the version, then the type. */
static void
payload_start(struct ch_buf *pl, uint8_t type)
{
	ch_buf_init(pl);
	ch_buf_u8(pl, PEER_MSG_VERSION);
	ch_buf_u8(pl, type);
}

/* A status payload from validator `from`, at height 7 and view 8. */
static void
status_payload(struct ch_buf *pl, uint16_t from)
{
	payload_start(pl, PEER_STATUS);
	ch_buf_u16(pl, from);
	ch_buf_u64(pl, 7);
	ch_buf_u64(pl, 8);
}

/* A get_blocks payload from validator `from` asking for min..max. */
static void
get_blocks_payload(struct ch_buf *pl, uint16_t from, uint64_t min, uint64_t max)
{
	payload_start(pl, PEER_GET_BLOCKS);
	ch_buf_u16(pl, from);
	ch_buf_u64(pl, min);
	ch_buf_u64(pl, max);
}

/* txs_payload starts a txs payload claiming count transactions. */
static void
txs_payload(struct ch_buf *pl, uint32_t count)
{
	payload_start(pl, PEER_TXS);
	ch_buf_u32(pl, count);
}

/* blocks_payload starts a blocks payload at height claiming count blocks. */
static void
blocks_payload(struct ch_buf *pl, uint64_t height, uint16_t count)
{
	payload_start(pl, PEER_BLOCKS);
	ch_buf_u64(pl, height);
	ch_buf_u16(pl, count);
}

/* put_fill appends n bytes of fill. */
static void
put_fill(struct ch_buf *pl, size_t n, uint8_t fill)
{
	if (ch_buf_reserve(pl, n)) {
		memset(pl->data + pl->len, fill, n);
		pl->len += n;
	}
}

/* put_slice appends a u32 length and n bytes of fill. */
static void
put_slice(struct ch_buf *pl, size_t n, uint8_t fill)
{
	ch_buf_u32(pl, (uint32_t)n);
	put_fill(pl, n, fill);
}

/* put_blocks appends n blocks of 10 bytes, each with a certificate of 10. */
static void
put_blocks(struct ch_buf *pl, int n)
{
	for (int i = 0; i < n; i++) {
		put_slice(pl, 10, 1);
		put_slice(pl, 10, 2);
	}
}

/* tx_bytes sets enc (initialised here) to tx's encoding. */
static void
tx_bytes(const struct chain_tx *tx, struct ch_buf *enc)
{
	ch_buf_init(enc);
	chain_tx_encode(tx, enc);
}

/* put_tx appends a u16 length `said` and the first n bytes of enc. */
static void
put_tx(struct ch_buf *pl, const struct ch_buf *enc, size_t said, size_t n)
{
	ch_buf_u16(pl, (uint16_t)said);
	ch_buf_put(pl, enc->data, n);
}

/* consensus_text is a consensus message of n engine bytes (caller frees). */
static char *
consensus_text(size_t n)
{
	struct ch_buf pl;
	payload_start(&pl, PEER_CONSENSUS);
	put_fill(&pl, n, 0x6b);
	char *t = b64_text(HEAD("consensus"), &pl, TAIL);
	ch_buf_close(&pl);
	return t;
}

/* decode_copy decodes an exact-size copy of text, so ASan catches any over-read. */
static int
decode_copy(const char *text, size_t len, const struct peer_msg_limits *l, struct peer_msg *m,
	    struct ch_err *e)
{
	uint8_t *copy = malloc(len ? len : 1);
	memcpy(copy, text, len);
	int rc = peer_msg_decode(copy, len, l, m, e);
	free(copy);
	return rc;
}

/* roundtrip encodes m and decodes the text into out; false (and says why) if either fails. */
static bool
roundtrip(const struct peer_msg *m, struct peer_msg *out)
{
	struct ch_buf t;
	struct ch_err e;
	ch_buf_init(&t);
	ch_err_clear(&e);
	peer_msg_encode(m, &t);
	int rc = ch_buf_ok(&t) ? decode_copy((const char *)t.data, t.len, &lim, out, &e) : -1;
	if (rc != 0)
		fprintf(stderr, "  roundtrip of %s: rc %d: %s\n", peer_msg_type_name(m->type), rc, e.msg);
	ch_buf_close(&t);
	return rc == 0;
}

/*
 * refused_lim: decoding text under l fails with code (0: either CH_E_BAD_ENCODING or
 * CH_E_TOO_LARGE) and a message, and leaves the message empty.
 */
static bool
refused_lim(const char *text, size_t len, const struct peer_msg_limits *l, int code)
{
	static const struct peer_msg empty;
	struct peer_msg m;
	struct ch_err e;
	ch_err_clear(&e);
	memset(&m, 0x5a, sizeof(m));
	int rc = decode_copy(text, len, l, &m, &e);
	bool code_ok = code != 0 ? rc == code : rc == CH_E_BAD_ENCODING || rc == CH_E_TOO_LARGE;
	bool ok = code_ok && e.code == rc && e.msg[0] != '\0' && memcmp(&m, &empty, sizeof(m)) == 0;
	if (!ok)
		fprintf(stderr, "  %.100s (%zu bytes): rc %d (want %s), \"%s\"%s\n", text, len, rc,
			code != 0 ? ch_errname(code) : "a refusal", e.msg,
			rc == 0 || memcmp(&m, &empty, sizeof(m)) == 0 ? "" : ", message not empty");
	if (rc == 0)
		peer_msg_close(&m);
	return ok;
}

static bool
refused(const char *text, int code)
{
	return refused_lim(text, strlen(text), &lim, code);
}

/* accepted: text decodes under lim (and is released). */
static bool
accepted(const char *text)
{
	struct peer_msg m;
	struct ch_err e;
	ch_err_clear(&e);
	int rc = decode_copy(text, strlen(text), &lim, &m, &e);
	if (rc != 0)
		fprintf(stderr, "  %.100s: rc %d: %s\n", text, rc, e.msg);
	peer_msg_close(&m);
	return rc == 0;
}

/* refused_payload: head + base64(pl) + tail is refused with code (pl is closed). */
static bool
refused_payload(const char *head, struct ch_buf *pl, const char *tail, int code)
{
	char *t = b64_text(head, pl, tail);
	bool ok = refused(t, code);
	free(t);
	ch_buf_close(pl);
	return ok;
}

static bool
accepted_payload(const char *head, struct ch_buf *pl, const char *tail)
{
	char *t = b64_text(head, pl, tail);
	bool ok = accepted(t);
	free(t);
	ch_buf_close(pl);
	return ok;
}

/* payload_is: head + base64(pl) + tail is accepted if ok, else refused as CH_E_BAD_ENCODING. */
static bool
payload_is(bool ok, const char *head, struct ch_buf *pl, const char *tail)
{
	return ok ? accepted_payload(head, pl, tail)
		  : refused_payload(head, pl, tail, CH_E_BAD_ENCODING);
}

/* status_is: a status from validator 1 between head and tail is as payload_is says. */
static bool
status_is(bool ok, const char *head, const char *tail)
{
	struct ch_buf pl;
	status_payload(&pl, 1);
	return payload_is(ok, head, &pl, tail);
}

/* named passes ok on, and on a failure says which case failed. */
static bool
named(const char *what, bool ok)
{
	if (!ok)
		fprintf(stderr, "  case: %s\n", what);
	return ok;
}

/* A case of a table: what it is, and its text. */
struct text_case {
	const char *what, *text;
};

#define NCASES(cases) (sizeof(cases) / sizeof((cases)[0]))

/* check_refused_texts checks that each text of cases is refused as a bad encoding. */
static void
check_refused_texts(const struct text_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++)
		CHECK(named(cases[i].what, refused(cases[i].text, CH_E_BAD_ENCODING)));
}

/* check_refused_heads checks that a status under each head of cases (and TAIL) is refused. */
static void
check_refused_heads(const struct text_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++)
		CHECK(named(cases[i].what, status_is(false, cases[i].text, TAIL)));
}

static bool
same_tx(const struct chain_tx *a, const struct chain_tx *b)
{
	bool same = strcmp(a->chain_id, b->chain_id) == 0 && a->type == b->type &&
		    memcmp(a->pubkey, b->pubkey, CR_PUBKEY_LEN) == 0 && a->nonce == b->nonce &&
		    memcmp(a->sig, b->sig, CR_SIG_LEN) == 0 &&
		    memcmp(a->hash, b->hash, CR_HASH_LEN) == 0 &&
		    memcmp(a->sender, b->sender, CR_ADDR_LEN) == 0 && a->size == b->size;
	if (a->type == CHAIN_TX_TRANSFER)
		return same && memcmp(a->to, b->to, CR_ADDR_LEN) == 0 && a->amount == b->amount;
	return same && strcmp(a->name, b->name) == 0 && a->value_len == b->value_len &&
	       memcmp(a->value, b->value, a->value_len) == 0;
}

/* ---- round trips ---- */

/* A consensus message comes back with the engine's bytes. */
static void
test_roundtrip_consensus(void)
{
	uint8_t engine[300];
	for (size_t i = 0; i < sizeof(engine); i++)
		engine[i] = (uint8_t)(i * 7);
	struct peer_msg m = {.type = PEER_CONSENSUS, .engine = engine, .engine_len = sizeof(engine)};
	struct peer_msg d;
	REQUIRE(roundtrip(&m, &d));
	CHECK_EQ_INT(d.type, PEER_CONSENSUS);
	CHECK_EQ_INT(d.engine_len, sizeof(engine));
	CHECK(d.engine != NULL && memcmp(d.engine, engine, sizeof(engine)) == 0);
	CHECK(d.engine != engine);
	CHECK(d.payload != NULL && d.mem >= sizeof(engine));
	CHECK(d.txs == NULL && d.blocks == NULL && d.ntxs == 0 && d.nblocks == 0);
	peer_msg_close(&d);
	CHECK(d.payload == NULL && d.engine == NULL && d.type == 0);
}

/* A txs message comes back with every field of each signed transaction. */
static void
test_roundtrip_txs(void)
{
	struct chain_tx txs[4];
	sign_transfer(&txs[0], 0, 5, 0xaa);
	sign_set(&txs[1], CHAIN_ID, 1, "greeting", 11);
	sign_transfer(&txs[2], 2, UINT64_MAX, 0xbb);
	sign_set(&txs[3], "another.chain-id", 9, "empty", 0);
	struct peer_msg m = {.type = PEER_TXS, .txs = txs, .ntxs = 4};
	struct peer_msg d;
	REQUIRE(roundtrip(&m, &d));
	CHECK_EQ_INT(d.type, PEER_TXS);
	REQUIRE(d.ntxs == 4 && d.txs != NULL);
	for (uint32_t i = 0; i < 4; i++) {
		CHECK(same_tx(&txs[i], &d.txs[i]));
		CHECK(chain_tx_verify(&d.txs[i], NULL) == 0);
	}
	CHECK(d.mem >= 4 * sizeof(struct chain_tx));
	peer_msg_close(&d);
	CHECK(d.txs == NULL && d.ntxs == 0);
}

/* A status message comes back with its sender, height and view. */
static void
test_roundtrip_status(void)
{
	struct peer_msg m = {.type = PEER_STATUS, .from = 3, .height = (UINT64_C(1) << 40) + 5,
			     .view = UINT64_MAX};
	struct peer_msg d;
	REQUIRE(roundtrip(&m, &d));
	CHECK_EQ_INT(d.type, PEER_STATUS);
	CHECK_EQ_INT(d.from, 3);
	CHECK(d.height == (UINT64_C(1) << 40) + 5);
	CHECK(d.view == UINT64_MAX);
	CHECK_EQ_INT(d.id, 0);
	peer_msg_close(&d);
}

/* A get_blocks request comes back with its id, sender and range. */
static void
test_roundtrip_get_blocks(void)
{
	static const uint64_t ids[] = {0, 42, PEER_MAX_ID - 1};
	for (size_t i = 0; i < 3; i++) {
		struct peer_msg m = {.type = PEER_GET_BLOCKS, .id = ids[i], .from = 1,
				     .min_height = 10, .max_height = UINT64_C(1) << 50};
		struct peer_msg d;
		REQUIRE(roundtrip(&m, &d));
		CHECK_EQ_INT(d.type, PEER_GET_BLOCKS);
		CHECK(d.id == ids[i]);
		CHECK_EQ_INT(d.from, 1);
		CHECK_EQ_INT(d.min_height, 10);
		CHECK(d.max_height == UINT64_C(1) << 50);
		peer_msg_close(&d);
	}
}

/* A blocks answer comes back with its id, height and both blocks with their certificates. */
static void
test_roundtrip_blocks(void)
{
	struct ch_buf blk[2], cert[2];
	struct chain_block b[2];
	struct peer_block pb[2];
	for (int i = 0; i < 2; i++) {
		ch_buf_init(&blk[i]);
		ch_buf_init(&cert[i]);
		block_bytes(11 + (uint64_t)i, 2 + (uint32_t)i, &blk[i]);
		REQUIRE(chain_block_decode(blk[i].data, blk[i].len, &b[i], NULL) == 0);
		cert_bytes(11 + (uint64_t)i, b[i].hash, 3, &cert[i]);
		chain_block_close(&b[i]);
		pb[i] = (struct peer_block){blk[i].data, blk[i].len, cert[i].data, cert[i].len};
	}
	struct peer_msg m = {.type = PEER_BLOCKS, .id = 77, .height = 20, .blocks = pb, .nblocks = 2};
	struct peer_msg d;
	REQUIRE(roundtrip(&m, &d));
	CHECK_EQ_INT(d.type, PEER_BLOCKS);
	CHECK_EQ_INT(d.id, 77);
	CHECK_EQ_INT(d.height, 20);
	REQUIRE(d.nblocks == 2 && d.blocks != NULL);
	for (int i = 0; i < 2; i++) {
		const struct peer_block *x = &d.blocks[i];
		CHECK(x->block_len == blk[i].len && memcmp(x->block, blk[i].data, blk[i].len) == 0);
		CHECK(x->cert_len == cert[i].len && memcmp(x->cert, cert[i].data, cert[i].len) == 0);
		struct chain_block again;
		struct chain_cert *c = malloc(sizeof(*c));
		CHECK(chain_block_decode(x->block, x->block_len, &again, NULL) == 0);
		CHECK(chain_cert_decode(x->cert, x->cert_len, c, NULL) == 0);
		CHECK(again.header.height == 11 + (uint64_t)i && c->count == 3);
		CHECK(memcmp(c->block_hash, again.hash, CR_HASH_LEN) == 0);
		chain_block_close(&again);
		free(c);
	}
	peer_msg_close(&d);
	CHECK(d.blocks == NULL && d.nblocks == 0);
	for (int i = 0; i < 2; i++) {
		ch_buf_close(&blk[i]);
		ch_buf_close(&cert[i]);
	}
}

/* An answer with no blocks is valid (the asker is ahead). */
static void
test_roundtrip_blocks_empty(void)
{
	struct peer_msg m = {.type = PEER_BLOCKS, .id = 3, .height = 9};
	struct peer_msg d;
	REQUIRE(roundtrip(&m, &d));
	CHECK(d.type == PEER_BLOCKS && d.id == 3 && d.height == 9 && d.nblocks == 0);
	CHECK(d.blocks == NULL);
	peer_msg_close(&d);
}

/* ---- the text ---- */

/* encode_json encodes m and parses its text (caller deletes); *raw gets a copy of the text. */
static cJSON *
encode_json(const struct peer_msg *m, char **raw)
{
	struct ch_buf t;
	ch_buf_init(&t);
	peer_msg_encode(m, &t);
	ch_buf_u8(&t, 0);
	cJSON *j = ch_buf_ok(&t) ? cJSON_Parse((const char *)t.data) : NULL;
	*raw = (char *)ch_buf_steal(&t, &(size_t){0});
	return j;
}

/* payload_of decodes the base64 "msg" of obj into out (out holds cap); its length, or 0. */
static size_t
payload_of(const cJSON *obj, uint8_t *out, size_t cap)
{
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(obj, "msg");
	size_t n = 0;
	if (!cJSON_IsString(msg) ||
	    cr_base64_decode(msg->valuestring, strlen(msg->valuestring), out, cap, &n) != 0)
		return 0;
	return n;
}

/* Notifications are {"jsonrpc":"2.0","method":NAME,"params":{"msg":B64}} with no id. */
static void
test_text_notifications(void)
{
	static const char *const names[] = {[PEER_CONSENSUS] = "consensus", [PEER_TXS] = "txs",
					    [PEER_STATUS] = "status"};
	uint8_t engine[5] = {1, 2, 3, 4, 5};
	struct chain_tx tx;
	sign_transfer(&tx, 0, 1, 1);
	struct peer_msg ms[] = {
		{.type = PEER_CONSENSUS, .engine = engine, .engine_len = 5},
		{.type = PEER_TXS, .txs = &tx, .ntxs = 1},
		{.type = PEER_STATUS, .from = 2, .height = 3, .view = 4},
	};
	for (size_t i = 0; i < 3; i++) {
		char *raw;
		cJSON *j = encode_json(&ms[i], &raw);
		REQUIRE(j != NULL);
		char head[128];
		snprintf(head, sizeof(head), HEAD("%s"), names[ms[i].type]);
		CHECK(strncmp(raw, head, strlen(head)) == 0);
		CHECK(strlen(raw) > 3 && strcmp(raw + strlen(raw) - 3, TAIL) == 0);
		CHECK_EQ_INT(cJSON_GetArraySize(j), 3);
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "jsonrpc");
		const cJSON *method = cJSON_GetObjectItemCaseSensitive(j, "method");
		const cJSON *params = cJSON_GetObjectItemCaseSensitive(j, "params");
		CHECK(cJSON_IsString(v) && strcmp(v->valuestring, "2.0") == 0);
		CHECK(cJSON_IsString(method) && strcmp(method->valuestring, names[ms[i].type]) == 0);
		CHECK(cJSON_GetObjectItemCaseSensitive(j, "id") == NULL);
		CHECK(cJSON_IsObject(params) && cJSON_GetArraySize(params) == 1);
		uint8_t pl[2048];
		size_t n = payload_of(params, pl, sizeof(pl));
		CHECK(n >= 2 && pl[0] == PEER_MSG_VERSION && pl[1] == ms[i].type);
		cJSON_Delete(j);
		free(raw);
	}
}

/* get_blocks carries its id and "method"; the blocks answer carries the id and "result". */
static void
test_text_request_and_answer(void)
{
	struct peer_msg get = {.type = PEER_GET_BLOCKS, .id = 123456789, .from = 1,
			       .min_height = 2, .max_height = 3};
	struct peer_msg ans = {.type = PEER_BLOCKS, .id = 123456789, .height = 4};
	char *raw;
	cJSON *j = encode_json(&get, &raw);
	REQUIRE(j != NULL);
	CHECK(strncmp(raw, HEAD_GET("123456789"), strlen(HEAD_GET("123456789"))) == 0);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
	const cJSON *method = cJSON_GetObjectItemCaseSensitive(j, "method");
	CHECK(cJSON_IsNumber(id) && id->valuedouble == 123456789.0);
	CHECK(cJSON_IsString(method) && strcmp(method->valuestring, "get_blocks") == 0);
	CHECK(cJSON_GetObjectItemCaseSensitive(j, "result") == NULL);
	CHECK(payload_of(cJSON_GetObjectItemCaseSensitive(j, "params"), (uint8_t[64]){0}, 64) == 20);
	cJSON_Delete(j);
	free(raw);

	j = encode_json(&ans, &raw);
	REQUIRE(j != NULL);
	CHECK(strncmp(raw, HEAD_BLOCKS("123456789"), strlen(HEAD_BLOCKS("123456789"))) == 0);
	id = cJSON_GetObjectItemCaseSensitive(j, "id");
	CHECK(cJSON_IsNumber(id) && id->valuedouble == 123456789.0);
	CHECK(cJSON_GetObjectItemCaseSensitive(j, "method") == NULL);
	CHECK(cJSON_GetObjectItemCaseSensitive(j, "params") == NULL);
	CHECK(payload_of(cJSON_GetObjectItemCaseSensitive(j, "result"), (uint8_t[64]){0}, 64) == 12);
	cJSON_Delete(j);
	free(raw);
}

/* The payloads are laid out as the header says, integers big-endian. */
static void
test_payload_layout(void)
{
	struct chain_tx tx;
	struct ch_buf enc;
	sign_set(&tx, CHAIN_ID, 4, "k", 3);
	tx_bytes(&tx, &enc);
	struct peer_msg ms[] = {
		{.type = PEER_STATUS, .from = 0x0102, .height = 0x030405060708090a, .view = 0x0b},
		{.type = PEER_GET_BLOCKS, .id = 1, .from = 3, .min_height = 0x11, .max_height = 0x2233},
		{.type = PEER_TXS, .txs = &tx, .ntxs = 1},
	};
	uint8_t want_status[] = {1, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 0, 0, 0, 0, 0, 0, 0x0b};
	uint8_t want_get[] = {1, 4, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0x11, 0, 0, 0, 0, 0, 0, 0x22, 0x33};
	for (size_t i = 0; i < 3; i++) {
		char *raw;
		cJSON *j = encode_json(&ms[i], &raw);
		REQUIRE(j != NULL);
		uint8_t pl[2048];
		size_t n = payload_of(cJSON_GetObjectItemCaseSensitive(j, "params"), pl, sizeof(pl));
		if (i == 0)
			CHECK(n == sizeof(want_status) && memcmp(pl, want_status, n) == 0);
		else if (i == 1)
			CHECK(n == sizeof(want_get) && memcmp(pl, want_get, n) == 0);
		else
			CHECK(n == 2 + 4 + 2 + enc.len && pl[0] == 1 && pl[1] == PEER_TXS &&
			      pl[2] == 0 && pl[3] == 0 && pl[4] == 0 && pl[5] == 1 &&
			      pl[6] == (uint8_t)(enc.len >> 8) && pl[7] == (uint8_t)enc.len &&
			      memcmp(pl + 8, enc.data, enc.len) == 0);
		cJSON_Delete(j);
		free(raw);
	}
	ch_buf_close(&enc);
}

/* decode_between decodes head + base64(pl) + tail into d under lim (pl is closed). */
static int
decode_between(const char *head, struct ch_buf *pl, const char *tail, struct peer_msg *d)
{
	char *t = b64_text(head, pl, tail);
	int rc = decode_copy(t, strlen(t), &lim, d, NULL);
	free(t);
	ch_buf_close(pl);
	return rc;
}

/* The decoder takes the same messages with the members reordered and whitespace around them. */
static void
test_decode_reordered(void)
{
	struct ch_buf pl;
	struct peer_msg d;
	status_payload(&pl, 2);
	REQUIRE(decode_between(" {\n\t\"params\" : { \"msg\" :\t\"", &pl,
			       "\" } ,\r\n  \"method\" : \"status\" , \"jsonrpc\" : \"2.0\"\n} ",
			       &d) == 0);
	CHECK(d.type == PEER_STATUS && d.from == 2 && d.height == 7 && d.view == 8);
	peer_msg_close(&d);

	get_blocks_payload(&pl, 3, 5, 6);
	REQUIRE(decode_between("{ \"method\":\"get_blocks\", \"params\":{\"msg\":\"", &pl,
			       "\"}, \"jsonrpc\":\"2.0\", \"id\" : 99 }", &d) == 0);
	CHECK(d.type == PEER_GET_BLOCKS && d.id == 99 && d.from == 3);
	CHECK(d.min_height == 5 && d.max_height == 6);
	peer_msg_close(&d);

	blocks_payload(&pl, 31, 0);
	REQUIRE(decode_between("{\"result\": {\"msg\": \"", &pl,
			       "\"},\n\"id\": 8, \"jsonrpc\": \"2.0\"}", &d) == 0);
	CHECK(d.type == PEER_BLOCKS && d.id == 8 && d.height == 31 && d.nblocks == 0);
	peer_msg_close(&d);
}

/* ---- refusals of the envelope ---- */

/* Text that is not a JSON-RPC 2.0 object is refused. */
static void
test_refuse_not_jsonrpc(void)
{
	static const struct text_case texts[] = {
		{"empty", ""},
		{"not closed", "{\"jsonrpc\":\"2.0\",\"method\":\"status\""},
		{"not JSON", "not json"},
		{"an array", "[{\"jsonrpc\":\"2.0\",\"method\":\"status\",\"params\":{\"msg\":\"\"}}]"},
		{"a string", "\"jsonrpc\""},
		{"a number", "42"},
		{"null", "null"},
	};
	static const struct text_case heads[] = {
		{"version 1.0", "{\"jsonrpc\":\"1.0\",\"method\":\"status\",\"params\":{\"msg\":\""},
		{"a number for a version", "{\"jsonrpc\":2.0,\"method\":\"status\",\"params\":{\"msg\":\""},
		{"no version", "{\"method\":\"status\",\"params\":{\"msg\":\""},
		{"\"JSONRPC\"", "{\"JSONRPC\":\"2.0\",\"method\":\"status\",\"params\":{\"msg\":\""},
	};
	check_refused_texts(texts, NCASES(texts));
	check_refused_heads(heads, NCASES(heads));
}

/* A message is one object: anything but white space after it is refused. */
static void
test_refuse_text_after_object(void)
{
	static const char *const tails[] = {"}", "x", "{}", "\"\"", " 1"};
	for (size_t i = 0; i < NCASES(tails); i++) {
		char tail[16];
		snprintf(tail, sizeof(tail), TAIL "%s", tails[i]);
		CHECK(named(tails[i], status_is(false, HEAD("status"), tail)));
	}
	CHECK(status_is(true, HEAD("status"), TAIL " \r\n\t"));
}

/* A method the protocol does not have is refused, "blocks" included (answers have none). */
static void
test_refuse_unknown_method(void)
{
	static const struct text_case heads[] = {
		{"gossip", HEAD("gossip")},
		{"Status", HEAD("Status")},
		{"an empty name", HEAD("")},
		{"a number", "{\"jsonrpc\":\"2.0\",\"method\":7,\"params\":{\"msg\":\""},
	};
	check_refused_heads(heads, NCASES(heads));
	struct ch_buf pl;
	blocks_payload(&pl, 1, 0);
	CHECK(refused_payload("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"blocks\",\"params\":{\"msg\":\"",
			      &pl, TAIL, CH_E_BAD_ENCODING));
}

/* A method whose payload's type byte says another type is refused. */
static void
test_refuse_type_mismatch(void)
{
	static const struct text_case heads[] = {
		{"txs", HEAD("txs")},
		{"consensus", HEAD("consensus")},
		{"get_blocks", HEAD_GET("1")},
		{"blocks", HEAD_BLOCKS("1")},
	};
	check_refused_heads(heads, NCASES(heads));
	/* the same payload under its own method passes */
	CHECK(status_is(true, HEAD("status"), TAIL));
}

/* Notifications may not carry an id; get_blocks and its answer must. */
static void
test_refuse_id_presence(void)
{
	CHECK(status_is(false, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\",\"params\":{\"msg\":\"",
			TAIL));
	CHECK(status_is(false,
			"{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"status\",\"params\":{\"msg\":\"",
			TAIL));
	struct ch_buf pl;
	get_blocks_payload(&pl, 1, 1, 2);
	CHECK(refused_payload(HEAD("get_blocks"), &pl, TAIL, CH_E_BAD_ENCODING));
	blocks_payload(&pl, 1, 0);
	CHECK(refused_payload("{\"jsonrpc\":\"2.0\",\"result\":{\"msg\":\"", &pl, TAIL,
			      CH_E_BAD_ENCODING));
}

/* An id must be a whole number below 2^53. */
static void
test_refuse_bad_ids(void)
{
	static const struct {
		const char *id;
		bool ok;
	} ids[] = {
		{"9007199254740992", false}, {"9007199254740993", false}, {"1e300", false},
		{"-1", false}, {"-0.5", false}, {"1.5", false}, {"\"1\"", false}, {"true", false},
		{"null", false}, {"[1]", false}, {"{}", false},
		{"0", true}, {"9007199254740991", true}, {"1e3", true},
	};
	for (size_t i = 0; i < NCASES(ids); i++) {
		struct ch_buf pl;
		char head[160];
		blocks_payload(&pl, 1, 0);
		snprintf(head, sizeof(head), "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{\"msg\":\"",
			 ids[i].id);
		CHECK(named(ids[i].id, payload_is(ids[i].ok, head, &pl, TAIL)));
	}
}

/* "msg" must be a string of strict base64 inside an object. */
static void
test_refuse_bad_msg(void)
{
#define STATUS_WITH(params) "{\"jsonrpc\":\"2.0\",\"method\":\"status\"" params "}"
	static const struct text_case texts[] = {
		{"a number", STATUS_WITH(",\"params\":{\"msg\":5}")},
		{"null", STATUS_WITH(",\"params\":{\"msg\":null}")},
		{"an array", STATUS_WITH(",\"params\":{\"msg\":[\"AQM=\"]}")},
		{"no msg", STATUS_WITH(",\"params\":{}")},
		{"params an array", STATUS_WITH(",\"params\":[\"AQM=\"]")},
		{"no params", STATUS_WITH("")},
		{"not base64", STATUS_WITH(",\"params\":{\"msg\":\"!!!!\"}")},
		{"a line break inside", STATUS_WITH(",\"params\":{\"msg\":\"AQMA\\nAQID\"}")},
		{"no padding", STATUS_WITH(",\"params\":{\"msg\":\"AQM\"}")},
		/* the answer's payload is under "result", not "params" */
		{"an answer's under params",
		 "{\"jsonrpc\":\"2.0\",\"id\":1,\"params\":{\"msg\":\"AQUAAAAAAAAAAQAA\"}}"},
	};
#undef STATUS_WITH
	check_refused_texts(texts, NCASES(texts));
	CHECK(accepted("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"msg\":\"AQUAAAAAAAAAAQAA\"}}"));
}

/* ---- refusals of the payload ---- */

/* A payload of another version, or too short to say, is refused. */
static void
test_refuse_version(void)
{
	static const struct {
		const char *what;
		uint8_t version;
	} versions[] = {{"the next version", PEER_MSG_VERSION + 1}, {"version 0", 0}};
	for (size_t i = 0; i < NCASES(versions); i++) {
		struct ch_buf pl;
		status_payload(&pl, 1);
		pl.data[0] = versions[i].version;
		CHECK(named(versions[i].what,
			    refused_payload(HEAD("status"), &pl, TAIL, CH_E_BAD_ENCODING)));
	}
	CHECK(refused(HEAD("status") TAIL, CH_E_BAD_ENCODING)); /* empty payload */
	CHECK(refused(HEAD("status") "AQ==" TAIL, CH_E_BAD_ENCODING)); /* the version alone */
}

/* Bytes after the body, or a body cut short, are refused for every type. */
static void
test_refuse_trailing_and_short(void)
{
	struct ch_buf pl;
	/* a status with a byte more, and a byte less */
	status_payload(&pl, 1);
	ch_buf_u8(&pl, 0);
	CHECK(refused_payload(HEAD("status"), &pl, TAIL, CH_E_BAD_ENCODING));
	status_payload(&pl, 1);
	pl.len--;
	CHECK(refused_payload(HEAD("status"), &pl, TAIL, CH_E_BAD_ENCODING));

	/* a byte after a request, and after a transaction */
	get_blocks_payload(&pl, 1, 1, 2);
	ch_buf_u8(&pl, 0xff);
	CHECK(refused_payload(HEAD_GET("1"), &pl, TAIL, CH_E_BAD_ENCODING));
	struct chain_tx tx;
	struct ch_buf enc;
	sign_transfer(&tx, 0, 1, 1);
	tx_bytes(&tx, &enc);
	txs_payload(&pl, 1);
	put_tx(&pl, &enc, enc.len, enc.len);
	ch_buf_u8(&pl, 0);
	CHECK(refused_payload(HEAD("txs"), &pl, TAIL, CH_E_BAD_ENCODING));
	ch_buf_close(&enc);

	/* four bytes after an answer of no blocks, and an answer cut before its count */
	blocks_payload(&pl, 1, 0);
	ch_buf_u32(&pl, 0);
	CHECK(refused_payload(HEAD_BLOCKS("1"), &pl, TAIL, CH_E_BAD_ENCODING));
	blocks_payload(&pl, 1, 0);
	pl.len -= 2;
	CHECK(refused_payload(HEAD_BLOCKS("1"), &pl, TAIL, CH_E_BAD_ENCODING));

	/* an empty consensus message */
	char *t = consensus_text(0);
	CHECK(refused(t, CH_E_BAD_ENCODING));
	free(t);
}

/* status and get_blocks must come from a validator: from < nvalidators. */
static void
test_refuse_from_not_validator(void)
{
	static const struct {
		const char *what;
		uint16_t from;
		bool ok;
	} froms[] = {
		{"the last validator", 3, true},
		{"one past the last", 4, false},
		{"0xffff", 0xffff, false},
	};
	for (size_t i = 0; i < NCASES(froms); i++) {
		struct ch_buf pl;
		status_payload(&pl, froms[i].from);
		CHECK(named(froms[i].what, payload_is(froms[i].ok, HEAD("status"), &pl, TAIL)));
		get_blocks_payload(&pl, froms[i].from, 1, 2);
		CHECK(named(froms[i].what, payload_is(froms[i].ok, HEAD_GET("5"), &pl, TAIL)));
	}
}

/* A txs message holds 1..PEER_MAX_TXS transactions. */
static void
test_refuse_txs_count(void)
{
	static const struct {
		const char *what;
		uint32_t count;
	} counts[] = {{"none", 0}, {"one too many", PEER_MAX_TXS + 1}, {"UINT32_MAX", UINT32_MAX}};
	struct ch_buf pl;
	for (size_t i = 0; i < NCASES(counts); i++) {
		txs_payload(&pl, counts[i].count);
		CHECK(named(counts[i].what,
			    refused_payload(HEAD("txs"), &pl, TAIL, CH_E_BAD_ENCODING)));
	}
	/* a count past the end of the payload */
	payload_start(&pl, PEER_TXS);
	ch_buf_u16(&pl, 1);
	CHECK(refused_payload(HEAD("txs"), &pl, TAIL, CH_E_BAD_ENCODING));
}

/* A tiny message claiming 8192 transactions is refused before the array is allocated. */
static void
test_refuse_txs_count_before_alloc(void)
{
	struct chain_tx tx;
	struct ch_buf enc, pl;
	sign_transfer(&tx, 0, 1, 1);
	tx_bytes(&tx, &enc);
	txs_payload(&pl, PEER_MAX_TXS);
	put_tx(&pl, &enc, enc.len, enc.len);
	ch_buf_close(&enc);
	char *t = b64_text(HEAD("txs"), &pl, TAIL);
	ch_buf_close(&pl);
	REQUIRE(strlen(t) < 1024);
#if HAVE_MALLOC_HOOK
	largest_alloc = 0;
	CHECK(refused(t, CH_E_BAD_ENCODING));
	/* everything decoding allocated was about the size of the text, nothing like 8192 txs */
	CHECK(largest_alloc < 16 * 1024);
	CHECK(largest_alloc < PEER_MAX_TXS * sizeof(struct chain_tx));
#else
	CHECK(refused(t, CH_E_BAD_ENCODING));
#endif
	free(t);
}

/* A transaction longer than what is left, or whose own encoding is cut short, is refused. */
static void
test_refuse_tx_cut_short(void)
{
	struct chain_tx tx;
	struct ch_buf enc, pl;
	sign_set(&tx, CHAIN_ID, 0, "name", 200);
	tx_bytes(&tx, &enc);
	/* the length says more than follows */
	txs_payload(&pl, 1);
	put_tx(&pl, &enc, enc.len, enc.len - 20);
	CHECK(refused_payload(HEAD("txs"), &pl, TAIL, CH_E_BAD_ENCODING));
	/* the second of two is cut short */
	txs_payload(&pl, 2);
	put_tx(&pl, &enc, enc.len, enc.len);
	put_tx(&pl, &enc, enc.len, enc.len - 1);
	CHECK(refused_payload(HEAD("txs"), &pl, TAIL, CH_E_BAD_ENCODING));
	/* the length matches what follows, but the transaction inside is truncated */
	txs_payload(&pl, 1);
	put_tx(&pl, &enc, enc.len - 10, enc.len - 10);
	CHECK(refused_payload(HEAD("txs"), &pl, TAIL, CH_E_BAD_ENCODING));
	/* whole, it passes */
	txs_payload(&pl, 1);
	put_tx(&pl, &enc, enc.len, enc.len);
	CHECK(accepted_payload(HEAD("txs"), &pl, TAIL));
	ch_buf_close(&enc);
}

/* More transaction bytes than PEER_MAX_TXS_BYTES is too large. */
static void
test_refuse_txs_too_many_bytes(void)
{
	struct ch_buf pl;
	txs_payload(&pl, 1);
	ch_buf_u16(&pl, 200);
	size_t pad = PEER_MAX_TXS_BYTES + 1;
	REQUIRE(ch_buf_reserve(&pl, pad));
	put_fill(&pl, pad, 0);
	CHECK(refused_payload(HEAD("txs"), &pl, TAIL, CH_E_TOO_LARGE));
}

/* An answer holds at most PEER_MAX_BLOCKS blocks. */
static void
test_refuse_blocks_count(void)
{
	struct ch_buf pl;
	blocks_payload(&pl, 100, PEER_MAX_BLOCKS + 1);
	put_blocks(&pl, PEER_MAX_BLOCKS + 1);
	CHECK(refused_payload(HEAD_BLOCKS("1"), &pl, TAIL, CH_E_BAD_ENCODING));
	blocks_payload(&pl, 100, UINT16_MAX);
	CHECK(refused_payload(HEAD_BLOCKS("1"), &pl, TAIL, CH_E_BAD_ENCODING));
	blocks_payload(&pl, 100, PEER_MAX_BLOCKS);
	put_blocks(&pl, PEER_MAX_BLOCKS);
	CHECK(accepted_payload(HEAD_BLOCKS("1"), &pl, TAIL));
	/* fewer blocks than the count says */
	blocks_payload(&pl, 100, 3);
	put_blocks(&pl, 1);
	CHECK(refused_payload(HEAD_BLOCKS("1"), &pl, TAIL, CH_E_BAD_ENCODING));
}

/* A block longer than lim.max_block, or a certificate longer than n votes need, is refused. */
static void
test_refuse_block_too_long(void)
{
	size_t max_cert = CHAIN_CERT_BYTES(lim.nvalidators);
	struct ch_buf pl;
	blocks_payload(&pl, 100, 1);
	put_slice(&pl, lim.max_block + 1, 7);
	put_slice(&pl, 10, 2);
	CHECK(refused_payload(HEAD_BLOCKS("1"), &pl, TAIL, CH_E_BAD_ENCODING));
	blocks_payload(&pl, 100, 2);
	put_slice(&pl, 10, 7);
	put_slice(&pl, 10, 2);
	put_slice(&pl, 10, 7);
	put_slice(&pl, max_cert + 1, 2);
	CHECK(refused_payload(HEAD_BLOCKS("1"), &pl, TAIL, CH_E_BAD_ENCODING));
	/* a length far past the end */
	blocks_payload(&pl, 100, 1);
	ch_buf_u32(&pl, UINT32_MAX);
	CHECK(refused_payload(HEAD_BLOCKS("1"), &pl, TAIL, CH_E_BAD_ENCODING));
	/* at the bounds, both pass */
	blocks_payload(&pl, 100, 1);
	put_slice(&pl, lim.max_block, 7);
	put_slice(&pl, max_cert, 2);
	CHECK(accepted_payload(HEAD_BLOCKS("1"), &pl, TAIL));
}

/*
 * An engine message of max_engine bytes passes and one byte more is refused,
 * whatever max_engine is modulo 3 (base64 rounds lengths to 3 bytes).
 */
static void
test_refuse_engine_too_long(void)
{
	for (size_t max = 1023; max <= 1025; max++) {
		struct peer_msg_limits l = lim;
		l.max_engine = max;
		char *ok = consensus_text(max), *over = consensus_text(max + 1);
		struct peer_msg d;
		CHECK(decode_copy(ok, strlen(ok), &l, &d, NULL) == 0 && d.engine_len == max);
		peer_msg_close(&d);
		CHECK(refused_lim(over, strlen(over), &l, 0));
		free(ok);
		free(over);
	}
}

/* A base64 text longer than the type can hold is too large, even if the payload is not valid. */
static void
test_refuse_b64_too_long(void)
{
	struct ch_buf pl;
	status_payload(&pl, 1);
	put_fill(&pl, 8, 0);
	CHECK(refused_payload(HEAD("status"), &pl, TAIL, CH_E_TOO_LARGE));
	CHECK(refused(HEAD("status") "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" TAIL, CH_E_TOO_LARGE));
	CHECK(refused(HEAD("status") "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" TAIL, CH_E_TOO_LARGE));
	char *t = consensus_text(lim.max_engine + 10);
	CHECK(refused(t, CH_E_TOO_LARGE));
	free(t);
	blocks_payload(&pl, 100, 1);
	put_slice(&pl, lim.max_block + PEER_MAX_BLOCKS * (8 + CHAIN_CERT_BYTES(lim.nvalidators)) + 64,
		  1);
	CHECK(refused_payload(HEAD_BLOCKS("1"), &pl, TAIL, CH_E_TOO_LARGE));
}

/* ---- peer_msg_max_len ---- */

/* encoded_len is the length of m's text. */
static size_t
encoded_len(const struct peer_msg *m, const struct peer_msg_limits *l, bool *decodes)
{
	struct ch_buf t;
	ch_buf_init(&t);
	peer_msg_encode(m, &t);
	struct peer_msg d;
	struct ch_err e;
	memset(&d, 0, sizeof(d));
	ch_err_clear(&e);
	*decodes = ch_buf_ok(&t) && peer_msg_decode(t.data, t.len, l, &d, &e) == 0;
	if (!*decodes)
		fprintf(stderr, "  %s of %zu bytes: %s\n", peer_msg_type_name(m->type), t.len, e.msg);
	peer_msg_close(&d);
	size_t n = t.len;
	ch_buf_close(&t);
	return n;
}

/* The longest message of each type that the decoder takes is within peer_msg_max_len. */
static void
test_max_len(void)
{
	struct peer_msg_limits l = {.nvalidators = 7, .max_engine = 100000, .max_block = 200000};
	size_t max = peer_msg_max_len(&l);
	bool ok;

	uint8_t *engine = calloc(1, l.max_engine);
	struct peer_msg cons = {.type = PEER_CONSENSUS, .engine = engine, .engine_len = l.max_engine};
	CHECK(encoded_len(&cons, &l, &ok) <= max && ok);
	free(engine);

	/* PEER_MAX_TXS transactions filling PEER_MAX_TXS_BYTES (one, signed once, repeated) */
	struct chain_tx *txs = malloc(PEER_MAX_TXS * sizeof(*txs));
	sign_set(&txs[0], "c", 0, "n", 0);
	size_t value_len = PEER_MAX_TXS_BYTES / PEER_MAX_TXS - txs[0].size;
	sign_set(&txs[0], "c", 0, "n", value_len);
	CHECK_EQ_INT(txs[0].size, PEER_MAX_TXS_BYTES / PEER_MAX_TXS);
	for (size_t i = 1; i < PEER_MAX_TXS; i++)
		txs[i] = txs[0];
	struct peer_msg tm = {.type = PEER_TXS, .txs = txs, .ntxs = PEER_MAX_TXS};
	size_t tl = encoded_len(&tm, &l, &ok);
	CHECK(tl <= max && ok);
	free(txs);

	struct peer_msg st = {.type = PEER_STATUS, .from = 6, .height = UINT64_MAX, .view = UINT64_MAX};
	CHECK(encoded_len(&st, &l, &ok) <= max && ok);
	struct peer_msg gb = {.type = PEER_GET_BLOCKS, .id = PEER_MAX_ID - 1, .from = 6,
			      .min_height = UINT64_MAX, .max_height = UINT64_MAX};
	CHECK(encoded_len(&gb, &l, &ok) <= max && ok);

	/*
	 * PEER_MAX_BLOCKS blocks adding up to one largest block (what an answer
	 * holds, node/sync.c), every certificate full
	 */
	size_t cert_len = CHAIN_CERT_BYTES(l.nvalidators), small = 8;
	size_t first = l.max_block - (PEER_MAX_BLOCKS - 1) * small;
	uint8_t *big = calloc(1, l.max_block), *cert = calloc(1, cert_len);
	struct peer_block pb[PEER_MAX_BLOCKS];
	pb[0] = (struct peer_block){big, first, cert, cert_len};
	for (int i = 1; i < PEER_MAX_BLOCKS; i++)
		pb[i] = (struct peer_block){big, small, cert, cert_len};
	struct peer_msg bm = {.type = PEER_BLOCKS, .id = PEER_MAX_ID - 1, .height = UINT64_MAX,
			      .blocks = pb, .nblocks = PEER_MAX_BLOCKS};
	CHECK(encoded_len(&bm, &l, &ok) <= max && ok);
	/* and the largest block alone */
	pb[0].block_len = l.max_block;
	bm.nblocks = 1;
	CHECK(encoded_len(&bm, &l, &ok) <= max && ok);
	free(big);
	free(cert);
}

/* Type names are the method names; anything else is "unknown". */
static void
test_type_names(void)
{
	CHECK(strcmp(peer_msg_type_name(PEER_CONSENSUS), "consensus") == 0);
	CHECK(strcmp(peer_msg_type_name(PEER_TXS), "txs") == 0);
	CHECK(strcmp(peer_msg_type_name(PEER_STATUS), "status") == 0);
	CHECK(strcmp(peer_msg_type_name(PEER_GET_BLOCKS), "get_blocks") == 0);
	CHECK(strcmp(peer_msg_type_name(PEER_BLOCKS), "blocks") == 0);
	CHECK(strcmp(peer_msg_type_name(0), "unknown") == 0);
	CHECK(strcmp(peer_msg_type_name(6), "unknown") == 0);
	peer_msg_close(NULL);
}

int
main(void)
{
	key = test_key("account", 0);
#if HAVE_MALLOC_HOOK
	__sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
#endif
	RUN(test_roundtrip_consensus);
	RUN(test_roundtrip_txs);
	RUN(test_roundtrip_status);
	RUN(test_roundtrip_get_blocks);
	RUN(test_roundtrip_blocks);
	RUN(test_roundtrip_blocks_empty);
	RUN(test_text_notifications);
	RUN(test_text_request_and_answer);
	RUN(test_payload_layout);
	RUN(test_decode_reordered);
	RUN(test_refuse_not_jsonrpc);
	RUN(test_refuse_text_after_object);
	RUN(test_refuse_unknown_method);
	RUN(test_refuse_type_mismatch);
	RUN(test_refuse_id_presence);
	RUN(test_refuse_bad_ids);
	RUN(test_refuse_bad_msg);
	RUN(test_refuse_version);
	RUN(test_refuse_trailing_and_short);
	RUN(test_refuse_from_not_validator);
	RUN(test_refuse_txs_count);
	RUN(test_refuse_txs_count_before_alloc);
	RUN(test_refuse_tx_cut_short);
	RUN(test_refuse_txs_too_many_bytes);
	RUN(test_refuse_blocks_count);
	RUN(test_refuse_block_too_long);
	RUN(test_refuse_engine_too_long);
	RUN(test_refuse_b64_too_long);
	RUN(test_max_len);
	RUN(test_type_names);
	cr_key_free(key);
	return TEST_DONE();
}
