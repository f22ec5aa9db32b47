/* The peer protocol's encoder and decoder (peer_msg.h). */
#include "node/peer_msg.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "chain/block.h"
#include "common/num.h"
#include "crypto/crypto.h"

static const char *const type_names[] = {
	[PEER_CONSENSUS] = "consensus",   [PEER_TXS] = "txs",       [PEER_STATUS] = "status",
	[PEER_GET_BLOCKS] = "get_blocks", [PEER_BLOCKS] = "blocks",
};

const char *
peer_msg_type_name(uint8_t type)
{
	return type >= PEER_CONSENSUS && type <= PEER_BLOCKS ? type_names[type] : "unknown";
}

/* max_payload: the longest valid payload of type under lim. */
static size_t
max_payload(uint8_t type, const struct peer_msg_limits *lim)
{
	switch (type) {
	case PEER_CONSENSUS:
		return 2 + lim->max_engine;
	case PEER_TXS:
		return 2 + 4 + 2 * (size_t)PEER_MAX_TXS + PEER_MAX_TXS_BYTES;
	case PEER_STATUS:
		return 2 + 2 + 8 + 8;
	case PEER_GET_BLOCKS:
		return 2 + 2 + 8 + 8 + CR_PUBKEY_LEN;
	case PEER_BLOCKS: /* an answer holds at most one largest block's worth of blocks */
		return 2 + 8 + 2 + lim->max_block +
		       PEER_MAX_BLOCKS * (8 + CHAIN_CERT_BYTES(lim->nvalidators));
	}
	return 0;
}

static size_t
b64_len(size_t n)
{
	return 4 * ((n + 2) / 3);
}

/* The envelope around the base64 of a payload, id and all, fits in this. */
#define ENVELOPE_MAX 128

size_t
peer_msg_max_len(const struct peer_msg_limits *lim)
{
	size_t most = 0;
	for (uint8_t t = PEER_CONSENSUS; t <= PEER_BLOCKS; t++)
		if (max_payload(t, lim) > most)
			most = max_payload(t, lim);
	return ENVELOPE_MAX + b64_len(most);
}

/* ---- encoding ---- */

/* encodable: are m's counts and lengths within what the format can hold? */
static bool
encodable(const struct peer_msg *m)
{
	if (m->type < PEER_CONSENSUS || m->type > PEER_BLOCKS || m->from > UINT16_MAX ||
	    m->ntxs > PEER_MAX_TXS || m->nblocks > PEER_MAX_BLOCKS || m->id >= PEER_MAX_ID)
		return false;
	for (uint32_t i = 0; i < m->ntxs; i++)
		if (m->txs[i].size > CHAIN_MAX_TX_BYTES)
			return false;
	for (uint32_t i = 0; i < m->nblocks; i++)
		if (m->blocks[i].block_len > UINT32_MAX || m->blocks[i].cert_len > UINT32_MAX)
			return false;
	return true;
}

void
peer_msg_encode_payload(const struct peer_msg *m, struct ch_buf *b)
{
	if (!encodable(m)) {
		b->oom = true;
		return;
	}
	ch_buf_u8(b, PEER_MSG_VERSION);
	ch_buf_u8(b, m->type);
	switch (m->type) {
	case PEER_CONSENSUS:
		ch_buf_put(b, m->engine, m->engine_len);
		break;
	case PEER_TXS: {
		ch_buf_u32(b, m->ntxs);
		struct ch_buf enc;
		ch_buf_init(&enc);
		for (uint32_t i = 0; i < m->ntxs; i++) {
			ch_buf_reset(&enc);
			chain_tx_encode(&m->txs[i], &enc);
			ch_buf_u16(b, (uint16_t)enc.len);
			ch_buf_put(b, enc.data, enc.len);
			if (!ch_buf_ok(&enc))
				b->oom = true;
		}
		ch_buf_close(&enc);
		break;
	}
	case PEER_STATUS:
		ch_buf_u16(b, (uint16_t)m->from);
		ch_buf_u64(b, m->height);
		ch_buf_u64(b, m->view);
		break;
	case PEER_GET_BLOCKS:
		ch_buf_u16(b, (uint16_t)m->from);
		ch_buf_u64(b, m->min_height);
		ch_buf_u64(b, m->max_height);
		if (m->from == PEER_FROM_KEY)
			ch_buf_put(b, m->pub, CR_PUBKEY_LEN);
		break;
	case PEER_BLOCKS:
		ch_buf_u64(b, m->height);
		ch_buf_u16(b, (uint16_t)m->nblocks);
		for (uint32_t i = 0; i < m->nblocks; i++) {
			ch_buf_u32(b, (uint32_t)m->blocks[i].block_len);
			ch_buf_put(b, m->blocks[i].block, m->blocks[i].block_len);
			ch_buf_u32(b, (uint32_t)m->blocks[i].cert_len);
			ch_buf_put(b, m->blocks[i].cert, m->blocks[i].cert_len);
		}
		break;
	}
}

void
peer_msg_wrap(uint8_t type, uint64_t id, const uint8_t *payload, size_t len, struct ch_buf *out)
{
	char head[ENVELOPE_MAX];
	int hl;
	if (type == PEER_BLOCKS)
		hl = snprintf(head, sizeof(head),
			      "{\"jsonrpc\":\"2.0\",\"id\":%" PRIu64 ",\"result\":{\"msg\":\"", id);
	else if (type == PEER_GET_BLOCKS)
		hl = snprintf(head, sizeof(head),
			      "{\"jsonrpc\":\"2.0\",\"id\":%" PRIu64
			      ",\"method\":\"get_blocks\",\"params\":{\"msg\":\"",
			      id);
	else
		hl = snprintf(head, sizeof(head),
			      "{\"jsonrpc\":\"2.0\",\"method\":\"%s\",\"params\":{\"msg\":\"",
			      type == PEER_TXS || type == PEER_STATUS ? peer_msg_type_name(type)
								    : "consensus");
	size_t n = b64_len(len);
	if (!ch_buf_reserve(out, (size_t)hl + n + 4)) {
		out->oom = true;
		return;
	}
	ch_buf_put(out, head, (size_t)hl);
	cr_base64_encode(payload, len, (char *)out->data + out->len);
	out->len += n;
	ch_buf_put(out, "\"}}", 3);
}

void
peer_msg_encode(const struct peer_msg *m, struct ch_buf *out)
{
	struct ch_buf pl;
	ch_buf_init(&pl);
	peer_msg_encode_payload(m, &pl);
	if (ch_buf_ok(&pl))
		peer_msg_wrap(m->type, m->id, pl.data, pl.len, out);
	else
		out->oom = true;
	ch_buf_close(&pl);
}

/* ---- decoding ---- */

static int
bad(struct ch_err *err, const char *what)
{
	return ch_errf(err, CH_E_BAD_ENCODING, "peer message: %s", what);
}

static int
decode_txs(struct ch_rd *r, struct peer_msg *m, struct ch_err *err)
{
	uint32_t n = ch_rd_u32(r);
	if (r->bad || n == 0 || n > PEER_MAX_TXS)
		return bad(err, "txs: count out of range");
	/* checked before allocating, so a short message cannot ask for a large array */
	if ((size_t)n * (2 + CHAIN_MIN_TX_BYTES) > ch_rd_left(r))
		return bad(err, "txs: more transactions than bytes");
	if (ch_rd_left(r) > 2 * (size_t)n + PEER_MAX_TXS_BYTES)
		return ch_errf(err, CH_E_TOO_LARGE, "peer message: txs: over %u bytes",
			       PEER_MAX_TXS_BYTES);
	/* the array grows with what decodes, so a bad entry early costs little */
	uint32_t cap = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint16_t len = ch_rd_u16(r);
		const uint8_t *p = ch_rd_ptr(r, len);
		if (p == NULL || len > CHAIN_MAX_TX_BYTES)
			return bad(err, "txs: a transaction is cut short or too long");
		if (i == cap) {
			cap = cap ? (2 * cap < n ? 2 * cap : n) : (n < 16 ? n : 16);
			struct chain_tx *t = realloc(m->txs, cap * sizeof(*t));
			if (t == NULL)
				return ch_errf(err, CH_E_NOMEM, "out of memory");
			m->txs = t;
		}
		int rc = chain_tx_decode(p, len, &m->txs[i], err);
		if (rc != 0)
			return ch_err_wrap(err, rc, "peer message: txs[%u]", i);
		m->ntxs = i + 1;
	}
	m->mem += cap * sizeof(*m->txs);
	return 0;
}

/* slice reads a u32 length and that many bytes, at most max. */
static const uint8_t *
slice(struct ch_rd *r, size_t max, size_t *len)
{
	uint32_t n = ch_rd_u32(r);
	*len = n;
	return r->bad || n > max ? NULL : ch_rd_ptr(r, n);
}

static int
decode_blocks(struct ch_rd *r, const struct peer_msg_limits *lim, struct peer_msg *m,
	      struct ch_err *err)
{
	m->height = ch_rd_u64(r);
	uint16_t n = ch_rd_u16(r);
	if (r->bad || n > PEER_MAX_BLOCKS)
		return bad(err, "blocks: count out of range");
	if (n > 0 && (m->blocks = calloc(n, sizeof(*m->blocks))) == NULL)
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	m->mem += n * sizeof(*m->blocks);
	size_t max_cert = CHAIN_CERT_BYTES(lim->nvalidators);
	for (uint16_t i = 0; i < n; i++) {
		struct peer_block *b = &m->blocks[i];
		if ((b->block = slice(r, lim->max_block, &b->block_len)) == NULL ||
		    (b->cert = slice(r, max_cert, &b->cert_len)) == NULL)
			return bad(err, "blocks: a block or certificate is cut short or too long");
		m->nblocks = i + 1u;
	}
	return 0;
}

/* decode_payload reads the binary payload of a message of type want. */
static int
decode_payload(const uint8_t *p, size_t len, uint8_t want, const struct peer_msg_limits *lim,
	       struct peer_msg *m, struct ch_err *err)
{
	struct ch_rd r;
	ch_rd_init(&r, p, len);
	uint8_t version = ch_rd_u8(&r), type = ch_rd_u8(&r);
	if (r.bad || version != PEER_MSG_VERSION)
		return bad(err, "unknown payload version");
	if (type != want)
		return bad(err, "the payload's type is not the method's");
	m->type = type;
	int rc = 0;
	switch (type) {
	case PEER_CONSENSUS:
		m->engine_len = ch_rd_left(&r);
		m->engine = ch_rd_ptr(&r, m->engine_len);
		if (m->engine_len == 0)
			rc = bad(err, "consensus: empty");
		break;
	case PEER_TXS:
		rc = decode_txs(&r, m, err);
		break;
	case PEER_STATUS:
	case PEER_GET_BLOCKS:
		m->from = ch_rd_u16(&r);
		if (type == PEER_STATUS) {
			m->height = ch_rd_u64(&r);
			m->view = ch_rd_u64(&r);
		} else {
			m->min_height = ch_rd_u64(&r);
			m->max_height = ch_rd_u64(&r);
			if (m->from == PEER_FROM_KEY)
				ch_rd_copy(&r, m->pub, CR_PUBKEY_LEN);
		}
		if (!r.bad && m->from >= lim->nvalidators &&
		    !(type == PEER_GET_BLOCKS && m->from == PEER_FROM_KEY))
			rc = bad(err, "from names no validator");
		break;
	case PEER_BLOCKS:
		rc = decode_blocks(&r, lim, m, err);
		break;
	}
	if (rc == 0 && !ch_rd_done(&r))
		rc = bad(err, r.bad ? "payload cut short" : "trailing bytes in the payload");
	return rc;
}

/* method_type maps a JSON-RPC method name to its type (0 if unknown); get_blocks needs an id. */
static uint8_t
method_type(const char *method)
{
	for (uint8_t t = PEER_CONSENSUS; t <= PEER_GET_BLOCKS; t++)
		if (strcmp(method, type_names[t]) == 0)
			return t;
	return 0;
}

/* envelope finds the message's type, id and base64 payload in a parsed JSON-RPC object. */
static int
envelope(const cJSON *root, uint8_t *type, uint64_t *id, const char **b64, struct ch_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "jsonrpc");
	const cJSON *method = cJSON_GetObjectItemCaseSensitive(root, "method");
	const cJSON *jid = cJSON_GetObjectItemCaseSensitive(root, "id");
	const cJSON *body;
	if (!cJSON_IsObject(root) || !cJSON_IsString(v) || strcmp(v->valuestring, "2.0") != 0)
		return bad(err, "not a JSON-RPC 2.0 object");
	if (cJSON_IsString(method)) {
		*type = method_type(method->valuestring);
		body = cJSON_GetObjectItemCaseSensitive(root, "params");
		if (*type == 0)
			return bad(err, "unknown method");
	} else if (method == NULL) {
		*type = PEER_BLOCKS;
		body = cJSON_GetObjectItemCaseSensitive(root, "result");
	} else {
		return bad(err, "method is not a string");
	}
	bool want_id = *type == PEER_GET_BLOCKS || *type == PEER_BLOCKS;
	if (want_id != (jid != NULL))
		return bad(err, want_id ? "a request or answer without an id" : "a notification with an id");
	if (want_id && (!cJSON_IsNumber(jid) || !ch_double_u64(jid->valuedouble, id) ||
			*id >= PEER_MAX_ID))
		return bad(err, "id is not a whole number below 2^53");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(body, "msg");
	if (!cJSON_IsObject(body) || !cJSON_IsString(msg))
		return bad(err, "no \"msg\" string");
	*b64 = msg->valuestring;
	return 0;
}

int
peer_msg_decode(const uint8_t *text, size_t len, const struct peer_msg_limits *lim,
		struct peer_msg *m, struct ch_err *err)
{
	memset(m, 0, sizeof(*m));
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts((const char *)text, len, &end, false);
	if (root == NULL)
		return bad(err, "not JSON");
	for (; end != NULL && end < (const char *)text + len; end++)
		if (*end != ' ' && *end != '\t' && *end != '\n' && *end != '\r') {
			cJSON_Delete(root);
			return bad(err, "text after the JSON object");
		}
	uint8_t type = 0;
	uint64_t id = 0;
	const char *b64 = NULL;
	int rc = envelope(root, &type, &id, &b64, err);
	size_t blen = rc == 0 ? strlen(b64) : 0, cap = rc == 0 ? max_payload(type, lim) : 0;
	if (rc == 0 && blen > b64_len(cap))
		rc = ch_errf(err, CH_E_TOO_LARGE, "peer message: %s over %zu bytes",
			     peer_msg_type_name(type), cap);
	if (rc == 0 && (m->payload = malloc(blen / 4 * 3 + 1)) == NULL)
		rc = ch_errf(err, CH_E_NOMEM, "out of memory");
	size_t plen = 0;
	if (rc == 0 && cr_base64_decode(b64, blen, m->payload, blen / 4 * 3 + 1, &plen) != 0)
		rc = bad(err, "msg is not base64");
	cJSON_Delete(root);
	if (rc == 0) {
		m->mem = plen + sizeof(*m);
		m->id = id;
		rc = decode_payload(m->payload, plen, type, lim, m, err);
	}
	if (rc == 0 && plen > cap) /* the base64 bound rounds up to whole groups of three */
		rc = ch_errf(err, CH_E_TOO_LARGE, "peer message: %s over %zu bytes",
			     peer_msg_type_name(type), cap);
	if (rc != 0)
		peer_msg_close(m);
	return rc;
}

void
peer_msg_close(struct peer_msg *m)
{
	if (m == NULL)
		return;
	free(m->txs);
	free(m->blocks);
	free(m->payload);
	memset(m, 0, sizeof(*m));
}
