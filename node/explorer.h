/*
 * explorer.h - the block explorer page (node/explorer/index.html), built
 * into the binary (CMake generates its definition), served at GET /.
 */
#ifndef NODE_EXPLORER_H
#define NODE_EXPLORER_H

#include <stddef.h>

extern const char node_explorer_html[];
extern const size_t node_explorer_html_len;

#endif
