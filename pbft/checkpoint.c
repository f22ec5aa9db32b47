/*
 * Checkpoints (Castro & Liskov, TOCS 2002, section 4.3 "garbage
 * collection"): every K committed blocks each replica signs the state
 * digest after the block; 2f+1 matching digests make the checkpoint stable.
 * With one height in flight the message log is a single slot, so the
 * stable checkpoint serves to detect a replica whose state diverged (its
 * own digest at a stable checkpoint is not the quorum's: PBFT_ACT_DIVERGED)
 * and to tell a lagging replica how far the others are.
 */
#include <string.h>

#include "pbft/pbft_internal.h"

static void
note_checkpoint(struct pbft *p, uint32_t from, uint64_t height, const uint8_t digest[PBFT_HASH_LEN])
{
	struct pbft_ckpt *c = &p->ckpt[from];
	if (c->has && c->height >= height)
		return;
	c->has = true;
	c->height = height;
	memcpy(c->digest, digest, PBFT_HASH_LEN);
	uint32_t k = 0;
	for (uint32_t i = 0; i < p->cfg.n; i++)
		if (p->ckpt[i].has && p->ckpt[i].height == height &&
		    memcmp(p->ckpt[i].digest, digest, PBFT_HASH_LEN) == 0)
			k++;
	if (k >= p->quorum && height > p->stable) {
		p->stable = height;
		memcpy(p->stable_digest, digest, PBFT_HASH_LEN);
	}
	/* our digest and the quorum's may come in either order */
	const struct pbft_ckpt *own = &p->ckpt[p->cfg.self];
	if (own->has && p->stable > 0 && own->height == p->stable && !p->diverged &&
	    memcmp(own->digest, p->stable_digest, PBFT_HASH_LEN) != 0) {
		p->diverged = true;
		pbft_emit_diverged(p, p->stable);
	}
}

void
pbft_on_checkpoint(struct pbft *p, const struct pbft_msg *m)
{
	if (m->height == 0 || m->height % p->cfg.checkpoint_interval != 0)
		return;
	note_checkpoint(p, m->from, m->height, m->digest);
	pbft_learn_height(p, m->from, m->height, false); /* its word; f + 1 words count */
}

void
pbft_checkpoint_digest(struct pbft *p, uint64_t height, const uint8_t state_digest[PBFT_HASH_LEN],
		       uint64_t now_ms)
{
	pbft_enter(p, now_ms);
	if (height == 0 || height % p->cfg.checkpoint_interval != 0)
		return;
	struct pbft_msg m;
	memset(&m, 0, sizeof(m));
	m.type = PBFT_CHECKPOINT;
	m.height = height;
	memcpy(m.digest, state_digest, PBFT_HASH_LEN);
	pbft_sign(p, &m);
	note_checkpoint(p, p->cfg.self, height, state_digest);
	pbft_emit_msg(p, PBFT_ACT_BROADCAST, 0, &m);
}
