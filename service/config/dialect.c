/* SPDX-License-Identifier: Apache-2.0 */
/* The Polycube/BCC dialect as plain C: a scanner that knows comments and literals, and three
 * rewrites on top of it (map declarations, method calls, includes). Everything else of the
 * user's text is copied as it is, newlines included, so that its line numbers survive. The
 * C side of the translation lives in bpf/include/polycube.h. */
#include <ctype.h>

#include "dialect.h"

/* Map methods polycube.h implements as dm_<method>(MAP, args). */
/* clang-format off */
static const char *const methods[] = {
	"lookup", "lookup_or_init", "lookup_or_try_init", "update", "insert", "delete",
	"increment", "atomic_increment", "push", "pop", "peek",
};
/* clang-format on */

/* BCC's other methods: programs using them are Polycube code that dynmon cannot run. */
/* clang-format off */
static const char *const unsupported_methods[] = {
	"call", "perf_submit", "perf_submit_skb", "perf_read", "perf_counter_value",
	"get_stackid", "ringbuf_output", "ringbuf_reserve", "ringbuf_submit", "ringbuf_discard",
	"redirect_map", "sock_map_update", "sock_hash_update", "msg_redirect_map",
	"msg_redirect_hash", "sk_redirect_map", "sk_redirect_hash", "sk_storage_get",
	"sk_storage_delete", "check_current_task",
};
/* clang-format on */

/* The kinds a table declaration may name, as BCC spells them. */
struct map_kind {
	const char *name;
	const char *type;
	const char *flags;
	bool keyless;
};

static const struct map_kind map_kinds[] = {
    {"hash", "BPF_MAP_TYPE_HASH", "0", false},
    {"array", "BPF_MAP_TYPE_ARRAY", "0", false},
    {"histogram", "BPF_MAP_TYPE_ARRAY", "0", false},
    {"percpu_hash", "BPF_MAP_TYPE_PERCPU_HASH", "0", false},
    {"percpu_array", "BPF_MAP_TYPE_PERCPU_ARRAY", "0", false},
    {"lru_hash", "BPF_MAP_TYPE_LRU_HASH", "0", false},
    {"lru_percpu_hash", "BPF_MAP_TYPE_LRU_PERCPU_HASH", "0", false},
    {"lpm_trie", "BPF_MAP_TYPE_LPM_TRIE", "BPF_F_NO_PREALLOC", false},
    {"queue", "BPF_MAP_TYPE_QUEUE", "0", true},
    {"stack", "BPF_MAP_TYPE_STACK", "0", true},
};

enum table_form {
	FORM_TABLE,	 /* (kind, K, V, NAME, SIZE) */
	FORM_F_TABLE,	 /* (kind, K, V, NAME, SIZE, FLAGS) */
	FORM_PINNED,	 /* (kind, K, V, NAME, SIZE, PATH[, FLAGS]) */
	FORM_QUEUESTACK, /* (kind, NAME, V, SIZE, FLAGS[, PATH]) */
};

/* The declarations whose first argument is a kind string, which only the rewrite can read. */
struct table_macro {
	const char *name;
	enum table_form form;
	bool shared;
	size_t min_args, max_args;
	size_t name_arg;
};

static const struct table_macro table_macros[] = {
    {"BPF_TABLE", FORM_TABLE, false, 5, 5, 3},
    {"BPF_TABLE_SHARED", FORM_TABLE, true, 5, 5, 3},
    {"BPF_TABLE_PUBLIC", FORM_TABLE, true, 5, 5, 3},
    {"BPF_TABLE_PINNED", FORM_PINNED, true, 6, 7, 3},
    {"BPF_F_TABLE", FORM_F_TABLE, false, 6, 6, 3},
    {"BPF_QUEUESTACK", FORM_QUEUESTACK, false, 5, 5, 1},
    {"BPF_QUEUESTACK_SHARED", FORM_QUEUESTACK, true, 5, 5, 1},
    {"BPF_QUEUESTACK_PUBLIC", FORM_QUEUESTACK, true, 5, 5, 1},
    {"BPF_QUEUESTACK_PINNED", FORM_QUEUESTACK, true, 6, 6, 1},
};

/* Identifiers that only Polycube code uses (besides the table macros above). */
/* clang-format off */
static const char *const polycube_words[] = {
	"handle_rx", "pcn_log", "pcn_pkt_log", "BPF_ARRAY", "BPF_HASH", "BPF_PERCPU_ARRAY",
	"BPF_PERCPU_HASH", "BPF_QUEUE", "BPF_STACK", "BPF_HISTOGRAM", "BPF_LPM_TRIE",
};
/* clang-format on */

/* BCC's other declarations: maps that make no sense for a monitor, or that dynmon lacks. */
/* clang-format off */
static const char *const unsupported_macros[] = {
	"BPF_PERF_OUTPUT", "BPF_PERF_ARRAY", "BPF_RINGBUF_OUTPUT", "BPF_PROG_ARRAY",
	"BPF_STACK_TRACE", "BPF_CGROUP_ARRAY", "BPF_DEVMAP", "BPF_CPUMAP", "BPF_XSKMAP",
	"BPF_SOCKMAP", "BPF_SOCKHASH", "BPF_HASH_OF_MAPS", "BPF_ARRAY_OF_MAPS", "BPF_SK_STORAGE",
	"BPF_INODE_STORAGE", "BPF_TASK_STORAGE", "BPF_CGROUP_STORAGE",
	"BPF_PERCPU_CGROUP_STORAGE",
};
/* clang-format on */

/* Headers BCC code includes that mean something else, or nothing, under plain clang. */
static const char *const headers_in_polycube_h[] = {"bcc/helpers.h", "bcc/proto.h", "stdint.h"};

static bool is_ident_start(char c)
{
	return isalpha((unsigned char)c) || c == '_';
}

static bool is_ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* Whether the n characters at s are the word w. */
static bool word_eq(const char *s, size_t n, const char *w)
{
	return strlen(w) == n && strncmp(s, w, n) == 0;
}

static bool word_in(const char *s, size_t n, const char *const *list, size_t n_list)
{
	for (size_t i = 0; i < n_list; i++)
		if (word_eq(s, n, list[i]))
			return true;
	return false;
}

static const struct table_macro *find_table_macro(const char *s, size_t n)
{
	for (size_t i = 0; i < ELEMENTSOF(table_macros); i++)
		if (word_eq(s, n, table_macros[i].name))
			return &table_macros[i];
	return NULL;
}

static const struct map_kind *find_kind(const char *s, size_t n)
{
	for (size_t i = 0; i < ELEMENTSOF(map_kinds); i++)
		if (word_eq(s, n, map_kinds[i].name))
			return &map_kinds[i];
	return NULL;
}

static size_t skip_blanks(const char *s, size_t i)
{
	while (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '\f' ||
	       s[i] == '\v')
		i++;
	return i;
}

static size_t ident_end(const char *s, size_t i)
{
	while (is_ident_char(s[i]))
		i++;
	return i;
}

static unsigned line_at(const char *s, size_t pos)
{
	unsigned line = 1;

	for (size_t i = 0; i < pos; i++)
		line += s[i] == '\n';
	return line;
}

/* If s[i] starts a comment or a string or character literal, the index just after it; else i.
 * An unterminated one ends at the end of the line (literals) or of the text (comments). */
static size_t skip_opaque(const char *s, size_t i)
{
	if (s[i] == '/' && s[i + 1] == '/') {
		while (s[i] && s[i] != '\n')
			i += (s[i] == '\\' && s[i + 1] == '\n') ? 2 : 1;
		return i;
	}
	if (s[i] == '/' && s[i + 1] == '*') {
		const char *end = strstr(s + i + 2, "*/");
		return end ? (size_t)(end - s) + 2 : i + strlen(s + i);
	}
	if (s[i] == '"' || s[i] == '\'') {
		char quote = s[i++];
		while (s[i] && s[i] != quote && s[i] != '\n')
			i += (s[i] == '\\' && s[i + 1]) ? 2 : 1;
		return s[i] == quote ? i + 1 : i;
	}
	return i;
}

/* A preprocessing number, so that "1e5" or "0x1f" never reads as an identifier. */
static size_t number_end(const char *s, size_t i)
{
	for (;;) {
		if ((s[i] == 'e' || s[i] == 'E' || s[i] == 'p' || s[i] == 'P') &&
		    (s[i + 1] == '+' || s[i + 1] == '-'))
			i += 2;
		else if (is_ident_char(s[i]) || s[i] == '.')
			i++;
		else
			return i;
	}
}

/* ---- The scanner: code tokens, with comments and literals as opaque ones ---- */

enum token_kind {
	TOKEN_OPAQUE, /* a comment or a literal */
	TOKEN_IDENT,
	TOKEN_NUMBER,
	TOKEN_DIRECTIVE, /* the '#' that starts a preprocessing directive */
	TOKEN_CHAR,	 /* any other single character, blanks included */
};

struct scanner {
	const char *s;
	size_t pos;
	bool line_start;  /* only blanks since the start of the line */
	char prev, prev2; /* the last two significant characters, to tell "a.b" and "a->b" */
};

struct token {
	enum token_kind kind;
	size_t start, end;
	bool after_member; /* an identifier right after "." or "->": a member, not a map */
};

static bool scanner_next(struct scanner *sc, struct token *t)
{
	const char *s = sc->s;
	size_t i = sc->pos, e;
	char c = s[i];

	if (!c)
		return false;
	e = skip_opaque(s, i);
	if (e != i) {
		*t = (struct token){TOKEN_OPAQUE, i, e, false};
		if (s[i] != '/') {
			sc->prev = sc->prev2 = '"';
			sc->line_start = false;
		}
	} else if (is_ident_start(c) || isdigit((unsigned char)c)) {
		e = is_ident_start(c) ? ident_end(s, i) : number_end(s, i);
		*t = (struct token){is_ident_start(c) ? TOKEN_IDENT : TOKEN_NUMBER, i, e,
				    sc->prev == '.' || (sc->prev == '>' && sc->prev2 == '-')};
		sc->prev = sc->prev2 = 'a';
		sc->line_start = false;
	} else {
		e = i + 1;
		*t = (struct token){c == '#' && sc->line_start ? TOKEN_DIRECTIVE : TOKEN_CHAR, i, e,
				    false};
		if (c == '\n')
			sc->line_start = true;
		else if (!isspace((unsigned char)c)) {
			sc->line_start = false;
			sc->prev2 = sc->prev;
			sc->prev = c;
		}
	}
	sc->pos = e;
	return true;
}

/* IDENT [blanks] '.' [blanks] METHOD [blanks] '(' starting at the end of IDENT: the method's
 * position and length, and the index of the '('. */
static bool match_method_call(const char *s, size_t ident_end_pos, size_t *ret_method,
			      size_t *ret_method_len, size_t *ret_paren)
{
	size_t i = skip_blanks(s, ident_end_pos), m, e;

	if (s[i] != '.')
		return false;
	m = skip_blanks(s, i + 1);
	if (!is_ident_start(s[m]))
		return false;
	e = ident_end(s, m);
	i = skip_blanks(s, e);
	if (s[i] != '(')
		return false;
	*ret_method = m;
	*ret_method_len = e - m;
	*ret_paren = i;
	return true;
}

/* ---- Detection ---- */

static bool is_polycube_word(const char *s, size_t n)
{
	return word_in(s, n, polycube_words, ELEMENTSOF(polycube_words)) ||
	       word_in(s, n, unsupported_macros, ELEMENTSOF(unsupported_macros)) ||
	       find_table_macro(s, n);
}

enum dm_dialect dm_dialect_detect(const char *code)
{
	struct scanner sc = {.s = strempty(code), .line_start = true};
	struct token t;

	while (scanner_next(&sc, &t)) {
		size_t m, mlen, paren;

		if (t.kind != TOKEN_IDENT || t.after_member)
			continue;
		if (is_polycube_word(sc.s + t.start, t.end - t.start))
			return DM_DIALECT_POLYCUBE;
		/* BPF code has no function pointers: IDENT.method( can only be a BCC map call. */
		if (match_method_call(sc.s, t.end, &m, &mlen, &paren) &&
		    (word_in(sc.s + m, mlen, methods, ELEMENTSOF(methods)) ||
		     word_in(sc.s + m, mlen, unsupported_methods, ELEMENTSOF(unsupported_methods))))
			return DM_DIALECT_POLYCUBE;
	}
	return DM_DIALECT_LIBBPF;
}

/* ---- Translation ---- */

/* A NULL-terminated list of names without duplicates. */
struct name_list {
	char **v;
	size_t n;
};

static int name_list_add(struct name_list *l, const char *name, size_t len)
{
	char **a;

	for (size_t i = 0; i < l->n; i++)
		if (word_eq(name, len, l->v[i]))
			return 0;
	a = realloc(l->v, (l->n + 2) * sizeof(char *));
	if (!a)
		return -ENOMEM;
	l->v = a;
	a[l->n] = strndup(name, len);
	if (!a[l->n])
		return -ENOMEM;
	a[++l->n] = NULL;
	return 0;
}

/* Hands the list over, an empty one as a lone NULL. */
static char **name_list_take(struct name_list *l)
{
	char **v = l->v ?: calloc(1, sizeof(char *));

	*l = (struct name_list){};
	return v;
}

static void strv_free(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

struct translator {
	struct scanner sc;
	FILE *out;
	const char *unit; /* "ingress.bpf.c": messages name the user's line as clang does */
	struct name_list shared, externs;
	bool has_handle_rx;
};

/* Writes `text` in place of s[start, end), then the newlines that range held. */
static void emit_replacing(struct translator *t, const char *text, size_t start, size_t end)
{
	fputs(text, t->out);
	for (size_t i = start; i < end; i++)
		if (t->sc.s[i] == '\n')
			fputc('\n', t->out);
}

struct arg {
	size_t start, end; /* trimmed */
	size_t comma;	   /* the ',' or ')' after it */
};

#define MAX_ARGS 8

/* Splits the arguments of the call whose '(' is at `paren`, at the commas outside brackets.
 * Returns how many there are (MAX_ARGS + 1 for too many), or -EBADMSG when the ')' is missing. */
static int split_args(const char *s, size_t paren, struct arg *args)
{
	size_t i = paren + 1, start = i, n = 0;
	int depth = 0;

	while (s[i]) {
		size_t e = skip_opaque(s, i);
		char c = s[i];

		if (e != i) {
			i = e;
			continue;
		}
		if (c == '(' || c == '[' || c == '{')
			depth++;
		else if ((c == ')' || c == ']' || c == '}') && depth > 0)
			depth--;
		else if (depth == 0 && (c == ',' || c == ')')) {
			if (n < MAX_ARGS) {
				size_t a = skip_blanks(s, start), b = i;
				while (b > a && isspace((unsigned char)s[b - 1]))
					b--;
				args[n] = (struct arg){a, b, i};
			}
			n++;
			start = i + 1;
			if (c == ')')
				return n > MAX_ARGS ? MAX_ARGS + 1 : (int)n;
		}
		i++;
	}
	return -EBADMSG;
}

static const char *table_head(const struct table_macro *m, const struct map_kind *k)
{
	if (m->form == FORM_QUEUESTACK)
		return "DM_QUEUESTACK";
	if (m->form == FORM_F_TABLE)
		return k->keyless ? "DM_F_TABLE_NOKEY" : "DM_F_TABLE";
	if (m->form == FORM_PINNED)
		return k->keyless ? "DM_TABLE_PINNED_NOKEY" : "DM_TABLE_PINNED";
	return k->keyless ? "DM_TABLE_NOKEY" : "DM_TABLE";
}

/* The map kind of a table declaration, its first argument: a string literal. */
static int table_kind(struct translator *t, const struct table_macro *m, const struct arg *a,
		      size_t at, const struct map_kind **ret, bool *ret_extern, dm_error *error)
{
	const char *s = t->sc.s + a->start;
	size_t n = a->end - a->start;

	if (n < 2 || s[0] != '"' || s[n - 1] != '"' || skip_opaque(t->sc.s, a->start) != a->end)
		return dm_error_set(error, -EBADMSG,
				    "%s:%u: the first argument of %s must be a map kind in quotes, "
				    "such as \"hash\".",
				    t->unit, line_at(t->sc.s, at), m->name);
	*ret_extern = m->form != FORM_QUEUESTACK && word_eq(s + 1, n - 2, "extern");
	if (*ret_extern)
		return 0;
	*ret = find_kind(s + 1, n - 2);
	if (!*ret || (m->form == FORM_QUEUESTACK && !(*ret)->keyless))
		return dm_error_set(error, -EBADMSG,
				    "%s:%u: %s: unknown map kind %.*s (dynmon knows %s).", t->unit,
				    line_at(t->sc.s, at), m->name, (int)n, s,
				    m->form == FORM_QUEUESTACK
					? "\"queue\" and \"stack\""
					: "\"hash\", \"array\", \"histogram\", \"percpu_hash\", "
					  "\"percpu_array\", \"lru_hash\", \"lru_percpu_hash\", "
					  "\"lpm_trie\", \"queue\", \"stack\" and \"extern\"");
	return 0;
}

/* BPF_TABLE("kind", ...) and its kin: only the head up to the kind's comma is rewritten, into
 * the polycube.h macro for that kind; the other arguments stay where the user wrote them. */
static int rewrite_table(struct translator *t, const struct table_macro *m, size_t at,
			 size_t name_end, dm_error *error)
{
	const char *s = t->sc.s;
	size_t paren = skip_blanks(s, name_end);
	const struct map_kind *kind = NULL;
	struct arg args[MAX_ARGS];
	_cleanup_free_ char *head = NULL;
	bool is_extern;
	int n, r;

	if (s[paren] != '(') { /* not a use: #ifdef BPF_TABLE, say */
		fwrite(s + at, 1, name_end - at, t->out);
		return 0;
	}
	n = split_args(s, paren, args);
	if (n < 0)
		return dm_error_set(error, -EBADMSG, "%s:%u: %s( is never closed.", t->unit,
				    line_at(s, at), m->name);
	if ((size_t)n < m->min_args || (size_t)n > m->max_args) {
		_cleanup_free_ char *count =
		    m->max_args > m->min_args
			? strdup_printf("%zu or %zu", m->min_args, m->max_args)
			: strdup_printf("%zu", m->min_args);
		return dm_error_set(error, -EBADMSG, "%s:%u: %s takes %s arguments, not %d.",
				    t->unit, line_at(s, at), m->name, strempty(count), n);
	}
	r = table_kind(t, m, &args[0], at, &kind, &is_extern, error);
	if (r < 0)
		return r;

	if (m->shared || is_extern) {
		const struct arg *name = &args[m->name_arg];
		if (ident_end(s, name->start) != name->end || !is_ident_start(s[name->start]))
			return dm_error_set(error, -EBADMSG,
					    "%s:%u: %s: the map's name must be an identifier.",
					    t->unit, line_at(s, at), m->name);
		r = name_list_add(&t->shared, s + name->start, name->end - name->start);
		if (r >= 0 && is_extern)
			r = name_list_add(&t->externs, s + name->start, name->end - name->start);
		if (r < 0)
			return r;
	}
	if (is_extern)
		head = strdup("DM_TABLE_EXTERN(");
	else if (m->form == FORM_QUEUESTACK)
		head = strdup_printf("%s(%s,", table_head(m, kind), kind->type);
	else
		head = strdup_printf("%s(%s, %s,", table_head(m, kind), kind->type, kind->flags);
	if (!head)
		return -ENOMEM;
	emit_replacing(t, head, at, args[0].comma + 1);
	t->sc.pos = args[0].comma + 1;
	t->sc.prev = ',';
	return 0;
}

/* MAP.method(args) -> dm_method(MAP, args); the arguments are scanned on as usual, so calls
 * nested in them are rewritten too. Returns 1 when it rewrote a call, 0 when `tok` starts
 * none. */
static int rewrite_method_call(struct translator *t, const struct token *tok, dm_error *error)
{
	const char *s = t->sc.s;
	size_t at = tok->start, name_end = tok->end, m, mlen, paren;
	_cleanup_free_ char *head = NULL;
	bool no_args;

	if (tok->after_member || !match_method_call(s, name_end, &m, &mlen, &paren))
		return 0;
	if (word_in(s + m, mlen, unsupported_methods, ELEMENTSOF(unsupported_methods)))
		return dm_error_set(
		    error, -EBADMSG,
		    "%s:%u: %.*s.%.*s() is not supported by dynmon's Polycube dialect.", t->unit,
		    line_at(s, at), (int)(name_end - at), s + at, (int)mlen, s + m);
	if (!word_in(s + m, mlen, methods, ELEMENTSOF(methods)))
		return 0;

	no_args = s[skip_blanks(s, paren + 1)] == ')';
	head = strdup_printf("dm_%.*s(%.*s%s", (int)mlen, s + m, (int)(name_end - at), s + at,
			     no_args ? "" : ", ");
	if (!head)
		return -ENOMEM;
	emit_replacing(t, head, at, paren + 1);
	t->sc.pos = paren + 1;
	t->sc.prev = '(';
	return 1;
}

static int on_identifier(struct translator *t, const struct token *tok, dm_error *error)
{
	const char *s = t->sc.s + tok->start;
	size_t n = tok->end - tok->start;
	const struct table_macro *m;
	int r;

	if (word_eq(s, n, "handle_rx"))
		t->has_handle_rx = true;
	m = find_table_macro(s, n);
	if (m)
		return rewrite_table(t, m, tok->start, tok->end, error);
	if (word_in(s, n, unsupported_macros, ELEMENTSOF(unsupported_macros)) &&
	    t->sc.s[skip_blanks(t->sc.s, tok->end)] == '(')
		return dm_error_set(error, -EBADMSG,
				    "%s:%u: %.*s is not supported by dynmon's Polycube dialect.",
				    t->unit, line_at(t->sc.s, tok->start), (int)n, s);
	r = rewrite_method_call(t, tok, error);
	if (r != 0)
		return r < 0 ? r : 0;
	fwrite(s, 1, n, t->out);
	return 0;
}

/* #include <uapi/linux/x.h> -> <linux/x.h>; BCC's own headers and <stdint.h> -> polycube.h,
 * which has what they had. Any other directive is scanned on as code (macros may use maps). */
static void on_directive(struct translator *t, const struct token *tok)
{
	const char *s = t->sc.s;
	size_t i = tok->end, name, close;
	char closer;

	while (s[i] == ' ' || s[i] == '\t')
		i++;
	if (strncmp(s + i, "include", 7) != 0 || is_ident_char(s[i + 7]))
		goto verbatim;
	i += 7;
	while (s[i] == ' ' || s[i] == '\t')
		i++;
	if (s[i] != '<' && s[i] != '"')
		goto verbatim;
	closer = s[i] == '<' ? '>' : '"';
	name = i + 1;
	for (close = name; s[close] && s[close] != closer && s[close] != '\n'; close++)
		;
	if (s[close] != closer)
		goto verbatim;

	fwrite(s + tok->start, 1, name - tok->start, t->out);
	if (word_in(s + name, close - name, headers_in_polycube_h,
		    ELEMENTSOF(headers_in_polycube_h)))
		fputs("polycube.h", t->out);
	else if (strncmp(s + name, "uapi/", 5) == 0)
		fwrite(s + name + 5, 1, close - name - 5, t->out);
	else
		fwrite(s + name, 1, close - name, t->out);
	fputc(closer, t->out);
	t->sc.pos = close + 1;
	t->sc.line_start = false;
	return;
verbatim:
	fputc('#', t->out);
}

static int translate_body(struct translator *t, dm_error *error)
{
	struct token tok;
	int r;

	while (scanner_next(&t->sc, &tok)) {
		switch (tok.kind) {
		case TOKEN_IDENT:
			r = on_identifier(t, &tok, error);
			if (r < 0)
				return r;
			break;
		case TOKEN_DIRECTIVE:
			on_directive(t, &tok);
			break;
		default:
			fwrite(t->sc.s + tok.start, 1, tok.end - tok.start, t->out);
		}
	}
	if (!t->has_handle_rx)
		return dm_error_set(error, -EBADMSG,
				    "%s: the Polycube code has no handle_rx() function; write "
				    "static __always_inline int handle_rx(struct CTXTYPE *ctx, "
				    "struct pkt_metadata *md).",
				    t->unit);
	return 0;
}

static void translator_done(struct translator *t)
{
	if (t->out)
		fclose(t->out);
	strv_free(t->shared.v);
	strv_free(t->externs.v);
}

/* What comes before the user's code: the hook's context type, polycube.h, and a #line that
 * gives the user's code its own name and line numbers back. */
static void write_prelude(FILE *out, enum dm_hook hook, const char *unit)
{
	fprintf(out, "/* Translated by dynmond from the Polycube/BCC dialect. */\n");
	if (hook == DM_HOOK_XDP)
		fprintf(out, "#define POLYCUBE_XDP 1\n#define CTXTYPE xdp_md\n");
	else
		fprintf(out, "#define CTXTYPE __sk_buff\n");
	fprintf(out, "#include <polycube.h>\n#line 1 \"%s\"\n", unit);
}

int dm_dialect_translate(const char *code, enum dm_path path, enum dm_hook hook,
			 struct dm_translation *ret, dm_error *error)
{
	const char *pname = dm_path_to_string(path);
	_cleanup_free_ char *unit = strdup_printf("%s.bpf.c", pname);
	_cleanup_free_ char *text = NULL;
	_cleanup_(translator_done) struct translator t = {
	    .sc = {.s = strempty(code), .line_start = true},
	    .unit = unit,
	};
	struct dm_translation tr;
	size_t size;
	int r;

	if (!unit)
		return -ENOMEM;
	t.out = open_memstream(&text, &size);
	if (!t.out)
		return -ENOMEM;

	write_prelude(t.out, hook, unit);
	r = translate_body(&t, error);
	if (r < 0)
		return r;
	/* The entry program, under a name of its own: diagnostics there are not the user's. */
	fprintf(t.out, "\n#line 1 \"<dynmon: Polycube entry>\"\nDM_POLYCUBE_ENTRY(dynmon_%s)\n",
		pname);
	r = fclose(t.out);
	t.out = NULL;
	if (r != 0 || !text)
		return -ENOMEM;

	tr.shared_maps = name_list_take(&t.shared);
	tr.extern_maps = name_list_take(&t.externs);
	if (!tr.shared_maps || !tr.extern_maps) {
		strv_free(tr.shared_maps);
		strv_free(tr.extern_maps);
		return -ENOMEM;
	}
	tr.code = TAKE_PTR(text);
	*ret = tr;
	return 0;
}

void dm_translation_done(struct dm_translation *t)
{
	if (!t)
		return;
	free(t->code);
	strv_free(t->shared_maps);
	strv_free(t->extern_maps);
	*t = (struct dm_translation){};
}

int dm_dialect_prepare(const char *code, enum dm_path path, enum dm_hook hook, int log_level,
		       struct dm_translation *t, char **ret, dm_error *error)
{
	int r;

	if (dm_dialect_detect(code) != DM_DIALECT_POLYCUBE) {
		*ret = strdup(code);
		return *ret ? 0 : -ENOMEM;
	}
	r = dm_dialect_translate(code, path, hook, t, error);
	if (r < 0)
		return r;
	*ret = strdup_printf("#define PCN_LOG_LEVEL %d\n%s", log_level, t->code);
	return *ret ? 0 : -ENOMEM;
}
