/* SPDX-License-Identifier: Apache-2.0 */
/* What dynmonctl reads and writes besides the bus: input files, JSON on stdout, --output files. */
#pragma once

#include <stdbool.h>

#include <jansson.h>

/* Reads all of `path`, or of stdin for "-", as text a D-Bus string can carry. Returns EXIT_OK,
 * or the exit status after saying why not. */
int read_input_or_log(const char *path, char **ret);

void print_json(json_t *j, bool compact);

/* A JSON document the daemon sent, parsed; when it is not JSON, the text itself. */
json_t *json_from_daemon(const char *text);

/* Prints a JSON document from the daemon indented or compact; as it is when it is not JSON. */
void print_daemon_json(const char *text, bool compact);

/* A JSON document of the daemon's, parsed: -EBADMSG when it is not JSON. */
int parse_daemon_json(const char *text, json_t **ret);

/* Replaces the regular file `path` by `text` at once; anything else is written to as it is. */
int write_file(const char *path, const char *text);
