/* The readiness checks (ready.h). */
#include "node/ready.h"

struct node_ready
node_ready_check(const struct node_ready_facts *f)
{
	struct node_ready r = {
		.store = f->store_ok,
		.disk = !f->disk_known || f->free_bytes >= (uint64_t)f->min_free_disk_mb << 20,
		/* not f->syncing: a validator a block behind under load asks for it, and is fine */
		.sync = f->height + NODE_READY_MAX_LAG >= f->peer_height,
		.peers = f->seen >= f->quorum,
	};
	r.ready = r.store && r.disk && r.sync && r.peers;
	return r;
}

static cJSON *
check(cJSON *checks, cJSON *failing, const char *name, bool ok)
{
	cJSON *c = cJSON_AddObjectToObject(checks, name);
	if (c != NULL)
		cJSON_AddBoolToObject(c, "ok", ok);
	if (!ok)
		cJSON_AddItemToArray(failing, cJSON_CreateString(name));
	return c;
}

cJSON *
node_ready_json(const struct node_ready_facts *f, const struct node_ready *r)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "ready", r->ready);
	cJSON *failing = cJSON_AddArrayToObject(o, "failing");
	cJSON *checks = cJSON_AddObjectToObject(o, "checks");
	if (failing == NULL || checks == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	check(checks, failing, "store", r->store);
	cJSON *c = check(checks, failing, "disk", r->disk);
	if (c != NULL && f->disk_known)
		cJSON_AddNumberToObject(c, "free_mb", (double)(f->free_bytes >> 20));
	if (c != NULL)
		cJSON_AddNumberToObject(c, "min_free_disk_mb", f->min_free_disk_mb);
	c = check(checks, failing, "sync", r->sync);
	if (c != NULL) {
		cJSON_AddNumberToObject(c, "height", (double)f->height);
		cJSON_AddNumberToObject(c, "peer_height", (double)f->peer_height);
		cJSON_AddNumberToObject(c, "max_lag", NODE_READY_MAX_LAG);
		cJSON_AddBoolToObject(c, "state_transfer", f->syncing);
	}
	c = check(checks, failing, "peers", r->peers);
	if (c != NULL) {
		cJSON_AddNumberToObject(c, "seen", f->seen);
		cJSON_AddNumberToObject(c, "quorum", f->quorum);
		cJSON_AddNumberToObject(c, "window_ms", NODE_READY_PEER_WINDOW_MS);
	}
	return o;
}
