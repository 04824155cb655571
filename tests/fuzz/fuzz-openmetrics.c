/* SPDX-License-Identifier: Apache-2.0 */
/* The OpenMetrics writer's escaping and the texts built on it. The first byte chooses:
 *   0: om_escape() of the bytes: no raw newline or lone quote comes out, and unescaping gives
 *      the bytes back; om_write_escaped() writes the same;
 *   1: a sample whose label value (and help) are the bytes, written, which
 *      om_to_prometheus_text() must take; the same family gathered in om_families and written
 *      in both flavours;
 *   2: the bytes as an OpenMetrics text for om_to_prometheus_text(). */
#include "fuzz.h"
#include "openmetrics.h"

static void escape(const char *s, size_t n)
{
	_cleanup_free_ char *dst = malloc(2 * n + 1), *written = NULL;
	_cleanup_free_ char *back = malloc(n + 1);
	size_t len, k = 0, written_len = 0;
	FILE *f;

	fuzz_assert(dst && back, "out of memory");
	len = om_escape(dst, s, n) - dst;
	fuzz_assert(len <= 2 * n, "escaped %zu bytes into %zu", n, len);
	for (size_t i = 0; i < len; i++) {
		fuzz_assert(dst[i] != '\n' && dst[i] != '"', "a raw %s in the escaped text",
			    dst[i] == '\n' ? "newline" : "quote");
		if (dst[i] == '\\') {
			fuzz_assert(i + 1 < len, "a lone backslash at the end");
			i++;
			fuzz_assert(dst[i] == '\\' || dst[i] == '"' || dst[i] == 'n',
				    "an unknown escape \\%c", dst[i]);
			back[k++] = dst[i] == 'n' ? '\n' : dst[i];
		} else
			back[k++] = dst[i];
	}
	fuzz_assert(k == n && memcmp(back, s, n) == 0, "unescaping does not give the bytes back");
	/* The FILE flavour, on the string (up to its first NUL, as it takes a C string). */
	f = open_memstream(&written, &written_len);
	fuzz_assert(f, "out of memory");
	fuzz_assert(om_write_escaped(f, s) == 0 && fclose(f) == 0, "om_write_escaped failed");
	len = om_escape(dst, s, strlen(s)) - dst;
	fuzz_assert(written_len == len && memcmp(written, dst, len) == 0,
		    "om_write_escaped and om_escape differ");
}

static void sample(const char *value)
{
	_cleanup_(om_families_freep) struct om_families *fs = NULL;
	_cleanup_free_ char *text = NULL, *prometheus = NULL, *doc = NULL;
	struct om_label label = {"label", value};
	struct dm_number number = {.kind = DM_NUMBER_U64, .u = 1};
	struct om_text *samples = NULL, out = {};
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int r;

	fuzz_assert(f, "out of memory");
	fuzz_assert(om_write_family(f, "fuzz", DM_METRIC_GAUGE, value, NULL) == 0 &&
			om_write_sample(f, "fuzz", "", &label, 1, &number) == 0 && fclose(f) == 0,
		    "writing failed");
	r = om_to_prometheus_text(text, &prometheus);
	fuzz_assert(r == 0, "what the writer wrote is not taken back (%d):\n%s", r, text);
	/* The sample line alone, gathered into its family and written in both flavours. */
	fuzz_assert(om_families_new(&fs) == 0, "out of memory");
	fuzz_assert(om_families_get(fs, "fuzz", DM_METRIC_GAUGE, value, NULL, &samples) == 1,
		    "om_families_get failed");
	fuzz_assert(om_text_append(samples, strstr(text, "\nfuzz{") + 1,
				   strlen(strstr(text, "\nfuzz{") + 1)) == 0,
		    "out of memory");
	fuzz_assert(om_families_take(fs, OM_FLAVOR_PROMETHEUS, false, &out) == 0,
		    "om_families_take failed");
	fuzz_assert(om_text_take_string(&out, &doc, NULL) == 0, "out of memory");
}

static void parse(const char *text)
{
	_cleanup_free_ char *prometheus = NULL;

	(void)om_to_prometheus_text(text, &prometheus);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *s = NULL;

	if (size < 1)
		return 0;
	s = fuzz_string(data + 1, size - 1);
	fuzz_quiet();
	switch (data[0] % 3) {
	case 0:
		escape(s, size - 1);
		break;
	case 1:
		sample(s);
		break;
	default:
		parse(s);
		break;
	}
	return 0;
}
