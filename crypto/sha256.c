/* SHA-256 through OpenSSL's EVP interface. */
#include <stdlib.h>

#include <openssl/evp.h>

#include "crypto/crypto.h"

void
cr_sha256(const void *data, size_t len, uint8_t out[CR_HASH_LEN])
{
	unsigned int n = 0;
	/* EVP_Digest only fails on allocation failure or a broken library. */
	if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 || n != CR_HASH_LEN)
		abort();
}

int
cr_sha256_init(struct cr_sha256_ctx *c)
{
	if (c->md == NULL && (c->md = EVP_MD_CTX_new()) == NULL)
		return CH_E_NOMEM;
	if (EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) != 1)
		return CH_E_CRYPTO;
	return 0;
}

void
cr_sha256_update(struct cr_sha256_ctx *c, const void *data, size_t len)
{
	if (EVP_DigestUpdate(c->md, data, len) != 1)
		abort();
}

void
cr_sha256_final(struct cr_sha256_ctx *c, uint8_t out[CR_HASH_LEN])
{
	unsigned int n = 0;
	if (EVP_DigestFinal_ex(c->md, out, &n) != 1 || n != CR_HASH_LEN)
		abort();
}

void
cr_sha256_close(struct cr_sha256_ctx *c)
{
	EVP_MD_CTX_free(c->md);
	c->md = NULL;
}
