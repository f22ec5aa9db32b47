/*
 * chaind-byzantine: chaind whose validators misbehave as CHAIND_BYZANTINE
 * names (byzantine.h); without it, chaind itself.
 */
#include <stdlib.h>

#include "byzantine.h"
#include "node/cli/cli.h"
#include "node/log.h"

/* The behaviour of the validator `start` runs (one per process). */
static struct node_byz *behaviour;
static struct node_identity identity;

static int
prepare(struct node *n, struct ch_err *err)
{
	const char *name = getenv("CHAIND_BYZANTINE");
	if (name == NULL)
		return 0;
	node_identity(n, &identity);
	int rc = node_byz_new(&behaviour, name, &identity, err);
	if (rc != 0)
		return rc;
	node_set_send_hook(n, node_byz_send, behaviour);
	log_warn("Byzantine test build: this validator misbehaves (%s)", node_byz_name(behaviour));
	return 0;
}

int
main(int argc, char **argv)
{
	int rc = node_cli_main(argc, argv, prepare);
	node_byz_free(behaviour);
	return rc;
}
