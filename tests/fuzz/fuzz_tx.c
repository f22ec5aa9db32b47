/* libFuzzer target: transaction decoding is strict and canonical. */
#include <stdlib.h>
#include <string.h>

#include "chain/tx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chain_tx tx;
	if (chain_tx_decode(data, size, &tx, NULL) != 0)
		return 0;
	/* Anything accepted re-encodes to exactly the same bytes. */
	struct ch_buf b;
	ch_buf_init(&b);
	chain_tx_encode(&tx, &b);
	if (!ch_buf_ok(&b) || b.len != size || memcmp(b.data, data, size) != 0 || tx.size != size)
		abort();
	ch_buf_close(&b);
	(void)chain_tx_verify(&tx, NULL);
	return 0;
}
