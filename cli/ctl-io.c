/* SPDX-License-Identifier: Apache-2.0 */
/* What dynmonctl reads and writes besides the bus: input files, JSON on stdout, --output files. */
#include <fcntl.h>
#include <sys/stat.h>

#include "bounds.h"
#include "ctl-io.h"
#include "exit-status.h"
#include "util.h"

static bool utf8_valid(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		unsigned len, cp, i;

		if (*p < 0x80) {
			p++;
			continue;
		}
		if (*p >= 0xc2 && *p <= 0xdf)
			len = 2, cp = *p & 0x1f;
		else if ((*p & 0xf0) == 0xe0)
			len = 3, cp = *p & 0x0f;
		else if (*p >= 0xf0 && *p <= 0xf4)
			len = 4, cp = *p & 0x07;
		else
			return false;
		/* The terminating NUL fails this test, so a cut sequence is never read past. */
		for (i = 1; i < len; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += len;
	}
	return true;
}

/* Reads all of `path`, or of stdin for "-", up to DM_CONFIG_TEXT_MAX bytes: -EFBIG past it (an
 * endless input is not read until memory runs out). -EBADMSG when it is not text a D-Bus string
 * can carry (a NUL byte, or not UTF-8). */
static int read_input(const char *path, char **ret)
{
	_cleanup_fclose_ FILE *owned = NULL;
	_cleanup_free_ char *buf = NULL;
	size_t n = 0;
	FILE *f = stdin;

	if (!streq(path, "-")) {
		owned = fopen(path, "re");
		if (!owned)
			return -errno;
		f = owned;
	}
	/* One byte more than allowed tells "too large" from "exactly at the bound". */
	buf = malloc(DM_CONFIG_TEXT_MAX + 2);
	if (!buf)
		return -ENOMEM;
	while (n <= DM_CONFIG_TEXT_MAX) {
		size_t k = fread(buf + n, 1, DM_CONFIG_TEXT_MAX + 1 - n, f);

		if (k == 0)
			break;
		n += k;
	}
	if (ferror(f))
		return errno > 0 ? -errno : -EIO;
	if (n > DM_CONFIG_TEXT_MAX)
		return -EFBIG;
	buf[n] = '\0';
	if (strlen(buf) != n || !utf8_valid(buf))
		return -EBADMSG;
	*ret = TAKE_PTR(buf);
	return 0;
}

int read_input_or_log(const char *path, char **ret)
{
	const char *what = streq(path, "-") ? "standard input" : path;
	int r;

	r = read_input(path, ret);
	if (r == -EBADMSG) {
		fprintf(stderr, "dynmonctl: %s is not UTF-8 text\n", what);
		return EXIT_REJECTED;
	}
	if (r == -EFBIG) {
		fprintf(stderr,
			"dynmonctl: %s is larger than %d bytes, the most a dataplane "
			"configuration may have\n",
			what, DM_CONFIG_TEXT_MAX);
		return EXIT_REJECTED;
	}
	if (r < 0) {
		fprintf(stderr, "dynmonctl: Failed to read %s: %s\n", what, strerror(-r));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

void print_json(json_t *j, bool compact)
{
	json_dumpf(j, stdout, JSON_ENCODE_ANY | (compact ? JSON_COMPACT : JSON_INDENT(2)));
	fputc('\n', stdout);
}

/* A JSON document the daemon sent, parsed; when it is not JSON, the text itself. */
json_t *json_from_daemon(const char *text)
{
	json_t *j;

	if (isempty(text))
		return json_null();
	j = json_loads(text, JSON_DECODE_ANY, NULL);
	return j ?: json_string(text);
}

/* Prints a JSON document from the daemon indented or compact; as it is when it is not JSON. */
void print_daemon_json(const char *text, bool compact)
{
	_cleanup_(json_decrefp) json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);

	if (j)
		print_json(j, compact);
	else
		printf("%s\n", text);
}

/* A JSON document of the daemon's, parsed: -EBADMSG when it is not JSON. */
int parse_daemon_json(const char *text, json_t **ret)
{
	*ret = json_loads(text, JSON_DECODE_ANY, NULL);
	return *ret ? 0 : -EBADMSG;
}

static int write_all(int fd, const char *text, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, text, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		text += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Replaces the regular file `path` by `text` at once, through a new file renamed over it: a
 * reader (a script polling the file, say) never sees half of it. Anything else (a
 * FIFO, /dev/stdout) is written to as it is. */
int write_file(const char *path, const char *text)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -1;
	struct stat st;
	mode_t mask;
	int r;

	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
		return fd < 0 ? -errno : write_all(fd, text, strlen(text));
	}
	if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
		return -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	mask = umask(0);
	umask(mask);
	r = fchmod(fd, 0666 & ~mask) < 0 ? -errno : write_all(fd, text, strlen(text));
	if (r >= 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}
