/* chaind: the validator daemon and its network tools (node/cli/cli.h). */
#include "node/cli/cli.h"

int
main(int argc, char **argv)
{
	return node_cli_main(argc, argv, NULL);
}
