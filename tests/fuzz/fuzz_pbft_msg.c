/* libFuzzer target: every peer consensus message type decodes strictly and canonically. */
#include <stdlib.h>
#include <string.h>

#include "pbft/pbft.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pbft_msg m;
	if (pbft_msg_decode(data, size, 4, 1u << 20, &m, NULL) != 0)
		return 0;
	struct ch_buf b;
	ch_buf_init(&b);
	pbft_msg_encode(&m, &b);
	if (!ch_buf_ok(&b) || b.len != size || memcmp(b.data, data, size) != 0)
		abort();
	ch_buf_close(&b);
	ch_buf_init(&b);
	pbft_msg_signed_bytes(&m, &b);
	ch_buf_close(&b);
	struct pbft_msg copy;
	if (pbft_msg_copy(&copy, &m) == 0)
		pbft_msg_close(&copy);
	pbft_msg_close(&m);
	return 0;
}
