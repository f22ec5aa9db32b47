/* keygen and address: the key file and the address derived from it. */
#include <stdio.h>

#include "wallet/wallet.h"

/*
 * show_key prints k's address: the bare address, or with --json an object
 * with address, pub_key and (when file is not NULL) file.
 */
static int
show_key(struct wallet_ctx *w, const struct cr_key *k, const char *file)
{
	uint8_t pub[CR_PUBKEY_LEN], addr[CR_ADDR_LEN];
	char addr_hex[2 * CR_ADDR_LEN + 1], pub_hex[2 * CR_PUBKEY_LEN + 1];
	cr_key_pubkey(k, pub);
	cr_address(pub, addr);
	cr_hex_encode(addr, CR_ADDR_LEN, addr_hex);
	cr_hex_encode(pub, CR_PUBKEY_LEN, pub_hex);
	if (!w->json) {
		printf("%s\n", addr_hex);
		return WALLET_OK;
	}
	cJSON *r = cJSON_CreateObject();
	if (r == NULL || cJSON_AddStringToObject(r, "address", addr_hex) == NULL ||
	    cJSON_AddStringToObject(r, "pub_key", pub_hex) == NULL ||
	    (file != NULL && cJSON_AddStringToObject(r, "file", file) == NULL)) {
		cJSON_Delete(r);
		return wallet_errf(w, "out of memory");
	}
	wallet_print(w, r);
	cJSON_Delete(r);
	return WALLET_OK;
}

int
wallet_cmd_keygen(struct wallet_ctx *w)
{
	struct cr_key *k = NULL;
	int rc = WALLET_FAIL;
	if (cr_key_generate(&k, &w->err) == 0 && cr_key_save_pem(k, w->val[WOPT_OUT], &w->err) == 0)
		rc = show_key(w, k, w->val[WOPT_OUT]);
	cr_key_free(k);
	return rc;
}

int
wallet_cmd_address(struct wallet_ctx *w)
{
	struct cr_key *k = NULL;
	if (wallet_load_key(w, &k) != 0)
		return WALLET_FAIL;
	int rc = show_key(w, k, NULL);
	cr_key_free(k);
	return rc;
}
