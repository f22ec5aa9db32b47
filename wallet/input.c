/* Checks of what the user typed, with messages that say what is expected. */
#include <inttypes.h>

#include "common/num.h"
#include "wallet/wallet.h"

int
wallet_parse_addr(struct wallet_ctx *w, const char *what, const char *s, uint8_t out[CR_ADDR_LEN])
{
	if (cr_hex_decode_exact(s, out, CR_ADDR_LEN) != 0)
		return wallet_errf(w, "%s must be an address of 40 hex characters (0x optional), "
				      "got \"%.80s\"",
				   what, s);
	return WALLET_OK;
}

int
wallet_parse_hash(struct wallet_ctx *w, const char *what, const char *s, uint8_t out[CR_HASH_LEN])
{
	if (cr_hex_decode_exact(s, out, CR_HASH_LEN) != 0)
		return wallet_errf(w, "%s must be a hash of 64 hex characters (0x optional), "
				      "got \"%.80s\"",
				   what, s);
	return WALLET_OK;
}

int
wallet_parse_u64(struct wallet_ctx *w, const char *what, const char *s, uint64_t min, uint64_t max,
		 uint64_t *out)
{
	if (!ch_parse_u64(s, out) || *out < min || *out > max)
		return wallet_errf(w, "%s must be a whole number from %" PRIu64 " to %" PRIu64
				      " (decimal digits only), got \"%.40s\"",
				   what, min, max, s);
	return WALLET_OK;
}

int
wallet_load_key(struct wallet_ctx *w, struct cr_key **out)
{
	*out = NULL;
	if (cr_key_load_pem(out, w->val[WOPT_KEY], &w->err) != 0)
		return WALLET_FAIL;
	return WALLET_OK;
}
