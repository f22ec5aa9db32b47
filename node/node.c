/*
 * The node loop: one thread owns the store, the mempool and the chain tip.
 * nng's HTTP threads only queue requests here; answers go back through
 * rpc_http_reply. Blocks are cut from the mempool, executed into an
 * overlay, certified and committed in one synced RocksDB batch.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "node/log.h"
#ifdef CHAIN_BYZANTINE
#include "node/byzantine.h"
#endif
#include "node/node.h"
#include "node/node_internal.h"
#include "pbft/pbft.h"

static void
hex_prefix(const uint8_t *h, char out[17])
{
	cr_hex_encode(h, 8, out);
}

/* ---- open / close ---- */

static int
apply_genesis(struct node *n, struct ch_err *err)
{
	bool applied = false;
	uint8_t hash[CR_HASH_LEN];
	int rc = chain_store_genesis(n->store, &applied, hash, err);
	if (rc != 0)
		return rc;
	if (applied) {
		if (memcmp(hash, n->genesis.hash, CR_HASH_LEN) != 0)
			return ch_errf(err, CH_E_CONFIG,
				       "%s holds a chain with another genesis than %s; "
				       "use a fresh data directory",
				       n->cfg.data_dir, n->cfg.genesis_file);
		return 0;
	}
	struct chain_state_reader rd = chain_store_reader(n->store);
	struct chain_exec *x = NULL;
	if ((rc = chain_exec_new(&x, &rd)) != 0)
		return ch_errf(err, rc, "out of memory");
	for (size_t i = 0; i < n->genesis.naccounts && rc == 0; i++)
		rc = chain_exec_credit(x, n->genesis.accounts[i].address,
				       n->genesis.accounts[i].balance, err);
	if (rc == 0) {
		uint8_t zero[CR_HASH_LEN] = {0}, digest[CR_HASH_LEN];
		chain_exec_digest(x, zero, digest);
		rc = chain_store_apply_genesis(n->store, n->genesis.hash, x, digest,
					       n->genesis.genesis_time_ms, err);
	}
	chain_exec_free(x);
	if (rc == 0)
		log_info("applied genesis of chain %s: %zu accounts, %zu validators",
			 n->genesis.chain_id, n->genesis.naccounts, n->genesis.nvalidators);
	return rc;
}

/*
 * disk_space checks that the file system holding the data directory has
 * min_free_disk_mb free. RocksDB does not survive running out of space
 * (Debian's build asserts on a write after a failed log write), so the
 * node stops before that, with a message.
 */
static int
disk_space(struct node *n, struct ch_err *err)
{
	struct statvfs st;
	uint64_t need = (uint64_t)n->cfg.min_free_disk_mb << 20;
	if (need == 0 || statvfs(n->cfg.data_dir, &st) != 0)
		return 0; /* no check, or the store reports what is wrong with the directory */
	uint64_t avail = (uint64_t)st.f_bavail * st.f_frsize;
	if (avail >= need)
		return 0;
	return ch_errf(err, CH_E_IO,
		       "the disk holding %s is full: %" PRIu64 " MiB free, below min_free_disk_mb "
		       "(%u); free some space and start again",
		       n->cfg.data_dir, avail >> 20, n->cfg.min_free_disk_mb);
}

/*
 * open_store opens the data directory and reads all of it once, checksums
 * included, so that a damaged directory stops the node now, with a message
 * that says what to do, rather than when a damaged record is needed.
 */
static int
open_store(struct node *n, struct ch_err *err)
{
	uint64_t t0 = node_mono_ms(), keys = 0;
	/* before RocksDB writes anything; a new directory is checked once the loop runs */
	int rc = disk_space(n, err);
	if (rc == 0)
		rc = chain_store_open(&n->store, n->cfg.data_dir, err);
	if (rc == 0)
		rc = chain_store_verify(n->store, &keys, err);
	if (rc != 0 && err != NULL && strstr(err->msg, "Corruption") != NULL) {
		char msg[CH_ERRMSG_MAX];
		snprintf(msg, sizeof(msg), "%s", err->msg);
		return ch_errf(err, CH_E_DB,
			       "the data directory %s is damaged; move it away and start again to "
			       "sync it from the other validators (%.150s)",
			       n->cfg.data_dir, msg);
	}
	if (rc == 0)
		log_info("store %s: %" PRIu64 " records checked in %" PRIu64 " ms",
			 n->cfg.data_dir, keys, node_mono_ms() - t0);
	return rc;
}

int
node_open(struct node **out, const char *home, struct ch_err *err)
{
	struct node *n = calloc(1, sizeof(*n));
	if (n == NULL)
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	pthread_mutex_init(&n->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&n->cv, &ca);
	pthread_condattr_destroy(&ca);
	n->validator_index = -1;

	int rc;
	if ((rc = node_config_load(&n->cfg, home, err)) != 0 ||
	    (rc = node_genesis_load(&n->genesis, n->cfg.genesis_file, err)) != 0 ||
	    (rc = cr_key_load_pem(&n->key, n->cfg.key_file, err)) != 0)
		goto fail;
	cr_key_pubkey(n->key, n->pub_key);
	for (size_t i = 0; i < n->genesis.nvalidators; i++)
		if (memcmp(n->genesis.validators[i].pub_key, n->pub_key, CR_PUBKEY_LEN) == 0)
			n->validator_index = (int)i;
	for (size_t i = 0; i < n->genesis.nvalidators; i++) {
		memcpy(n->validator_keys[i], n->genesis.validators[i].pub_key, CR_PUBKEY_LEN);
		if ((rc = cr_pubkey_parse(&n->pubkeys[i], n->genesis.validators[i].pub_key, err)) != 0)
			goto fail;
	}
	if (n->validator_index < 0) {
		rc = ch_errf(err, CH_E_CONFIG, "the key in %s is not a validator of %s",
			     n->cfg.key_file, n->cfg.genesis_file);
		goto fail;
	}
	if ((rc = open_store(n, err)) != 0 || (rc = apply_genesis(n, err)) != 0 ||
	    (rc = chain_store_tip(n->store, &n->tip, err)) != 0)
		goto fail;
	struct chain_mempool_config mc = {
		.max_txs = n->cfg.mempool_max_txs,
		.max_bytes = n->cfg.mempool_max_bytes,
		.ttl_ms = n->cfg.mempool_ttl_ms,
		.max_nonce_gap = n->cfg.mempool_max_nonce_gap,
	};
	if ((rc = chain_mempool_new(&n->mempool, &mc)) != 0 ||
	    (rc = chain_sigcache_new(&n->sigcache, NODE_SIGCACHE_ENTRIES)) != 0) {
		ch_errf(err, rc, "out of memory");
		goto fail;
	}
	if ((rc = node_consensus_open(n, err)) != 0)
		goto fail;
#ifdef CHAIN_BYZANTINE
	const char *byz = getenv("CHAIND_BYZANTINE");
	if (byz != NULL && (rc = node_byz_new(&n->byz, byz, err)) != 0)
		goto fail;
	if (n->byz != NULL)
		log_warn("Byzantine test build: this validator misbehaves (%s)", node_byz_name(n->byz));
#endif
	char h[17];
	hex_prefix(n->tip.hash, h);
	log_info("node %s (validator %d) of chain %s at height %" PRIu64 " (%s...)",
		 n->cfg.moniker, n->validator_index, n->genesis.chain_id, n->tip.height,
		 n->tip.height ? h : "genesis");
	*out = n;
	return 0;
fail:
	node_close(n);
	return rc;
}

const char *
node_stop_phase(struct node *n)
{
	return atomic_load(&n->stop_phase);
}

void
node_close(struct node *n)
{
	if (n == NULL)
		return;
	node_consensus_close(n);
#ifdef CHAIN_BYZANTINE
	node_byz_free(n->byz);
#endif
	for (size_t i = 0; i < CHAIN_MAX_VALIDATORS; i++)
		cr_pubkey_free(n->pubkeys[i]);
	ch_buf_close(&n->gossip);
	chain_mempool_free(n->mempool);
	chain_sigcache_free(n->sigcache);
	chain_store_close(n->store);
	cr_key_free(n->key);
	node_genesis_close(&n->genesis);
	pthread_cond_destroy(&n->cv);
	pthread_mutex_destroy(&n->mu);
	free(n);
}

/* ---- the queue ---- */

static void
reply_error(struct rpc_http_req *req, int http_status, int code, const char *msg)
{
	char body[256];
	int len = snprintf(body, sizeof(body),
			   "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":%d,\"message\":\"%s\"}}",
			   code, msg);
	rpc_http_reply(req, http_status, NULL, body, (size_t)len);
}

/* event_discard answers a request with "shutting down" (or frees a peer message) and frees ev. */
static void
event_discard(struct node_event *ev, const char *why)
{
	if (ev->req != NULL)
		reply_error(ev->req, 503, ch_rpc_code(CH_E_UNAVAILABLE), why);
	else
		free((void *)ev->body);
	if (ev->pending != NULL)
		node_pending_free(ev->pending);
	cJSON_Delete(ev->root);
	free(ev);
}

/*
 * node_event_push hands an event to the loop. While the node stops it
 * answers "shutting down" instead; peer messages beyond the queue's bounds
 * (node_internal.h) are dropped, so a flood cannot grow memory.
 */
void
node_event_push(struct node *n, struct node_event *ev)
{
	pthread_mutex_lock(&n->mu);
	bool queued = !n->stopping && node_queue_push(&n->queue, ev);
	if (queued)
		pthread_cond_signal(&n->cv);
	else if (ev->req == NULL)
		n->peer_dropped++;
	pthread_mutex_unlock(&n->mu);
	if (!queued)
		event_discard(ev, "node is shutting down");
}

/* is_peer_txs: a peer's transaction gossip, which goes through the preparation stage. */
static bool
is_peer_txs(const char *body, size_t len)
{
	static const char head[] = "{\"jsonrpc\":\"2.0\",\"method\":\"txs\"";
	return len >= sizeof(head) - 1 && memcmp(body, head, sizeof(head) - 1) == 0;
}

/*
 * enqueue (on an nng thread) sends client requests and peer transaction
 * gossip through the preparation stage, and everything else straight to
 * the loop. False if out of memory (the caller keeps body).
 */
static bool
enqueue(struct node *n, const char *body, size_t len, struct rpc_http_req *req)
{
	struct node_event *ev = calloc(1, sizeof(*ev));
	if (ev == NULL)
		return false;
	ev->req = req;
	ev->body = body;
	ev->len = len;
	if (n->prep != NULL && (req != NULL || is_peer_txs(body, len)) &&
	    node_prep_submit(n->prep, ev))
		return true;
	node_event_push(n, ev);
	return true;
}

static void
on_http(void *arg, struct rpc_http_req *req, const char *body, size_t len)
{
	if (!enqueue(arg, body, len, req))
		reply_error(req, 503, ch_rpc_code(CH_E_NOMEM), "node is out of memory");
}

void
node_stop(struct node *n)
{
	pthread_mutex_lock(&n->mu);
	n->stopping = true;
	pthread_cond_signal(&n->cv);
	pthread_mutex_unlock(&n->mu);
}

/* ---- requests ---- */

void
node_pending_maybe_finish(struct node *n, struct node_pending *p)
{
	(void)n;
	if (p->waiting > 0)
		return;
	size_t len = 0;
	char *body = rpc_request_render(&p->rpc, &len);
	if (body == NULL && len == 0)
		rpc_http_reply(p->req, 204, NULL, NULL, 0);
	else if (body == NULL)
		reply_error(p->req, 500, ch_rpc_code(CH_E_NOMEM), "out of memory");
	else
		rpc_http_reply(p->req, 200, NULL, body, len);
	free(body);
	node_pending_free(p);
}

void
node_pending_free(struct node_pending *p)
{
	for (size_t i = 0; p->txs != NULL && i < p->rpc.ncalls; i++)
		free(p->txs[i]);
	free(p->txs);
	rpc_request_close(&p->rpc);
	free(p);
}

static void
handle_event(struct node *n, struct node_event *ev)
{
	if (ev->pending != NULL) { /* parsed by the preparation stage */
		node_handle_request(n, ev->pending);
		node_pending_maybe_finish(n, ev->pending);
		ev->pending = NULL;
		return;
	}
	struct node_pending *p = calloc(1, sizeof(*p));
	if (p == NULL) {
		reply_error(ev->req, 503, ch_rpc_code(CH_E_NOMEM), "out of memory");
		return;
	}
	p->req = ev->req;
	if (rpc_request_parse(&p->rpc, ev->body, ev->len) != 0) {
		reply_error(ev->req, 503, ch_rpc_code(CH_E_NOMEM), "out of memory");
		free(p);
		return;
	}
	node_handle_request(n, p);
	node_pending_maybe_finish(n, p);
}

/* ---- transactions ---- */

int
node_nonce_of(void *arg, const uint8_t addr[CR_ADDR_LEN], uint64_t *nonce)
{
	struct node *n = arg;
	struct chain_state_reader rd = chain_store_reader(n->store);
	struct chain_account a;
	int rc = rd.get_account(rd.arg, addr, &a, NULL);
	if (rc == 0)
		*nonce = a.nonce;
	return rc;
}

int
node_tx_committed(struct node *n, const uint8_t hash[CR_HASH_LEN], uint64_t *height,
		  uint32_t *index)
{
	return chain_store_tx_location(n->store, hash, height, index, NULL) == 0;
}

const struct node_dropped *
node_tx_dropped(struct node *n, const uint8_t hash[CR_HASH_LEN])
{
	size_t have = n->ndropped < NODE_DROPPED_RING ? n->ndropped : NODE_DROPPED_RING;
	for (size_t i = 0; i < have; i++)
		if (memcmp(n->dropped[i].hash, hash, CR_HASH_LEN) == 0)
			return &n->dropped[i];
	return NULL;
}

int
node_admit_tx(struct node *n, const struct chain_tx *tx, struct ch_err *err)
{
	if (strcmp(tx->chain_id, n->genesis.chain_id) != 0)
		return ch_errf(err, CH_E_WRONG_CHAIN,
			       "transaction is for chain \"%s\" but this node serves chain \"%s\"",
			       tx->chain_id, n->genesis.chain_id);
	struct chain_state_reader rd = chain_store_reader(n->store);
	struct chain_account a;
	int rc = rd.get_account(rd.arg, tx->sender, &a, err);
	if (rc != 0)
		return rc;
	if (tx->nonce < a.nonce)
		return ch_errf(err, CH_E_NONCE_TOO_LOW,
			       "nonce %" PRIu64 " already used: the account nonce is %" PRIu64
			       "; sign with nonce %" PRIu64 " or higher",
			       tx->nonce, a.nonce, a.nonce);
	if (tx->type == CHAIN_TX_TRANSFER && tx->amount > a.balance)
		return ch_errf(err, CH_E_INSUFFICIENT_FUNDS,
			       "balance %" PRIu64 " is less than the amount %" PRIu64, a.balance,
			       tx->amount);
	/* last, as the dearest check; usually answered by the preparation stage's verdict */
	if ((rc = chain_sigcache_verify(n->sigcache, tx, err)) != 0)
		return rc;
	return chain_mempool_add(n->mempool, tx, a.nonce, node_mono_ms(), err);
}

void
node_record_dropped(struct node *n, const uint8_t hash[CR_HASH_LEN], const struct ch_err *e)
{
	struct node_dropped *d = &n->dropped[n->ndropped++ % NODE_DROPPED_RING];
	memcpy(d->hash, hash, CR_HASH_LEN);
	d->code = e->code;
	snprintf(d->msg, sizeof(d->msg), "%s", ch_err_msg(e));
}

/* ---- waiters ---- */

static void
finish_waiter(struct node *n, struct node_waiter **link)
{
	struct node_waiter *w = *link;
	*link = w->next;
	w->pending->waiting--;
	node_pending_maybe_finish(n, w->pending);
	free(w);
}

/* settle_waiters answers waiters whose tx committed or was dropped, or whose time is up. */
static void
settle_waiters(struct node *n, bool shutting_down)
{
	uint64_t now = node_mono_ms();
	struct node_waiter **link = &n->waiters;
	while (*link != NULL) {
		struct node_waiter *w = *link;
		uint64_t height;
		uint32_t index;
		const struct node_dropped *d;
		char hex[2 * CR_HASH_LEN + 1];
		cr_hex_encode(w->hash, CR_HASH_LEN, hex);
		if (node_tx_committed(n, w->hash, &height, &index)) {
			cJSON *r = cJSON_CreateObject();
			cJSON_AddStringToObject(r, "hash", hex);
			cJSON_AddStringToObject(r, "status", "committed");
			cJSON_AddNumberToObject(r, "height", (double)height);
			cJSON_AddNumberToObject(r, "index", index);
			rpc_call_result(w->call, r);
		} else if ((d = node_tx_dropped(n, w->hash)) != NULL) {
			rpc_call_error(w->call, ch_rpc_code(d->code), d->msg, NULL);
		} else if (chain_mempool_get(n->mempool, w->hash) == NULL) {
			/* left the mempool uncommitted: another transaction took its nonce, or it expired */
			rpc_call_error(w->call, ch_rpc_code(CH_E_NONCE_TOO_LOW),
				       "the transaction left the mempool without committing: its nonce "
				       "was used by another transaction, or it expired",
				       NULL);
		} else if (shutting_down || now >= w->deadline_ms) {
			cJSON *data = cJSON_CreateObject();
			cJSON_AddStringToObject(data, "hash", hex);
			int code = shutting_down ? CH_E_UNAVAILABLE : CH_E_TIMEOUT;
			rpc_call_error(w->call, ch_rpc_code(code),
				       shutting_down ? "node is shutting down; the transaction may still commit"
						     : "not committed in time; the transaction is pending "
						       "and may still commit",
				       data);
		} else {
			link = &w->next;
			continue;
		}
		finish_waiter(n, link);
	}
}

static bool
waiter_due(struct node *n)
{
	uint64_t now = node_mono_ms();
	for (struct node_waiter *w = n->waiters; w != NULL; w = w->next)
		if (w->deadline_ms <= now)
			return true;
	return false;
}

/* ---- blocks ---- */

static uint64_t
max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/*
 * has_ready_tx: does the mempool hold a transaction that could go into the
 * next block (its nonce is the account's next)? A transaction parked behind
 * a nonce gap must not make the backups suspect the primary. Cached until
 * the mempool or the tip changes.
 */
static bool
has_ready_tx(struct node *n)
{
	size_t count = chain_mempool_count(n->mempool);
	if (count == 0)
		return false;
	if (count != n->ready_count || n->tip.height != n->ready_height) {
		const struct chain_tx *one;
		n->ready_count = count;
		n->ready_height = n->tip.height;
		n->ready = chain_mempool_select(n->mempool, node_nonce_of, n, 1, SIZE_MAX, &one) > 0;
	}
	return n->ready;
}

/*
 * propose_block (the primary, when the core lets it) cuts a block from the
 * mempool, executes it to drop what no longer applies, and hands it to the
 * consensus core; it commits when the core says so (at once for n = 1).
 */
static void
propose_block(struct node *n)
{
	const struct node_params *p = &n->genesis.params;
	uint64_t now = node_mono_ms();
	if (!has_ready_tx(n) || !pbft_can_propose(n->pbft) ||
	    now < n->last_block_mono_ms + p->block_interval_ms || n->fatal)
		return;

	const struct chain_tx **sel = malloc(p->block_max_txs * sizeof(*sel));
	struct chain_tx *cand = NULL;
	uint8_t(*drop)[CR_HASH_LEN] = NULL;
	struct chain_exec *x = NULL;
	struct chain_block b;
	struct ch_buf enc;
	memset(&b, 0, sizeof(b));
	ch_buf_init(&enc);
	if (sel == NULL) {
		log_error("out of memory cutting a block");
		return;
	}
	size_t nsel = chain_mempool_select(n->mempool, node_nonce_of, n, p->block_max_txs,
					   p->block_max_bytes, sel);
	/* Copy out: removing from the mempool below invalidates sel. */
	cand = malloc((nsel ? nsel : 1) * sizeof(*cand));
	drop = malloc((nsel ? nsel : 1) * sizeof(*drop));
	b.txs = malloc((nsel ? nsel : 1) * sizeof(*b.txs));
	struct chain_state_reader rd = chain_store_reader(n->store);
	if (cand == NULL || drop == NULL || b.txs == NULL || chain_exec_new(&x, &rd) != 0) {
		log_error("out of memory cutting a block");
		goto out;
	}
	for (size_t i = 0; i < nsel; i++)
		cand[i] = *sel[i];
	size_t ndrop = 0, ntx = 0;
	for (size_t i = 0; i < nsel; i++) {
		struct ch_err e;
		ch_err_clear(&e);
		int arc = chain_exec_apply(x, &cand[i], &e);
		if (arc == 0) {
			b.txs[ntx++] = cand[i];
		} else if (arc != CH_E_NONCE_TOO_HIGH) {
			node_record_dropped(n, cand[i].hash, &e);
			memcpy(drop[ndrop++], cand[i].hash, CR_HASH_LEN);
		}
	}
	for (size_t i = 0; i < ndrop; i++)
		chain_mempool_remove(n->mempool, drop[i]);
	if (ntx == 0)
		goto out;

	struct chain_header *h = &b.header;
	snprintf(h->chain_id, sizeof(h->chain_id), "%s", n->genesis.chain_id);
	h->height = n->tip.height + 1;
	memcpy(h->prev_hash, n->tip.hash, CR_HASH_LEN);
	h->time_ms = max_u64(node_now_ms(), n->tip.time_ms);
	h->proposer = (uint16_t)n->validator_index;
	h->view = pbft_view(n->pbft);
	chain_block_tx_root(b.txs, ntx, h->tx_root);
	memcpy(h->state_digest, n->tip.state_digest, CR_HASH_LEN);
	h->tx_count = (uint32_t)ntx;
	chain_header_hash(h, b.hash);
	chain_block_encode(&b, &enc);
	if (!ch_buf_ok(&enc)) {
		log_error("out of memory encoding a block");
		goto out;
	}
	/* The execution is kept: the commit reuses it. */
	node_forget_validated(n);
	n->validated_exec = x;
	n->has_validated = true;
	memcpy(n->validated_hash, b.hash, CR_HASH_LEN);
	x = NULL;
	n->last_block_mono_ms = now;
	pbft_propose(n->pbft, b.hash, enc.data, enc.len, node_mono_ms());
out:
	ch_buf_close(&enc);
	chain_exec_free(x);
	free(b.txs);
	free(drop);
	free(cand);
	free(sel);
}

/* ---- the loop ---- */

#define NODE_TICK_MS 10
#define NODE_STATUS_EVERY_MS 1000
#define NODE_PEER_CLOSE_LIMIT_MS 3000 /* everything is on disk before the close */

static uint64_t
next_deadline(struct node *n)
{
	uint64_t now = node_mono_ms();
	uint64_t d = now + (n->genesis.nvalidators > 1 ? NODE_TICK_MS : 1000);
	if (has_ready_tx(n) && pbft_can_propose(n->pbft)) {
		uint64_t b = max_u64(n->last_block_mono_ms + n->genesis.params.block_interval_ms, now);
		if (b < d)
			d = b;
	}
	for (struct node_waiter *w = n->waiters; w != NULL; w = w->next)
		if (w->deadline_ms < d)
			d = w->deadline_ms;
	return d;
}

static void
wait_until(struct node *n, uint64_t deadline_ms)
{
	struct timespec ts = {.tv_sec = (time_t)(deadline_ms / 1000),
			      .tv_nsec = (long)(deadline_ms % 1000) * 1000000};
	while (n->queue.head == NULL && !n->stopping && node_mono_ms() < deadline_ms)
		pthread_cond_timedwait(&n->cv, &n->mu, &ts);
}

static void
on_peer(void *arg, uint8_t *msg, size_t len)
{
	if (!enqueue(arg, (const char *)msg, len, NULL))
		free(msg);
}

static int
start_peers(struct node *n, struct ch_err *err)
{
	if (n->genesis.nvalidators < 2)
		return 0;
	const char *urls[CHAIN_MAX_VALIDATORS];
	for (size_t i = 0; i < n->genesis.nvalidators; i++)
		urls[i] = n->genesis.validators[i].p2p_address;
	for (size_t k = 0; k < n->cfg.npeer_addresses; k++) {
		const struct node_peer_address *pa = &n->cfg.peer_addresses[k];
		size_t i = 0;
		while (i < n->genesis.nvalidators && strcmp(n->genesis.validators[i].id, pa->id) != 0)
			i++;
		if (i == n->genesis.nvalidators)
			return ch_errf(err, CH_E_CONFIG,
				       "config.json: peer_addresses names %s, which is not a "
				       "validator in %s",
				       pa->id, n->cfg.genesis_file);
		urls[i] = pa->address;
		log_info("peers: dialing %s at %s (peer_addresses)", pa->id, pa->address);
	}
	/* a NEW-VIEW carries one block; base64 in JSON adds a third */
	size_t max_msg = 2 * node_max_block_encoding(&n->genesis.params) + (1u << 20);
	struct rpc_peer_limits lim = {
		.max_msg_bytes = max_msg,
		.queue_len = 4096,
		.max_conns = n->cfg.peer_max_connections,
		.msgs_per_s = n->cfg.peer_max_msgs_per_s,
		/* a burst (two seconds' worth) must hold the largest message */
		.bytes_per_s = n->cfg.peer_max_bytes_per_s > max_msg ? n->cfg.peer_max_bytes_per_s
								     : max_msg,
	};
	if (lim.max_conns == 0) /* each validator dials once; room for reconnects and tools */
		lim.max_conns = 2 * (uint32_t)n->genesis.nvalidators + 8;
	int rc = rpc_peer_start(&n->peers, n->cfg.p2p_listen, urls, n->genesis.nvalidators,
				(size_t)n->validator_index, &lim, on_peer, n, err);
	if (rc == 0)
		log_info("peers: listening on %s, %zu other validators", n->cfg.p2p_listen,
			 n->genesis.nvalidators - 1);
	return rc;
}

/* handle_peer handles one peer message event (and frees it). */
static void
handle_peer(struct node *n, struct node_event *ev)
{
	if (ev->refused) { /* by the preparation stage: over the gossip limits */
		n->peer_bad++;
	} else if (ev->root != NULL) { /* parsed by the preparation stage */
		node_on_peer_json(n, ev->root);
		cJSON_Delete(ev->root);
	} else {
		node_on_peer_message(n, (const uint8_t *)ev->body, ev->len);
	}
	free((void *)ev->body);
	free(ev);
	node_drive(n);
}

/* discard_events answers queued requests with "shutting down" and frees peer messages. */
static void
discard_events(struct node_event *evs)
{
	while (evs != NULL) {
		struct node_event *next = evs->next;
		event_discard(evs, "node is shutting down");
		evs = next;
	}
}

int
node_run(struct node *n, struct ch_err *err)
{
	int rc = node_prep_start(n, err);
	if (rc != 0 || (rc = start_peers(n, err)) != 0) {
		node_prep_stop(n->prep);
		n->prep = NULL;
		return rc;
	}
	if ((rc = rpc_http_start(&n->http, n->cfg.rpc_listen, n->cfg.rpc_max_body_bytes,
				 n->cfg.rpc_max_inflight, on_http, n, err)) != 0) {
		rpc_peer_stop(n->peers, 0);
		n->peers = NULL;
		node_prep_stop(n->prep);
		n->prep = NULL;
		return rc;
	}
	n->started_mono_ms = node_mono_ms();
	log_info("serving JSON-RPC on %s", n->cfg.rpc_listen);

	for (;;) {
		uint64_t deadline = next_deadline(n);
		pthread_mutex_lock(&n->mu);
		wait_until(n, deadline);
		bool stop = n->stopping || n->fatal;
		struct node_event *evs = node_queue_take_all(&n->queue);
		pthread_mutex_unlock(&n->mu);
		if (stop) {
			discard_events(evs);
			break;
		}
		uint64_t height = n->tip.height;
		while (evs != NULL) {
			struct node_event *next = evs->next;
			if (evs->req != NULL) {
				handle_event(n, evs);
				free(evs);
				node_drive(n);
			} else {
				handle_peer(n, evs);
			}
			evs = next;
		}
		uint64_t now = node_mono_ms();
		pbft_set_pending(n->pbft, has_ready_tx(n), now);
		pbft_tick(n->pbft, now);
		node_drive(n);
		propose_block(n);
		node_drive(n);
		node_gossip_flush(n);
		if (now >= n->last_status_ms + NODE_STATUS_EVERY_MS) {
			struct ch_err de;
			n->last_status_ms = now;
			if (n->peers != NULL)
				node_send_status(n);
			if (disk_space(n, &de) != 0) {
				log_error("%s", ch_err_msg(&de));
				n->fatal = true;
			}
		}
		if (n->tip.height != height || waiter_due(n))
			settle_waiters(n, false);
		if (n->fatal) {
			log_error("stopping: a storage failure makes it unsafe to go on");
			rc = ch_errf(err, CH_E_DB, "storage failure; see the log");
			pthread_mutex_lock(&n->mu);
			n->stopping = true;
			evs = node_queue_take_all(&n->queue);
			pthread_mutex_unlock(&n->mu);
			discard_events(evs);
			break;
		}
	}
	atomic_store(&n->stop_phase, "answering waiting clients");
	settle_waiters(n, true);
	atomic_store(&n->stop_phase, "stopping the JSON-RPC server");
	rpc_http_stop(n->http);
	n->http = NULL;
	atomic_store(&n->stop_phase, "closing the peer connections");
	if (!rpc_peer_stop(n->peers, NODE_PEER_CLOSE_LIMIT_MS))
		log_warn("the peer connections did not close within %d ms (nng's close waits for "
			 "a connection it never finishes); going on without them",
			 NODE_PEER_CLOSE_LIMIT_MS);
	n->peers = NULL;
	/* the workers finish what they hold; the loop is gone, so it is answered "shutting down" */
	atomic_store(&n->stop_phase, "stopping the signature workers");
	node_prep_stop(n->prep);
	n->prep = NULL;
	pthread_mutex_lock(&n->mu);
	struct node_event *left = node_queue_take_all(&n->queue);
	pthread_mutex_unlock(&n->mu);
	discard_events(left);
	log_info("stopped at height %" PRIu64, n->tip.height);
	return rc;
}
