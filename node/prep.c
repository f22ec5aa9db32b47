/*
 * The preparation stage: worker threads that do the stateless half of
 * admitting transactions before the loop thread sees them. For a client
 * request they parse the JSON-RPC body, decode every transaction it
 * submits (handed to the loop with the request) and check its signature; for a peer's "txs" message they parse it and
 * check every transaction. Verdicts land in the node's signature cache
 * (chain/sigcache.h), so the loop thread, and later block validation, find
 * them there instead of verifying again. Consensus messages skip this
 * stage: their order matters and the loop handles them at once.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/log.h"
#include "node/node_internal.h"

struct node_prep {
	struct node *node;
	pthread_t *threads;
	unsigned nthreads;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct node_queue queue;
	bool stopping;
};

/* check_request decodes and verifies the transactions a request submits, keeping them in p->txs. */
static void
check_request(struct node *n, struct node_pending *p)
{
	for (size_t i = 0; i < p->rpc.ncalls; i++) {
		const struct rpc_call *c = &p->rpc.calls[i];
		if (c->method == NULL || strncmp(c->method, "broadcast_tx_", 13) != 0)
			continue;
		if (p->txs == NULL && (p->txs = calloc(p->rpc.ncalls, sizeof(*p->txs))) == NULL)
			return;
		struct chain_tx *tx = malloc(sizeof(*tx));
		if (tx == NULL)
			return;
		if (node_param_tx(c, tx, NULL) != 0) {
			free(tx); /* the loop decodes it again to answer with the error */
			continue;
		}
		(void)chain_sigcache_verify(n->sigcache, tx, NULL);
		p->txs[i] = tx;
	}
}

static void
check_peer_txs(struct node *n, const cJSON *root)
{
	const cJSON *arr = node_peer_txs(cJSON_GetObjectItemCaseSensitive(root, "params")), *s;
	struct chain_tx *tx = malloc(sizeof(*tx));
	if (tx == NULL || arr == NULL) {
		free(tx);
		return;
	}
	cJSON_ArrayForEach(s, arr) {
		if (node_peer_tx_decode(s, tx) == 0)
			(void)chain_sigcache_verify(n->sigcache, tx, NULL);
	}
	free(tx);
}

/* prepare does the work for one event; the loop falls back to doing it itself if this fails. */
static void
prepare(struct node *n, struct node_event *ev)
{
	if (ev->req != NULL) {
		struct node_pending *p = calloc(1, sizeof(*p));
		if (p == NULL)
			return;
		if (rpc_request_parse(&p->rpc, ev->body, ev->len) != 0) {
			free(p);
			return;
		}
		p->req = ev->req;
		check_request(n, p);
		ev->pending = p;
	} else if (ev->len > NODE_MAX_GOSSIP_BYTES) {
		ev->refused = true;
	} else {
		ev->root = cJSON_ParseWithLength(ev->body, ev->len);
		if (ev->root != NULL &&
		    node_peer_txs(cJSON_GetObjectItemCaseSensitive(ev->root, "params")) == NULL) {
			cJSON_Delete(ev->root); /* the loop counts it as malformed */
			ev->root = NULL;
			ev->refused = true;
		} else if (ev->root != NULL) {
			check_peer_txs(n, ev->root);
		}
	}
}

static void *
worker(void *arg)
{
	struct node_prep *q = arg;
	for (;;) {
		pthread_mutex_lock(&q->mu);
		while (q->queue.head == NULL && !q->stopping)
			pthread_cond_wait(&q->cv, &q->mu);
		struct node_event *ev = node_queue_pop(&q->queue);
		pthread_mutex_unlock(&q->mu);
		if (ev == NULL) /* stopping and drained */
			return NULL;
		prepare(q->node, ev);
		node_event_push(q->node, ev);
	}
}

int
node_prep_start(struct node *n, struct ch_err *err)
{
	struct node_prep *q = calloc(1, sizeof(*q));
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned want = n->cfg.verify_threads ? n->cfg.verify_threads : (unsigned)(cores > 0 ? cores : 1);
	if (q == NULL || (q->threads = calloc(want, sizeof(*q->threads))) == NULL) {
		free(q);
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	}
	q->node = n;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	for (; q->nthreads < want; q->nthreads++)
		if (pthread_create(&q->threads[q->nthreads], NULL, worker, q) != 0)
			break;
	if (q->nthreads == 0) {
		node_prep_stop(q);
		return ch_errf(err, CH_E_NOMEM, "cannot start signature-checking threads");
	}
	n->prep = q;
	log_info("checking signatures on %u threads", q->nthreads);
	return 0;
}

void
node_prep_stop(struct node_prep *q)
{
	if (q == NULL)
		return;
	pthread_mutex_lock(&q->mu);
	q->stopping = true;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	for (unsigned i = 0; i < q->nthreads; i++)
		pthread_join(q->threads[i], NULL);
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
	free(q->threads);
	free(q);
}

bool
node_prep_submit(struct node_prep *q, struct node_event *ev)
{
	pthread_mutex_lock(&q->mu);
	bool queued = !q->stopping && node_queue_push(&q->queue, ev);
	if (queued)
		pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	return queued;
}
