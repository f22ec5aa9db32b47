/*
 * SHA-256 through OpenSSL's EVP interface. The implementation is fetched
 * from the default provider once (EVP_sha256() would be looked up again on
 * every init) and never changes afterwards, so threads share it freely.
 */
#include <pthread.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "crypto/crypto.h"

static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static const EVP_MD *sha256_md;

static void
sha256_fetch(void)
{
	/* Deliberately never freed: it lives as long as the process. */
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (sha256_md == NULL)
		sha256_md = EVP_sha256(); /* the slower lookup still works */
}

static const EVP_MD *
sha256(void)
{
	pthread_once(&sha256_once, sha256_fetch);
	return sha256_md;
}

void
cr_sha256(const void *data, size_t len, uint8_t out[CR_HASH_LEN])
{
	unsigned int n = 0;
	/* EVP_Digest only fails on allocation failure or a broken library. */
	if (EVP_Digest(data, len, out, &n, sha256(), NULL) != 1 || n != CR_HASH_LEN)
		abort();
}

int
cr_sha256_init(struct cr_sha256_ctx *c)
{
	if (c->md == NULL && (c->md = EVP_MD_CTX_new()) == NULL)
		return CH_E_NOMEM;
	if (EVP_DigestInit_ex(c->md, sha256(), NULL) != 1)
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
