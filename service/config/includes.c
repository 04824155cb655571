/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <strings.h>

#include "includes.h"

/* The text as the preprocessor sees it: line splices (backslash-newline) vanish. */
struct scanner {
	const char *s;
	size_t i;
	unsigned line;
};

static char peek(struct scanner *sc)
{
	for (;;) {
		const char *p = sc->s + sc->i;

		if (p[0] == '\\' && p[1] == '\n')
			sc->i += 2;
		else if (p[0] == '\\' && p[1] == '\r' && p[2] == '\n')
			sc->i += 3;
		else
			return p[0];
		sc->line++;
	}
}

static char get(struct scanner *sc)
{
	char c = peek(sc);

	if (c)
		sc->i++;
	if (c == '\n')
		sc->line++;
	return c;
}

static char peek2(const struct scanner *sc)
{
	struct scanner t = *sc;

	get(&t);
	return peek(&t);
}

/* Skips blanks and comments (a comment is one blank, even over lines), not newlines. */
static void skip_blanks(struct scanner *sc)
{
	for (;;) {
		char c = peek(sc);

		if (c == ' ' || c == '\t' || c == '\f' || c == '\v' || c == '\r') {
			get(sc);
		} else if (c == '/' && peek2(sc) == '*') {
			get(sc);
			get(sc);
			while ((c = get(sc)) && !(c == '*' && peek(sc) == '/'))
				;
			get(sc);
		} else if (c == '/' && peek2(sc) == '/') {
			while ((c = peek(sc)) && c != '\n')
				get(sc);
		} else {
			return;
		}
	}
}

static size_t read_identifier(struct scanner *sc, char *buf, size_t size)
{
	size_t n = 0;
	char c;

	while ((c = peek(sc)) && (isalnum((unsigned char)c) || c == '_')) {
		get(sc);
		if (n + 1 < size)
			buf[n++] = c;
	}
	buf[n] = '\0';
	return n;
}

static bool path_escapes(const char *path)
{
	const char *p = path;

	if (path[0] == '/')
		return true;
	for (;;) {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return true;
		if (!p[n])
			return false;
		p += n + 1;
	}
}

static int refuse(const char *unit, unsigned line, const char *what, dm_error *error)
{
	return dm_error_set(error, -EXDEV,
			    "%s:%u: %s names a file outside the include directories; include "
			    "dynmon's and the system's headers by a relative path without \"..\".",
			    unit, line, what);
}

/* The "path" or <path> after an include directive or in __has_include(). */
static int check_header_name(struct scanner *sc, const char *directive, const char *unit,
			     dm_error *error)
{
	unsigned line = sc->line;
	char path[4096], what[4200];
	char c = peek(sc), open = c, close;
	size_t n = 0;

	if (c != '"' && c != '<') {
		snprintf(what, sizeof(what), "%s with a macro", directive);
		return refuse(unit, line, what, error);
	}
	close = c == '"' ? '"' : '>';
	get(sc);
	while ((c = peek(sc)) && c != close && c != '\n') {
		get(sc);
		if (n + 1 < sizeof(path))
			path[n++] = c;
	}
	path[n] = '\0';
	if (!path_escapes(path))
		return 0;
	snprintf(what, sizeof(what), "%s %c%s%c", directive, open, path, close);
	return refuse(unit, line, what, error);
}

static bool is_include(const char *directive)
{
	static const char *const names[] = {"include", "include_next", "import", "embed"};

	for (size_t i = 0; i < ELEMENTSOF(names); i++)
		if (streq(directive, names[i]))
			return true;
	return false;
}

static int check_directive(struct scanner *sc, const char *unit, dm_error *error)
{
	char name[32], directive[40];

	skip_blanks(sc);
	read_identifier(sc, name, sizeof(name));
	if (!is_include(name))
		return 0;
	skip_blanks(sc);
	snprintf(directive, sizeof(directive), "#%s", name);
	return check_header_name(sc, directive, unit, error);
}

static int check_has_include(struct scanner *sc, const char *name, const char *unit,
			     dm_error *error)
{
	skip_blanks(sc);
	if (peek(sc) != '(')
		return 0;
	get(sc);
	skip_blanks(sc);
	return check_header_name(sc, name, unit, error);
}

static void skip_literal(struct scanner *sc)
{
	char quote = get(sc), c;

	while ((c = peek(sc)) && c != '\n') {
		get(sc);
		if (c == '\\')
			get(sc);
		else if (c == quote)
			return;
	}
}

/* One character of a string literal as the compiler sees it (escapes decoded); 0 at its end. */
static int literal_char(struct scanner *sc)
{
	char c = get(sc);
	int v = 0;

	if (c == '"' || c == '\n' || !c)
		return 0;
	if (c != '\\')
		return (unsigned char)c;
	c = get(sc);
	if (c == 'x') {
		while (isxdigit((unsigned char)peek(sc)))
			v = v * 16 + (isdigit((unsigned char)peek(sc))
					  ? get(sc) - '0'
					  : (tolower(get(sc)) - 'a' + 10));
		return v & 0xff ?: ' ';
	}
	if (c >= '0' && c <= '7') {
		v = c - '0';
		for (int n = 1; n < 3 && peek(sc) >= '0' && peek(sc) <= '7'; n++)
			v = v * 8 + get(sc) - '0';
		return v & 0xff ?: ' ';
	}
	return c == 'n' ? '\n' : c == 't' ? '\t' : (unsigned char)c;
}

/* What the assembler would read in adjacent string literals ("a" "b" is "ab"), lower case (its
 * directives are case-insensitive), its macro separator \() taken out: whether it asks for
 * .incbin or defines an assembler macro, which could assemble the directive from pieces. */
static bool literals_read_files(struct scanner *sc, bool *line_start)
{
	static const char *const words[] = {"incbin", ".macro", ".irp"};
	char text[4096];
	size_t n = 0;
	int c;

	while (peek(sc) == '"') {
		*line_start = false;
		get(sc);
		while ((c = literal_char(sc))) {
			if (n >= 2 && c == ')' && text[n - 1] == '(' && text[n - 2] == '\\')
				n -= 2;
			else if (n + 1 < sizeof(text))
				text[n++] = (char)tolower(c);
		}
		while (peek(sc) == '\n' || isspace((unsigned char)peek(sc)) ||
		       (peek(sc) == '/' && (peek2(sc) == '*' || peek2(sc) == '/'))) {
			if (peek(sc) == '\n')
				*line_start = get(sc); /* a directive may follow */
			else
				skip_blanks(sc);
		}
	}
	text[n] = '\0';
	for (size_t i = 0; i < ELEMENTSOF(words); i++)
		if (strstr(text, words[i]))
			return true;
	return false;
}

static int refuse_incbin(const char *unit, unsigned line, dm_error *error)
{
	return dm_error_set(error, -EXDEV,
			    "%s:%u: the code asks the assembler for \"incbin\" or an assembler "
			    "macro: the assembler may not read files into the program.",
			    unit, line);
}

int dm_includes_check(const char *code, const char *unit_name, dm_error *error)
{
	struct scanner sc = {.s = code, .line = 1};
	bool line_start = true;
	char c, name[32];
	int r;

	while ((c = peek(&sc))) {
		if (c == '\n') {
			get(&sc);
			line_start = true;
		} else if (c == ' ' || c == '\t' || c == '\f' || c == '\v' || c == '\r' ||
			   (c == '/' && (peek2(&sc) == '*' || peek2(&sc) == '/'))) {
			skip_blanks(&sc);
		} else if (line_start && (c == '#' || (c == '%' && peek2(&sc) == ':'))) {
			get(&sc);
			if (c == '%')
				get(&sc);
			r = check_directive(&sc, unit_name, error);
			if (r < 0)
				return r;
			line_start = false;
		} else if (c == '"') {
			unsigned line = sc.line;

			if (literals_read_files(&sc, &line_start))
				return refuse_incbin(unit_name, line, error);
		} else if (c == '\'') {
			skip_literal(&sc);
			line_start = false;
		} else if (isalpha((unsigned char)c) || c == '_') {
			read_identifier(&sc, name, sizeof(name));
			/* asm(S(.incbin "f")) with #define S(x) #x: the directive as a token. */
			if (strcasecmp(name, "incbin") == 0)
				return refuse_incbin(unit_name, sc.line, error);
			if (streq(name, "__has_include") || streq(name, "__has_include_next")) {
				r = check_has_include(&sc, name, unit_name, error);
				if (r < 0)
					return r;
			}
			line_start = false;
		} else {
			get(&sc);
			line_start = false;
		}
	}
	return 0;
}
