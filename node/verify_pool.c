/* The signature workers (verify_pool.h). */
#include "node/verify_pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct node_verify_pool {
	struct chain_sigcache *sigs;
	node_verified_fn done;
	void *arg;
	pthread_t *threads;
	unsigned nthreads;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct node_queue queue;
	bool stopping;
};

/* check_request decodes and verifies the transactions a request submits, keeping them in p->txs. */
static void
check_request(struct chain_sigcache *sigs, struct node_pending *p)
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
		(void)chain_sigcache_verify(sigs, tx, NULL);
		p->txs[i] = tx;
	}
}

/* prepare does the work for one event; the loop does what is left if this fails. */
static void
prepare(struct node_verify_pool *q, struct node_event *ev)
{
	if (ev->req == NULL) {
		for (uint32_t i = 0; i < ev->msg.ntxs; i++)
			(void)chain_sigcache_verify(q->sigs, &ev->msg.txs[i], NULL);
		return;
	}
	struct node_pending *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return;
	if (rpc_request_parse(&p->rpc, ev->body, ev->len) != 0) {
		free(p);
		return;
	}
	p->req = ev->req;
	check_request(q->sigs, p);
	ev->pending = p;
}

static void *
worker(void *arg)
{
	struct node_verify_pool *q = arg;
	for (;;) {
		pthread_mutex_lock(&q->mu);
		while (q->queue.head == NULL && !q->stopping)
			pthread_cond_wait(&q->cv, &q->mu);
		struct node_event *ev = node_queue_pop(&q->queue);
		pthread_mutex_unlock(&q->mu);
		if (ev == NULL) /* stopping and drained */
			return NULL;
		prepare(q, ev);
		q->done(q->arg, ev);
	}
}

int
node_verify_pool_start(struct node_verify_pool **out, unsigned nthreads,
		       struct chain_sigcache *sigs, node_verified_fn done, void *arg,
		       struct ch_err *err)
{
	struct node_verify_pool *q = calloc(1, sizeof(*q));
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned want = nthreads ? nthreads : (unsigned)(cores > 0 ? cores : 1);
	if (q == NULL || (q->threads = calloc(want, sizeof(*q->threads))) == NULL) {
		free(q);
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	}
	q->sigs = sigs;
	q->done = done;
	q->arg = arg;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	for (; q->nthreads < want; q->nthreads++)
		if (pthread_create(&q->threads[q->nthreads], NULL, worker, q) != 0)
			break;
	if (q->nthreads == 0) {
		node_verify_pool_stop(q);
		return ch_errf(err, CH_E_NOMEM, "cannot start signature-checking threads");
	}
	*out = q;
	return 0;
}

bool
node_verify_pool_submit(struct node_verify_pool *q, struct node_event *ev)
{
	pthread_mutex_lock(&q->mu);
	bool queued = !q->stopping && node_queue_push(&q->queue, ev);
	if (queued)
		pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	return queued;
}

void
node_verify_pool_stop(struct node_verify_pool *q)
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

unsigned
node_verify_pool_threads(const struct node_verify_pool *q)
{
	return q->nthreads;
}
