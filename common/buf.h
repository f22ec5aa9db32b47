/*
 * buf.h - growable byte buffers for encoding and bounds-checked readers for
 * decoding. All integers are big-endian on the wire.
 *
 * A writer (struct ch_buf) owns its memory: ch_buf_init() then any number of
 * ch_buf_put*() calls, ch_buf_close() to free. A failed allocation sets
 * buf->oom and turns every later put into a no-op, so encoders check once at
 * the end (ch_buf_ok) instead of after every field.
 *
 * A reader (struct ch_rd) borrows the bytes it reads; they must outlive it.
 * Reading past the end sets rd->bad, returns zeroes and never touches memory
 * outside the input; decoders check ch_rd_done() once at the end, which also
 * rejects trailing bytes.
 */
#ifndef CH_BUF_H
#define CH_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ch_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	bool oom;
};

void ch_buf_init(struct ch_buf *b);
void ch_buf_close(struct ch_buf *b);          /* frees data; b may be reused after init */
void ch_buf_reset(struct ch_buf *b);          /* len = 0, keeps capacity and clears oom */
bool ch_buf_reserve(struct ch_buf *b, size_t extra);
void ch_buf_put(struct ch_buf *b, const void *p, size_t n);
void ch_buf_u8(struct ch_buf *b, uint8_t v);
void ch_buf_u16(struct ch_buf *b, uint16_t v);
void ch_buf_u32(struct ch_buf *b, uint32_t v);
void ch_buf_u64(struct ch_buf *b, uint64_t v);
static inline bool ch_buf_ok(const struct ch_buf *b) { return !b->oom; }

/* ch_buf_steal hands the bytes to the caller (free with free()) and re-inits b. */
uint8_t *ch_buf_steal(struct ch_buf *b, size_t *len);

struct ch_rd {
	const uint8_t *p;
	size_t len;
	size_t off;
	bool bad;
};

void ch_rd_init(struct ch_rd *r, const void *p, size_t len);
uint8_t ch_rd_u8(struct ch_rd *r);
uint16_t ch_rd_u16(struct ch_rd *r);
uint32_t ch_rd_u32(struct ch_rd *r);
uint64_t ch_rd_u64(struct ch_rd *r);
/* ch_rd_copy copies n bytes into out (zero-filled if the input is short). */
void ch_rd_copy(struct ch_rd *r, void *out, size_t n);
/* ch_rd_ptr returns a borrowed pointer to the next n bytes, or NULL if short. */
const uint8_t *ch_rd_ptr(struct ch_rd *r, size_t n);
static inline size_t ch_rd_left(const struct ch_rd *r) { return r->bad ? 0 : r->len - r->off; }
/* ch_rd_done is true when every byte was read and nothing was short. */
static inline bool ch_rd_done(const struct ch_rd *r) { return !r->bad && r->off == r->len; }

/* Big-endian helpers for fixed-size keys and length prefixes. */
void ch_put_be64(uint8_t out[8], uint64_t v);
uint64_t ch_get_be64(const uint8_t in[8]);
void ch_put_be32(uint8_t out[4], uint32_t v);
uint32_t ch_get_be32(const uint8_t in[4]);

#endif
