#include "common/buf.h"

#include <stdlib.h>
#include <string.h>

void
ch_buf_init(struct ch_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->oom = false;
}

void
ch_buf_close(struct ch_buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	ch_buf_init(b);
}

void
ch_buf_reset(struct ch_buf *b)
{
	b->len = 0;
	b->oom = false;
}

bool
ch_buf_reserve(struct ch_buf *b, size_t extra)
{
	if (b->oom)
		return false;
	if (extra <= b->cap - b->len)
		return true;
	if (extra > SIZE_MAX / 2 - b->len) {
		b->oom = true;
		return false;
	}
	size_t cap = b->cap ? b->cap : 64;
	while (cap - b->len < extra)
		cap *= 2;
	uint8_t *p = realloc(b->data, cap);
	if (p == NULL) {
		b->oom = true;
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

void
ch_buf_put(struct ch_buf *b, const void *p, size_t n)
{
	if (n == 0 || !ch_buf_reserve(b, n))
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void
ch_buf_u8(struct ch_buf *b, uint8_t v)
{
	ch_buf_put(b, &v, 1);
}

void
ch_buf_u16(struct ch_buf *b, uint16_t v)
{
	uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	ch_buf_put(b, x, 2);
}

void
ch_buf_u32(struct ch_buf *b, uint32_t v)
{
	uint8_t x[4];
	ch_put_be32(x, v);
	ch_buf_put(b, x, 4);
}

void
ch_buf_u64(struct ch_buf *b, uint64_t v)
{
	uint8_t x[8];
	ch_put_be64(x, v);
	ch_buf_put(b, x, 8);
}

uint8_t *
ch_buf_steal(struct ch_buf *b, size_t *len)
{
	uint8_t *p = b->data;
	if (len != NULL)
		*len = b->len;
	ch_buf_init(b);
	return p;
}

void
ch_rd_init(struct ch_rd *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->bad = false;
}

const uint8_t *
ch_rd_ptr(struct ch_rd *r, size_t n)
{
	if (r->bad || n > r->len - r->off) {
		r->bad = true;
		return NULL;
	}
	const uint8_t *p = r->p + r->off;
	r->off += n;
	return p;
}

void
ch_rd_copy(struct ch_rd *r, void *out, size_t n)
{
	const uint8_t *p = ch_rd_ptr(r, n);
	if (p == NULL)
		memset(out, 0, n);
	else if (n > 0)
		memcpy(out, p, n);
}

uint8_t
ch_rd_u8(struct ch_rd *r)
{
	const uint8_t *p = ch_rd_ptr(r, 1);
	return p ? p[0] : 0;
}

uint16_t
ch_rd_u16(struct ch_rd *r)
{
	const uint8_t *p = ch_rd_ptr(r, 2);
	return p ? (uint16_t)((p[0] << 8) | p[1]) : 0;
}

uint32_t
ch_rd_u32(struct ch_rd *r)
{
	const uint8_t *p = ch_rd_ptr(r, 4);
	return p ? ch_get_be32(p) : 0;
}

uint64_t
ch_rd_u64(struct ch_rd *r)
{
	const uint8_t *p = ch_rd_ptr(r, 8);
	return p ? ch_get_be64(p) : 0;
}

void
ch_put_be64(uint8_t out[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		out[i] = (uint8_t)v;
		v >>= 8;
	}
}

uint64_t
ch_get_be64(const uint8_t in[8])
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | in[i];
	return v;
}

void
ch_put_be32(uint8_t out[4], uint32_t v)
{
	out[0] = (uint8_t)(v >> 24);
	out[1] = (uint8_t)(v >> 16);
	out[2] = (uint8_t)(v >> 8);
	out[3] = (uint8_t)v;
}

uint32_t
ch_get_be32(const uint8_t in[4])
{
	return (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
}
