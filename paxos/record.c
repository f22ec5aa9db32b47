/*
 * The acceptor's record: what it must remember across a crash so that it
 * never breaks a promise or forgets a value it accepted (Lamport, "Paxos
 * Made Simple", section 2.2: an acceptor "can remember ... even if it
 * fails and then restarts"). One self-contained record, rewritten whole:
 *
 *   version u8 (=1) | promised u64 | count u8
 *   | count x (slot u64 | ballot u64 | digest[32] | len u32 | block)
 *
 * with the accepted values above the host's committed height, in slot
 * order, at most PAXOS_WINDOW of them.
 */
#include <stdlib.h>
#include <string.h>

#include "paxos/paxos_internal.h"

#define RECORD_VERSION 1

void
paxos_record_encode(const struct paxos *p, struct ch_buf *out)
{
	ch_buf_u8(out, RECORD_VERSION);
	ch_buf_u64(out, p->promised);
	const struct paxos_value *order[PAXOS_WINDOW];
	uint32_t k = 0;
	for (int i = 0; i < PAXOS_WINDOW; i++) {
		const struct paxos_value *v = &p->accepted[i];
		if (!v->has || v->slot <= p->height)
			continue;
		uint32_t j = k++;
		while (j > 0 && order[j - 1]->slot > v->slot) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = v;
	}
	ch_buf_u8(out, (uint8_t)k);
	for (uint32_t i = 0; i < k; i++) {
		ch_buf_u64(out, order[i]->slot);
		ch_buf_u64(out, order[i]->ballot);
		ch_buf_put(out, order[i]->digest, PAXOS_HASH_LEN);
		ch_buf_u32(out, (uint32_t)order[i]->block_len);
		ch_buf_put(out, order[i]->block, order[i]->block_len);
	}
}

/*
 * parse reads a record strictly into promised and e[*k] (blocks borrowed
 * from the record); max_block bounds each block (SIZE_MAX: any).
 */
static bool
parse(const uint8_t *record, size_t len, size_t max_block, uint64_t *promised,
      struct paxos_entry e[PAXOS_WINDOW], uint32_t *k)
{
	struct ch_rd r;
	ch_rd_init(&r, record, len);
	if (record == NULL || ch_rd_u8(&r) != RECORD_VERSION)
		return false;
	*promised = ch_rd_u64(&r);
	uint32_t count = ch_rd_u8(&r);
	if (r.bad || count > PAXOS_WINDOW)
		return false;
	for (uint32_t i = 0; i < count; i++) {
		e[i].slot = ch_rd_u64(&r);
		e[i].ballot = ch_rd_u64(&r);
		ch_rd_copy(&r, e[i].digest, PAXOS_HASH_LEN);
		uint32_t n = ch_rd_u32(&r);
		if (r.bad || n == 0 || n > max_block)
			return false;
		e[i].block = ch_rd_ptr(&r, n);
		e[i].block_len = n;
		/* ascending slots; no value accepted above the promise */
		if (e[i].block == NULL || e[i].slot == 0 || e[i].ballot == 0 ||
		    e[i].ballot > *promised || (i > 0 && e[i].slot <= e[i - 1].slot))
			return false;
	}
	*k = count;
	return ch_rd_done(&r);
}

int
paxos_restore(struct paxos *p, const uint8_t *record, size_t len, struct ch_err *err)
{
	uint64_t promised;
	struct paxos_entry e[PAXOS_WINDOW];
	uint32_t k;
	if (!parse(record, len, p->cfg.max_block_bytes, &promised, e, &k))
		return ch_errf(err, CH_E_BAD_ENCODING, "paxos record is damaged");
	/* copy first, so that a failure leaves the core as it was */
	struct paxos_value v[PAXOS_WINDOW];
	memset(v, 0, sizeof(v));
	int j = 0;
	for (uint32_t i = 0; i < k; i++) {
		/* the host committed these meanwhile; beyond the window none can be */
		if (e[i].slot <= p->height || e[i].slot - p->height > PAXOS_WINDOW)
			continue;
		if ((v[j].block = malloc(e[i].block_len)) == NULL) {
			for (int x = 0; x < j; x++)
				free(v[x].block);
			return ch_errf(err, CH_E_NOMEM, "out of memory restoring the paxos record");
		}
		memcpy(v[j].block, e[i].block, e[i].block_len);
		v[j].block_len = e[i].block_len;
		v[j].has = true;
		v[j].slot = e[i].slot;
		v[j].ballot = e[i].ballot;
		memcpy(v[j].digest, e[i].digest, PAXOS_HASH_LEN);
		j++;
	}
	for (int i = 0; i < PAXOS_WINDOW; i++) {
		paxos_value_clear(&p->accepted[i]);
		p->accepted[i] = v[i];
	}
	p->promised = promised;
	paxos_note_ballot(p, promised);
	p->follow_ballot = promised;
	return 0;
}

int
paxos_record_mark(const uint8_t *record, size_t len, uint64_t *ballot, uint64_t *height,
		  bool *voted, struct ch_err *err)
{
	uint64_t promised;
	struct paxos_entry e[PAXOS_WINDOW];
	uint32_t k;
	if (!parse(record, len, SIZE_MAX, &promised, e, &k))
		return ch_errf(err, CH_E_BAD_ENCODING, "paxos record is damaged");
	*ballot = promised;
	*height = k > 0 ? e[k - 1].slot : 0;
	*voted = k > 0;
	return 0;
}

size_t
paxos_max_record(size_t max_block_bytes)
{
	return 1 + 8 + 1 + PAXOS_WINDOW * (8 + 8 + PAXOS_HASH_LEN + 4 + max_block_bytes);
}
