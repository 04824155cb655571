/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdint.h>
#include <strings.h>
#include <sys/epoll.h>

#include <bpf/libbpf.h>

#include "log.h"
#include "pcnlog.h"

/* ---- Formatting ---- */

/* The output buffer: len never goes past size - 1, and buf[len] is always the NUL. */
struct out {
	char *buf;
	size_t size;
	size_t len;
};

static void out_append(struct out *o, const char *s, size_t n)
{
	size_t room = o->size - 1 - o->len;

	if (n > room)
		n = room;
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void out_puts(struct out *o, const char *s)
{
	out_append(o, s, strlen(s));
}

/* The formats are built by format_*() below from a whitelist of flags and conversions: never
 * the record's own text, so %n or %s can never reach the C library. */
static void out_printf(struct out *o, const char *fmt, ...)
{
	size_t room = o->size - o->len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		o->buf[o->len] = '\0';
	else
		o->len += (size_t)n < room ? (size_t)n : room - 1;
}

/* The arguments of one record, taken in order by the conversions. */
struct args {
	const __u64 *v;
	unsigned n;
	unsigned next;
};

static bool args_take(struct args *a, __u64 *ret)
{
	if (a->next >= a->n)
		return false;
	*ret = a->v[a->next++];
	return true;
}

enum length { LEN_HH, LEN_H, LEN_NONE, LEN_L, LEN_LL, LEN_Z, LEN_J, LEN_T };

/* One conversion: %[flags][width][.precision][length]conv. */
struct spec {
	char flags[6]; /* each of "-+ #0" at most once, NUL-terminated */
	int width;     /* 0: none */
	int precision; /* -1: none */
	enum length length;
	char conv;
};

static void spec_add_flag(struct spec *s, char flag)
{
	size_t n = strlen(s->flags);

	if (!strchr(s->flags, flag))
		s->flags[n] = flag;
}

/* A width or precision: digits, or '*' for the next argument (an int). Returns NULL past
 * PCNLOG_MAX_WIDTH. A missing '*' argument counts as none: the value is missing too, and
 * prints "?" without a width. */
static const char *parse_number(const char *p, struct args *a, int *ret)
{
	long v = 0;
	__u64 arg;

	if (*p == '*') {
		*ret = args_take(a, &arg) ? (int)arg : 0;
		if (*ret > PCNLOG_MAX_WIDTH || *ret < -PCNLOG_MAX_WIDTH)
			return NULL;
		return p + 1;
	}
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (*p - '0');
		if (v > PCNLOG_MAX_WIDTH)
			return NULL;
	}
	*ret = (int)v;
	return p;
}

static const char *parse_length(const char *p, enum length *ret)
{
	static const struct {
		const char *s;
		enum length l;
	} table[] = {
	    {"hh", LEN_HH}, {"h", LEN_H}, {"ll", LEN_LL}, {"l", LEN_L},
	    {"z", LEN_Z},   {"j", LEN_J}, {"t", LEN_T},
	};

	for (size_t i = 0; i < ELEMENTSOF(table); i++)
		if (strncmp(p, table[i].s, strlen(table[i].s)) == 0) {
			*ret = table[i].l;
			return p + strlen(table[i].s);
		}
	*ret = LEN_NONE;
	return p;
}

/* Parses the conversion after a '%'; returns what follows it, or NULL when it is not one we
 * know (or runs into the end of the format). '*' arguments are taken from `a`. */
static const char *parse_spec(const char *p, struct args *a, struct spec *s)
{
	*s = (struct spec){.precision = -1};

	for (; *p && strchr("-+ #0", *p); p++)
		spec_add_flag(s, *p);
	p = parse_number(p, a, &s->width);
	if (!p)
		return NULL;
	if (s->width < 0) { /* printf: a negative '*' width is '-' and the width */
		spec_add_flag(s, '-');
		s->width = -s->width;
	}
	if (*p == '.') {
		p = parse_number(p + 1, a, &s->precision);
		if (!p)
			return NULL;
		if (s->precision < 0) /* printf: as if omitted */
			s->precision = -1;
	}
	p = parse_length(p, &s->length);
	if (!*p || !strchr("diuxXoc%IPMspneEfFgGaA", *p))
		return NULL;
	s->conv = *p;
	return p + 1;
}

static intmax_t as_signed(__u64 v, enum length l)
{
	switch (l) {
	case LEN_HH:
		return (signed char)v;
	case LEN_H:
		return (short)v;
	case LEN_NONE:
		return (int)v;
	default:
		return (int64_t)v;
	}
}

static uintmax_t as_unsigned(__u64 v, enum length l)
{
	switch (l) {
	case LEN_HH:
		return (unsigned char)v;
	case LEN_H:
		return (unsigned short)v;
	case LEN_NONE:
		return (unsigned int)v;
	default:
		return v;
	}
}

/* Only '-' means something to %c and strings. */
static const char *left_flag(const struct spec *s)
{
	return strchr(s->flags, '-') ? "-" : "";
}

/* %I %P %M: the text of the address or port, in `text`. */
static void format_network(__u64 v, char conv, char text[static 18])
{
	uint32_t ip = (uint32_t)v; /* network order: its bytes in memory are the address's */
	uint8_t mac[6];

	switch (conv) {
	case 'I':
		inet_ntop(AF_INET, &ip, text, 18);
		break;
	case 'P':
		sprintf(text, "%u", ntohs((uint16_t)v));
		break;
	case 'M':
		memcpy(mac, &v, sizeof(mac));
		sprintf(text, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
			mac[4], mac[5]);
		break;
	}
}

static void format_value(struct out *o, const struct spec *s, __u64 v)
{
	char fmt[16], text[18];

	switch (s->conv) {
	case 'd':
	case 'i':
		sprintf(fmt, "%%%s*.*jd", s->flags);
		out_printf(o, fmt, s->width, s->precision, as_signed(v, s->length));
		break;
	case 'u':
	case 'x':
	case 'X':
	case 'o':
		sprintf(fmt, "%%%s*.*j%c", s->flags, s->conv);
		out_printf(o, fmt, s->width, s->precision, as_unsigned(v, s->length));
		break;
	case 'c':
		sprintf(fmt, "%%%s*c", left_flag(s));
		out_printf(o, fmt, s->width, (unsigned char)v);
		break;
	case 'I':
	case 'P':
	case 'M':
		format_network(v, s->conv, text);
		sprintf(fmt, "%%%s*s", left_flag(s));
		out_printf(o, fmt, s->width, text);
		break;
	}
}

/* Formats the conversion starting at `pct` (a '%'); returns where the text goes on. */
static const char *format_conversion(struct out *o, const char *pct, struct args *a)
{
	struct args taken = *a; /* an unknown conversion gives back what '*' took */
	struct spec s;
	const char *next = parse_spec(pct + 1, &taken, &s);
	__u64 v;

	if (!next) {
		out_append(o, "%", 1); /* printed as written: the rest is plain text */
		return pct + 1;
	}
	*a = taken;
	if (s.conv == '%')
		out_append(o, "%", 1);
	else if (strchr("spneEfFgGaA", s.conv)) {
		(void)args_take(a, &v);
		out_puts(o, "(unsupported)");
	} else if (!args_take(a, &v))
		out_append(o, "?", 1);
	else
		format_value(o, &s, v);
	return next;
}

int pcnlog_format(const struct dynmon_log_record *r, char *buf, size_t size)
{
	/* The format comes from the kernel: never trust its NUL, nor n_args. */
	char fmt[DYNMON_LOG_FMT_MAX + 1];
	struct args a;
	struct out o = {.buf = buf, .size = size};

	if (!r || !buf || size == 0)
		return -EINVAL;
	memcpy(fmt, r->fmt, DYNMON_LOG_FMT_MAX);
	fmt[DYNMON_LOG_FMT_MAX] = '\0';
	a = (struct args){.v = r->args, .n = r->n_args};
	if (a.n > DYNMON_LOG_MAX_ARGS)
		a.n = DYNMON_LOG_MAX_ARGS;

	buf[0] = '\0';
	for (const char *p = fmt; *p;) {
		const char *pct = strchrnul(p, '%');

		out_append(&o, p, pct - p);
		p = *pct ? format_conversion(&o, pct, &a) : pct;
	}
	return (int)o.len;
}

/* ---- Levels ---- */

/* Indexed by enum dynmon_log_level. */
static const char *const level_names[] = {"OFF",  "CRITICAL", "ERR",  "WARN",
					  "INFO", "DEBUG",    "TRACE"};
_Static_assert(ELEMENTSOF(level_names) == DYNMON_LOG_TRACE + 1, "a name for every level");

const char *pcnlog_level_to_string(int level)
{
	if (level < 0 || (size_t)level >= ELEMENTSOF(level_names))
		return NULL;
	return level_names[level];
}

int pcnlog_level_from_string(const char *s)
{
	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
		if (strcasecmp(s, level_names[i]) == 0)
			return (int)i;
	/* The spellings of Polycube's documentation and of its loglevel property. */
	if (strcasecmp(s, "ERROR") == 0)
		return DYNMON_LOG_ERR;
	if (strcasecmp(s, "WARNING") == 0)
		return DYNMON_LOG_WARN;
	return -EINVAL;
}

int pcnlog_level_parse(const char *s, dm_error *e)
{
	int level = pcnlog_level_from_string(s);

	if (level < 0)
		return dm_error_set(
		    e, -EINVAL,
		    "Unknown log level \"%s\" (known: OFF, CRITICAL, ERR, WARN, INFO, "
		    "DEBUG, TRACE).",
		    s);
	return level;
}

int pcnlog_level_to_priority(int level)
{
	switch (level) {
	case DYNMON_LOG_CRITICAL:
		return LOG_CRIT;
	case DYNMON_LOG_ERR:
		return LOG_ERR;
	case DYNMON_LOG_WARN:
		return LOG_WARNING;
	default:
		/* DEBUG and TRACE too: the monitor's own level is the operator's filter, so what
		 * passed it must show at the daemon's default level. */
		return LOG_INFO;
	}
}

/* ---- The reader ---- */

struct pcnlog_reader {
	char *monitor;
	struct ring_buffer *ring;
	sd_event_source *source;
	pcnlog_sink_t sink;
	void *userdata;
	unsigned budget; /* records still to read in this round */
};

/* Records one ring buffer holds at most: the bound of the drain in pcnlog_reader_free(). */
#define RING_RECORDS_MAX (DYNMON_LOG_RINGBUF_SIZE / sizeof(struct dynmon_log_record) + 1)

/* What handle_record() returns to stop libbpf's loop once the round's budget is spent: the
 * record it was called for is consumed all the same. */
#define BUDGET_SPENT (-EBUSY)

static void log_sink(void *userdata, int priority, const char *line)
{
	log_full_errno(priority, 0, "%s", line);
}

/* One record, one line: a message ending in "\n" (a bpf_printk habit) or holding control
 * characters must not break the log into lines without a priority. */
static void flatten(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	for (; *s; s++)
		if ((unsigned char)*s < ' ' && *s != '\t')
			*s = ' ';
}

static int handle_record(void *userdata, void *data, size_t size)
{
	struct pcnlog_reader *r = userdata;
	struct dynmon_log_record rec;
	char line[1024];
	int n;

	if (size < sizeof(rec)) {
		log_debug("%s: dataplane log record of %zu bytes, expected %zu, ignoring",
			  r->monitor, size, sizeof(rec));
	} else {
		memcpy(&rec, data, sizeof(rec));
		n = snprintf(line, sizeof(line), "%s: ", r->monitor);
		if (n < 0 || (size_t)n >= sizeof(line))
			n = 0; /* a name that long: the message without it */
		(void)pcnlog_format(&rec, line + n, sizeof(line) - n);
		flatten(line + n);
		r->sink(r->userdata, pcnlog_level_to_priority(rec.level), line);
	}
	return --r->budget == 0 ? BUDGET_SPENT : 0;
}

/* Reads up to `budget` records; the IO source is level-triggered, so what is left makes the
 * next iteration of the loop come back here. */
static void consume(struct pcnlog_reader *r, unsigned budget)
{
	int k;

	r->budget = budget;
	k = ring_buffer__consume(r->ring);
	if (k < 0 && k != BUDGET_SPENT)
		log_warning_errno(k, "%s: Failed to read the dataplane log, ignoring: %m",
				  r->monitor);
}

static int on_readable(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	consume(userdata, PCNLOG_READER_BATCH);
	return 0;
}

int pcnlog_reader_new(sd_event *event, int ringbuf_map_fd, const char *monitor_name,
		      struct pcnlog_reader **ret)
{
	_cleanup_(pcnlog_reader_freep) struct pcnlog_reader *r = NULL;
	int k;

	if (!event || ringbuf_map_fd < 0 || !monitor_name || !ret)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->sink = log_sink;
	r->monitor = strdup(monitor_name);
	if (!r->monitor)
		return -ENOMEM;

	r->ring = ring_buffer__new(ringbuf_map_fd, handle_record, r, NULL);
	if (!r->ring)
		return log_debug_errno(errno ?: EIO, "%s: Failed to open the dataplane log: %m",
				       monitor_name);
	k = sd_event_add_io(event, &r->source, ring_buffer__epoll_fd(r->ring), EPOLLIN, on_readable,
			    r);
	if (k < 0)
		return k;
	(void)sd_event_source_set_description(r->source, "pcnlog");
	*ret = TAKE_PTR(r);
	return 0;
}

void pcnlog_reader_set_sink(struct pcnlog_reader *r, pcnlog_sink_t sink, void *userdata)
{
	r->sink = sink ?: log_sink;
	r->userdata = sink ? userdata : NULL;
}

void pcnlog_reader_free(struct pcnlog_reader *r)
{
	if (!r)
		return;
	if (r->ring) {
		consume(r, RING_RECORDS_MAX);
		ring_buffer__free(r->ring);
	}
	sd_event_source_disable_unref(r->source);
	free(r->monitor);
	free(r);
}
