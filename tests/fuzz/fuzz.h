/* SPDX-License-Identifier: Apache-2.0 */
/* What every fuzz target shares: the bytes as a C string, and a check that aborts (a crash,
 * which libFuzzer reports with its input) when a property the code promises does not hold. */
#pragma once

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* The input as a NUL-terminated string (cut at its first NUL, as a C caller would see it). */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#define fuzz_assert(cond, ...)                                                                     \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz: %s:%d: %s: ", __FILE__, __LINE__, #cond);           \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* The code under test logs what it rejects: millions of lines would only slow the fuzzer. */
static inline void fuzz_quiet(void)
{
	log_set_max_level(LOG_EMERG - 1);
}
