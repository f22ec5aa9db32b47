/*
 * json_view.h - JSON views of transactions, headers and certificates for
 * the RPC. Each returns a new cJSON object (NULL if out of memory) that the
 * caller owns.
 */
#ifndef NODE_JSON_VIEW_H
#define NODE_JSON_VIEW_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "chain/block.h"
#include "chain/tx.h"

cJSON *node_json_tx(const struct chain_tx *tx);
cJSON *node_json_header(const struct chain_header *h);
cJSON *node_json_cert(const struct chain_cert *c);
cJSON *node_json_hex(const void *data, size_t len);
void node_json_add_hex(cJSON *obj, const char *name, const void *data, size_t len);

#endif
