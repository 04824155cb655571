/* SPDX-License-Identifier: Apache-2.0 */
/* The proof by other tools that a text is OpenMetrics, shared by the tests that render it: the
 * strict parser of Debian's python3-prometheus-client on the OpenMetrics text, and
 * `promtool check metrics` on its Prometheus text form (om_to_prometheus_text()). A missing
 * tool is a failure, not a skip: the format's correctness is what these tests are for.
 * Include after cmocka.h. */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "openmetrics.h"
#include "util.h"

/* Debian's python3-prometheus-client is importable only from the system interpreter. */
#define OM_CHECK_PYTHON "/usr/bin/python3"

/* The families and samples the strict parser read, one family a line and its samples below:
 * what a test compares to know the parser understood what was meant. */
#define OM_CHECK_PARSE_SCRIPT                                                                      \
	"import sys\n"                                                                             \
	"from prometheus_client.openmetrics.parser import text_string_to_metric_families\n"        \
	"for f in text_string_to_metric_families(open(sys.argv[1]).read()):\n"                     \
	"    print(f.name, f.type, repr(f.unit), repr(f.documentation))\n"                         \
	"    for s in f.samples:\n"                                                                \
	"        print(' ', s.name, sorted(s.labels.items()), repr(s.value))\n"

/* Runs the shell command `cmd` on a file holding `text` (the file is $1); returns what it
 * printed (stdout and stderr) and its exit status. */
static inline char *om_check_run_on_text(const char *cmd, const char *text, int *ret_status)
{
	char path[] = "/tmp/test-om-XXXXXX";
	_cleanup_free_ char *line = NULL;
	char *out = NULL, buf[4096];
	size_t size = 0, n;
	FILE *p, *f;
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	line = strdup_printf("sh -c '%s' sh %s 2>&1", cmd, path);
	assert_non_null(line);
	p = popen(line, "r");
	assert_non_null(p);
	f = open_memstream(&out, &size);
	assert_non_null(f);
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		fwrite(buf, 1, n, f);
	*ret_status = pclose(p);
	assert_int_equal(fclose(f), 0);
	unlink(path);
	return out;
}

/* What the strict parser read of `text`; fails the test when it refuses it. */
static inline char *om_check_parse(const char *text)
{
	char *out;
	int status;

	assert_int_equal(setenv("DM_SCRIPT", OM_CHECK_PARSE_SCRIPT, 1), 0);
	out = om_check_run_on_text(OM_CHECK_PYTHON " -c \"$DM_SCRIPT\" \"$1\"", text, &status);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg(
		    "the strict OpenMetrics parser refused (status %d):\n%s\n--- the text:\n%s",
		    status, out, text);
	return out;
}

/* `text` (OpenMetrics, with "# EOF") passes the strict parser, and its Prometheus text form
 * passes promtool without a single remark. */
static inline void om_check_document(const char *text)
{
	_cleanup_free_ char *parsed = NULL, *prometheus = NULL, *out = NULL;
	int status, r;

	parsed = om_check_parse(text);
	r = om_to_prometheus_text(text, &prometheus);
	if (r < 0)
		fail_msg("om_to_prometheus_text: %s\n%s", strerror(-r), text);
	out = om_check_run_on_text("promtool check metrics < \"$1\"", prometheus, &status);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("promtool check metrics (status %d):\n%s\n--- the text:\n%s", status, out,
			 prometheus);
}
