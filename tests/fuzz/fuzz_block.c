/* libFuzzer target: block and certificate decoding. */
#include <stdlib.h>
#include <string.h>

#include "chain/block.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chain_block blk;
	if (chain_block_decode(data, size, &blk, NULL) == 0) {
		struct ch_buf b;
		ch_buf_init(&b);
		chain_block_encode(&blk, &b);
		if (!ch_buf_ok(&b) || b.len != size || memcmp(b.data, data, size) != 0)
			abort();
		ch_buf_close(&b);
		chain_block_close(&blk);
	}
	struct chain_cert *c = malloc(sizeof(*c));
	if (c != NULL && chain_cert_decode(data, size, c, NULL) == 0) {
		struct ch_buf b;
		ch_buf_init(&b);
		chain_cert_encode(c, &b);
		if (!ch_buf_ok(&b) || b.len != size || memcmp(b.data, data, size) != 0)
			abort();
		ch_buf_close(&b);
	}
	free(c);
	return 0;
}
