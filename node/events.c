/* Events from committed blocks (events.h). */
#include "node/events.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "chain/block.h"
#include "common/buf.h"
#include "common/num.h"
#include "node/json_view.h"

bool
node_events_parse_id(const char *id, uint64_t *height, uint32_t *ordinal)
{
	char h[24], o[16];
	const char *dash = id != NULL ? strchr(id, '-') : NULL;
	uint64_t v;
	if (dash == NULL || (size_t)(dash - id) >= sizeof(h) || strlen(dash + 1) >= sizeof(o))
		return false;
	memcpy(h, id, (size_t)(dash - id));
	h[dash - id] = '\0';
	strcpy(o, dash + 1);
	if (!ch_parse_u64(h, height) || !ch_parse_u64(o, &v) || v > UINT32_MAX)
		return false;
	*ordinal = (uint32_t)v;
	return true;
}

static void
make_id(char *id, size_t size, uint64_t height, uint32_t ordinal)
{
	snprintf(id, size, "%" PRIu64 "-%" PRIu32, height, ordinal);
}

static cJSON *
block_event(const struct chain_block *b, const char *id)
{
	const struct chain_header *h = &b->header;
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "kind", "block");
	cJSON_AddStringToObject(j, "id", id);
	cJSON_AddNumberToObject(j, "height", (double)h->height);
	node_json_add_hex(j, "hash", b->hash, CR_HASH_LEN);
	node_json_add_hex(j, "prev_hash", h->prev_hash, CR_HASH_LEN);
	cJSON_AddNumberToObject(j, "time_ms", (double)h->time_ms);
	cJSON_AddNumberToObject(j, "proposer", h->proposer);
	cJSON_AddNumberToObject(j, "view", (double)h->view);
	cJSON_AddNumberToObject(j, "tx_count", h->tx_count);
	node_json_add_hex(j, "tx_root", h->tx_root, CR_HASH_LEN);
	return j;
}

static cJSON *
tx_event(const struct chain_block *b, uint32_t index, const char *id)
{
	const struct chain_tx *tx = &b->txs[index];
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "kind", "tx");
	cJSON_AddStringToObject(j, "id", id);
	cJSON_AddNumberToObject(j, "height", (double)b->header.height);
	cJSON_AddNumberToObject(j, "index", index);
	node_json_add_hex(j, "hash", tx->hash, CR_HASH_LEN);
	cJSON_AddItemToObject(j, "tx", node_json_tx(tx));
	return j;
}

static bool
tx_matches(const struct node_events_query *q, const struct chain_tx *tx)
{
	if (!q->has_account)
		return true;
	if (memcmp(tx->sender, q->account, CR_ADDR_LEN) == 0)
		return true;
	return tx->type == CHAIN_TX_TRANSFER && memcmp(tx->to, q->account, CR_ADDR_LEN) == 0;
}

/* matching counts the events of b that q wants (after ordinal `after` in it). */
static size_t
matching(const struct node_events_query *q, const struct chain_block *b, int64_t after)
{
	size_t n = (q->kinds & NODE_EV_BLOCK) && after < 0;
	for (uint32_t i = 0; (q->kinds & NODE_EV_TX) && i < b->header.tx_count; i++)
		n += (int64_t)i + 1 > after && tx_matches(q, &b->txs[i]);
	return n;
}

/* block_events calls fn for the matching events of b; *count grows by their number. */
static int
block_events(const struct node_events_query *q, const struct chain_block *b, int64_t after,
	     node_event_fn fn, void *arg, size_t *count)
{
	char id[48];
	int rc = 0;
	if ((q->kinds & NODE_EV_BLOCK) && after < 0) {
		make_id(id, sizeof(id), b->header.height, 0);
		cJSON *ev = block_event(b, id);
		if (ev == NULL)
			return CH_E_NOMEM;
		if ((rc = fn(arg, "block", id, ev)) != 0)
			return rc;
		++*count;
	}
	if (!(q->kinds & NODE_EV_TX))
		return 0;
	for (uint32_t i = 0; i < b->header.tx_count; i++) {
		if ((int64_t)i + 1 <= after || !tx_matches(q, &b->txs[i]))
			continue;
		make_id(id, sizeof(id), b->header.height, i + 1);
		cJSON *ev = tx_event(b, i, id);
		if (ev == NULL)
			return CH_E_NOMEM;
		if ((rc = fn(arg, "tx", id, ev)) != 0)
			return rc;
		++*count;
	}
	return 0;
}

int
node_events_scan(struct chain_store *s, uint64_t tip, const struct node_events_query *q,
		 size_t max_events, node_event_fn fn, void *arg, uint64_t *next_height,
		 struct ch_err *err)
{
	struct ch_buf raw;
	size_t count = 0;
	int rc = 0;
	uint64_t h = q->from_height;
	ch_buf_init(&raw);
	for (; h <= tip && h < q->from_height + NODE_EVENTS_SCAN_BLOCKS && count < max_events; h++) {
		struct chain_block b;
		ch_buf_reset(&raw);
		if ((rc = chain_store_block(s, h, &raw, NULL, err)) != 0)
			break;
		if ((rc = chain_block_decode(raw.data, raw.len, &b, err)) != 0) {
			rc = ch_err_wrap(err, CH_E_CORRUPT, "stored block %" PRIu64, h);
			break;
		}
		int64_t after = h == q->from_height ? q->after_ordinal : -1;
		size_t n = matching(q, &b, after);
		if (count > 0 && count + n > max_events) {
			chain_block_close(&b);
			break; /* the next answer starts with this block */
		}
		rc = block_events(q, &b, after, fn, arg, &count);
		chain_block_close(&b);
		if (rc != 0) {
			ch_errf(err, rc, "%s", ch_strerror(rc));
			break;
		}
	}
	ch_buf_close(&raw);
	*next_height = h;
	return rc;
}
