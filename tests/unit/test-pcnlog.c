/* SPDX-License-Identifier: Apache-2.0 */
/* pcn_log() on the daemon's side. The formatter is checked on records built by hand, with the
 * arguments widened to u64 as polycube.h widens them. The reader is checked on the real kernel:
 * tests/bpf/pcnlog-test.bpf.c, a Polycube-dialect program, logs through polycube.h's pcn_log()
 * when BPF_PROG_TEST_RUN runs it on a packet built here. That needs root and BPF, and fails
 * without them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/pkt_cls.h>
#include <linux/types.h>

#include "log.h"
#include "pcnlog.h"

/* The value a program holds after reading these bytes from a packet: a network-order field read
 * on a little-endian host. */
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the expected values below are written for a little-endian host"
#endif
#define NET16(a, b) ((__u64)(a) | (__u64)(b) << 8)
#define NET32(a, b, c, d) (NET16(a, b) | (__u64)(c) << 16 | (__u64)(d) << 24)
/* A `__be64 x : 48` bitfield of struct eth_hdr, read from a MAC's bytes. */
#define MAC48(a, b, c, d, e, f) (NET32(a, b, c, d) | (__u64)(e) << 32 | (__u64)(f) << 40)

/* ---------------------------------------------------------------------------------------- */
/* The formatter                                                                            */

struct format_case {
	const char *fmt;
	unsigned n_args;
	__u64 args[DYNMON_LOG_MAX_ARGS];
	const char *expected;
};

/* The arguments as pcn_log() stores them: each cast to __u64 from its C type. */
#define ARGS(...) .n_args = sizeof((__u64[]){__VA_ARGS__}) / sizeof(__u64), .args = {__VA_ARGS__}

static const struct format_case format_cases[] = {
    /* Plain text, and what '%' does on its own. */
    {"RECEIVED NTP MODE 7", .expected = "RECEIVED NTP MODE 7"},
    {"", .expected = ""},
    {"100%% sure", .expected = "100% sure"},
    {"trailing %", .expected = "trailing %"},
    {"unknown %q here", ARGS(1), "unknown %q here"},
    {"unfinished %5", ARGS(1), "unfinished %5"},
    {"%k then %d", ARGS(3), "%k then 3"},

    /* The upstream examples' own calls: tests/data/polycube/ (a NTP packet 192.0.2.1:123 ->
     * 198.51.100.7:38921 in mode 7, and a packet counter). */
    {"%I:%P\t-> %I:%P",
     ARGS(NET32(192, 0, 2, 1), NET16(0x00, 0x7b), NET32(198, 51, 100, 7), NET16(0x98, 0x09)),
     "192.0.2.1:123\t-> 198.51.100.7:38921"},
    {"NTP mode: %hhu", ARGS((__u64)(uint8_t)7), "NTP mode: 7"},
    {"counter: %d", ARGS((__u64)(uint64_t)42), "counter: 42"},
    /* %d of a u64 counter prints its low 32 bits as an int, as printf does with an int. */
    {"counter: %d", ARGS(0x100000007ull), "counter: 7"},
    {"[NTP_AMP_WARNING] Unable to find NTP_PACKETS_COUNTER map",
     .expected = "[NTP_AMP_WARNING] Unable to find NTP_PACKETS_COUNTER map"},

    /* Signed conversions: the value is the argument's as an int unless a length says
     * otherwise. */
    {"%d %i", ARGS((__u64)(int)-5, (__u64)(int)42), "-5 42"},
    {"%d", ARGS((__u64)(int)INT32_MIN), "-2147483648"},
    {"%hhd", ARGS((__u64)255), "-1"},
    {"%hd %hd", ARGS((__u64)0x18000, (__u64)(short)-2), "-32768 -2"},
    {"%ld %lld", ARGS((__u64)(long)-5, (__u64)1 << 40), "-5 1099511627776"},
    {"%jd %td %zd", ARGS((__u64)INT64_MIN, (__u64)(ptrdiff_t)-7, (__u64)(ssize_t)9),
     "-9223372036854775808 -7 9"},

    /* Unsigned conversions. */
    {"%u", ARGS((__u64)(int)-1), "4294967295"},
    {"%hhu %hu", ARGS((__u64)0x1ff, (__u64)0x1ffff), "255 65535"},
    {"%lu %llu", ARGS(UINT64_MAX, (__u64)1 << 63), "18446744073709551615 9223372036854775808"},
    {"%zu", ARGS((__u64)(size_t)123456789012ull), "123456789012"},
    {"%x %X %o", ARGS((__u64)0xbeef, (__u64)0xbeef, (__u64)8), "beef BEEF 10"},
    {"%#x %#o %#X", ARGS((__u64)255, (__u64)8, (__u64)0xab), "0xff 010 0XAB"},
    {"%llx %hhx", ARGS((__u64)0xdeadbeefcafeull, (__u64)0x1234), "deadbeefcafe 34"},
    {"%c%c%c", ARGS((__u64)'p', (__u64)'c', (__u64)'n'), "pcn"},

    /* Flags, width and precision, as printf. */
    {"%+d % d %+d", ARGS((__u64)5, (__u64)5, (__u64)(int)-5), "+5  5 -5"},
    {"[%5d] [%-5d] [%05d]", ARGS((__u64)42, (__u64)42, (__u64)(int)-42), "[   42] [42   ] [-0042]"},
    {"[%.3d] [%8.3d] [%-8.3x]", ARGS((__u64)7, (__u64)7, (__u64)0xa),
     "[007] [     007] [00a     ]"},
    {"[%.0d] [%.d]", ARGS((__u64)0, (__u64)0), "[] []"},
    {"[%08.3d]", ARGS((__u64)7), "[     007]"}, /* a precision turns '0' off */
    {"[%#010x]", ARGS((__u64)0xff), "[0x000000ff]"},
    {"[%3c] [%-3c]", ARGS((__u64)'a', (__u64)'b'), "[  a] [b  ]"},
    {"[%*d] [%-*d]", ARGS((__u64)4, (__u64)7, (__u64)3, (__u64)8), "[   7] [8  ]"},
    {"[%*d]", ARGS((__u64)(int)-4, (__u64)7), "[7   ]"}, /* a negative '*' width is '-' */
    {"[%.*d]", ARGS((__u64)3, (__u64)7), "[007]"},
    {"[%.*d]", ARGS((__u64)(int)-3, (__u64)7), "[7]"}, /* a negative precision is none */
    {"[%2000d]", ARGS((__u64)1), "[%2000d]"},	       /* past PCNLOG_MAX_WIDTH */

    /* Polycube's conversions. */
    {"%I", ARGS(NET32(10, 0, 0, 1)), "10.0.0.1"},
    {"%I", ARGS(NET32(255, 255, 255, 255)), "255.255.255.255"},
    {"%I", ARGS(0), "0.0.0.0"},
    {"%P %P", ARGS(NET16(0x00, 0x35), NET16(0xff, 0xff)), "53 65535"},
    {"%M", ARGS(MAC48(0x02, 0x66, 0x77, 0x88, 0x99, 0xaa)), "02:66:77:88:99:aa"},
    /* *(u64 *)eth->h_source: two more bytes of the packet ride along, above the MAC. */
    {"%M", ARGS(MAC48(0x00, 0x1b, 0x21, 0x3c, 0x4d, 0x5e) | 0x08000000000000ull << 8),
     "00:1b:21:3c:4d:5e"},
    {"[%16I] [%-16I]", ARGS(NET32(192, 0, 2, 1), NET32(192, 0, 2, 1)),
     "[       192.0.2.1] [192.0.2.1       ]"},
    {"[%6P] [%-19M]", ARGS(NET16(0, 80), MAC48(1, 2, 3, 4, 5, 6)),
     "[    80] [01:02:03:04:05:06  ]"},
    {"%M -> %M proto %#06hx",
     ARGS(MAC48(0x02, 0x66, 0x77, 0x88, 0x99, 0xaa), MAC48(0x02, 0x11, 0x22, 0x33, 0x44, 0x55),
	  (__u64)0x0800),
     "02:66:77:88:99:aa -> 02:11:22:33:44:55 proto 0x0800"},

    /* Missing arguments. */
    {"%d %d", ARGS((__u64)1), "1 ?"},
    {"%I:%P", .expected = "?:?"},
    {"[%5d]", .expected = "[?]"},
    {"[%*d]", .expected = "[?]"},
    {"%M %c %x", ARGS(MAC48(1, 2, 3, 4, 5, 6)), "01:02:03:04:05:06 ? ?"},

    /* What a record cannot carry: the argument is used up all the same. */
    {"%s=%d", ARGS((__u64)0xffff880000001000ull, (__u64)3), "(unsupported)=3"},
    {"%p %-10s|", ARGS((__u64)0x1000, (__u64)0x2000), "(unsupported) (unsupported)|"},
    {"%n%d", ARGS((__u64)0x1000, (__u64)4), "(unsupported)4"},
    {"%f %.2e %d", ARGS((__u64)1, (__u64)2, (__u64)5), "(unsupported) (unsupported) 5"},
    {"%s", .expected = "(unsupported)"},
};

static struct dynmon_log_record record_of(const struct format_case *c)
{
	struct dynmon_log_record r = {.level = DYNMON_LOG_INFO, .n_args = c->n_args};

	assert_true(strlen(c->fmt) < sizeof(r.fmt));
	strcpy(r.fmt, c->fmt);
	memcpy(r.args, c->args, sizeof(r.args));
	return r;
}

static void test_format_table(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(format_cases); i++) {
		const struct format_case *c = &format_cases[i];
		struct dynmon_log_record r = record_of(c);
		char buf[256];
		int n;

		memset(buf, 'X', sizeof(buf));
		n = pcnlog_format(&r, buf, sizeof(buf));
		if (!streq(buf, c->expected))
			fail_msg("\"%s\": got \"%s\", expected \"%s\"", c->fmt, buf, c->expected);
		assert_int_equal(n, strlen(c->expected));
	}
}

/* What the MAC of a real frame looks like to pcn_log, read through the upstream examples'
 * struct eth_hdr: the host compiler lays the bitfields out as clang -target bpf does on this
 * (little-endian) host. */
struct eth_hdr {
	__u64 dst : 48;
	__u64 src : 48;
	__u16 proto;
} __attribute__((packed));

static void test_format_mac_of_a_frame(void **state)
{
	static const uint8_t frame[] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55, /* dst */
					0x02, 0x66, 0x77, 0x88, 0x99, 0xaa, /* src */
					0x08, 0x00};
	struct dynmon_log_record r = {.n_args = 3, .fmt = "%M -> %M (%M)"};
	struct eth_hdr eth;
	__u64 h_source;
	char buf[128];

	memcpy(&eth, frame, sizeof(eth));
	memcpy(&h_source, frame + 6, sizeof(h_source)); /* *(u64 *)eth->h_source */
	r.args[0] = eth.src;
	r.args[1] = eth.dst;
	r.args[2] = h_source;
	pcnlog_format(&r, buf, sizeof(buf));
	assert_string_equal(buf, "02:66:77:88:99:aa -> 02:11:22:33:44:55 (02:66:77:88:99:aa)");
}

/* pcnlog_format() into `size` bytes of a larger buffer: nothing is written past them. */
static int format_into(const struct dynmon_log_record *r, size_t size, char out[static 64])
{
	char buf[64];
	int n;

	assert_true(size <= sizeof(buf) - 8);
	memset(buf, '#', sizeof(buf));
	n = pcnlog_format(r, buf, size);
	for (size_t i = size; i < sizeof(buf); i++)
		assert_int_equal(buf[i], '#');
	strcpy(out, buf);
	return n;
}

static void test_format_truncates(void **state)
{
	static const struct {
		const char *fmt;
		__u64 args[2];
		size_t size;
		const char *expected;
	} cases[] = {
	    {"hello world", {0}, 1, ""},
	    {"hello world", {0}, 5, "hell"},
	    {"hello world", {0}, 12, "hello world"},
	    {"%I:%P", {NET32(192, 0, 2, 1), NET16(0, 123)}, 6, "192.0"}, /* inside %I */
	    {"%I:%P", {NET32(192, 0, 2, 1), NET16(0, 123)}, 11, "192.0.2.1:"},
	    {"%05d%%", {42}, 4, "000"},
	    {"%05d%%", {42}, 6, "00042"},
	    {"%M", {MAC48(0x02, 0x66, 0x77, 0x88, 0x99, 0xaa)}, 9, "02:66:77"},
	    {"%s", {0}, 4, "(un"},
	    {"%d %d", {1}, 4, "1 ?"},
	};
	char out[64];

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct dynmon_log_record r = {.n_args = 1 + !!cases[i].args[1]};

		memcpy(r.args, cases[i].args, sizeof(cases[i].args));
		strcpy(r.fmt, cases[i].fmt);
		assert_int_equal(format_into(&r, cases[i].size, out), strlen(cases[i].expected));
		if (!streq(out, cases[i].expected))
			fail_msg("\"%s\" in %zu bytes: got \"%s\", expected \"%s\"", cases[i].fmt,
				 cases[i].size, out, cases[i].expected);
	}
}

static void test_format_distrusts_the_record(void **state)
{
	struct dynmon_log_record r = {.n_args = 1000, .args = {1, 2, 3, 4}};
	char buf[256];

	/* n_args past DYNMON_LOG_MAX_ARGS: only four exist. */
	strcpy(r.fmt, "%d %d %d %d %d");
	assert_int_equal(pcnlog_format(&r, buf, sizeof(buf)), 9);
	assert_string_equal(buf, "1 2 3 4 ?");

	/* A format without its NUL: it ends where the field does. */
	memset(r.fmt, 'a', sizeof(r.fmt));
	assert_int_equal(pcnlog_format(&r, buf, sizeof(buf)), DYNMON_LOG_FMT_MAX);
	assert_int_equal(strspn(buf, "a"), DYNMON_LOG_FMT_MAX);
	assert_int_equal(buf[DYNMON_LOG_FMT_MAX], '\0');

	assert_int_equal(pcnlog_format(NULL, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(pcnlog_format(&r, NULL, 10), -EINVAL);
	assert_int_equal(pcnlog_format(&r, buf, 0), -EINVAL);
}

/* ---------------------------------------------------------------------------------------- */
/* Levels                                                                                   */

static void test_levels(void **state)
{
	static const struct {
		int level;
		const char *name;
		int priority;
	} levels[] = {
	    {DYNMON_LOG_OFF, "OFF", LOG_INFO},	   {DYNMON_LOG_CRITICAL, "CRITICAL", LOG_CRIT},
	    {DYNMON_LOG_ERR, "ERR", LOG_ERR},	   {DYNMON_LOG_WARN, "WARN", LOG_WARNING},
	    {DYNMON_LOG_INFO, "INFO", LOG_INFO},   {DYNMON_LOG_DEBUG, "DEBUG", LOG_INFO},
	    {DYNMON_LOG_TRACE, "TRACE", LOG_INFO},
	};

	for (size_t i = 0; i < ELEMENTSOF(levels); i++) {
		assert_string_equal(pcnlog_level_to_string(levels[i].level), levels[i].name);
		assert_int_equal(pcnlog_level_from_string(levels[i].name), levels[i].level);
		assert_int_equal(pcnlog_level_to_priority(levels[i].level), levels[i].priority);
	}
	assert_null(pcnlog_level_to_string(-1));
	assert_null(pcnlog_level_to_string(DYNMON_LOG_TRACE + 1));
	assert_int_equal(pcnlog_level_to_priority(DYNMON_LOG_TRACE + 1), LOG_INFO);
}

static void test_level_names(void **state)
{
	static const struct {
		const char *name;
		int level;
	} names[] = {
	    {"trace", DYNMON_LOG_TRACE},
	    {"Debug", DYNMON_LOG_DEBUG},
	    {"info", DYNMON_LOG_INFO},
	    {"warn", DYNMON_LOG_WARN},
	    {"WARNING", DYNMON_LOG_WARN},
	    {"warning", DYNMON_LOG_WARN},
	    {"err", DYNMON_LOG_ERR},
	    {"ERROR", DYNMON_LOG_ERR},
	    {"error", DYNMON_LOG_ERR},
	    {"critical", DYNMON_LOG_CRITICAL},
	    {"off", DYNMON_LOG_OFF},
	    {"", -EINVAL},
	    {"verbose", -EINVAL},
	    {"INFO ", -EINVAL},
	    {"5", -EINVAL},
	};

	for (size_t i = 0; i < ELEMENTSOF(names); i++)
		if (pcnlog_level_from_string(names[i].name) != names[i].level)
			fail_msg("\"%s\": got %d, expected %d", names[i].name,
				 pcnlog_level_from_string(names[i].name), names[i].level);
	assert_int_equal(pcnlog_level_from_string(NULL), -EINVAL);
}

/* ---------------------------------------------------------------------------------------- */
/* The reader, on the kernel                                                                */

struct captured {
	size_t n;
	int priority[2048];
	char *line[2048];
};

static void capture(void *userdata, int priority, const char *line)
{
	struct captured *c = userdata;

	assert_true(c->n < ELEMENTSOF(c->line));
	c->priority[c->n] = priority;
	c->line[c->n] = strdup(line);
	assert_non_null(c->line[c->n]);
	c->n++;
}

struct fixture {
	struct bpf_object *obj;
	int prog_fd;
	int log_fd;
	sd_event *event;
	struct pcnlog_reader *reader;
	struct captured captured;
};

#define MONITOR "ntp-monitor"

static int setup_reader(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->obj = bpf_object__open_file(PCNLOG_TEST_OBJ, NULL);
	assert_non_null(f->obj);
	if (bpf_object__load(f->obj) < 0)
		fail_msg("cannot load %s (root and a kernel with BPF are needed): %s",
			 PCNLOG_TEST_OBJ, strerror(errno));
	f->prog_fd = bpf_program__fd(bpf_object__find_program_by_name(f->obj, "pcnlog_test"));
	f->log_fd = bpf_object__find_map_fd_by_name(f->obj, DYNMON_LOG_MAP_NAME);
	assert_true(f->prog_fd >= 0);
	assert_true(f->log_fd >= 0);
	assert_int_equal(sd_event_new(&f->event), 0);
	assert_int_equal(pcnlog_reader_new(f->event, f->log_fd, MONITOR, &f->reader), 0);
	pcnlog_reader_set_sink(f->reader, capture, &f->captured);
	*state = f;
	return 0;
}

static int teardown_reader(void **state)
{
	struct fixture *f = *state;

	pcnlog_reader_free(f->reader);
	sd_event_unref(f->event);
	bpf_object__close(f->obj);
	for (size_t i = 0; i < f->captured.n; i++)
		free(f->captured.line[i]);
	free(f);
	return 0;
}

/* An NTP mode 7 packet, 192.0.2.1:123 -> 198.51.100.7:38921, 64 bytes. */
static const uint8_t ntp_packet[64] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x02, 0x66, 0x77, 0x88,
				       0x99, 0xaa, 0x08, 0x00,
				       /* IPv4 */
				       0x45, 0x00, 0x00, 0x32, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
				       0x00, 0x00, 192, 0, 2, 1, 198, 51, 100, 7,
				       /* UDP */
				       0x00, 0x7b, 0x98, 0x09, 0x00, 0x1e, 0x00, 0x00,
				       /* NTP: li_vn_mode */
				       0x17};

/* What the program logs for one packet: its TRACE call is compiled away. */
static const struct {
	int priority;
	const char *line;
} expected_lines[] = {
    {LOG_INFO, MONITOR ": 192.0.2.1:123\t-> 198.51.100.7:38921"},
    {LOG_WARNING, MONITOR ": 02:66:77:88:99:aa -> 02:11:22:33:44:55"},
    {LOG_INFO, MONITOR ": NTP mode: 7"},
    {LOG_ERR, MONITOR ": one record,  one line"}, /* "one record,\r\none line\n" */
};

static void run_program(struct fixture *f, int repeat)
{
	/* The packet that comes out is not looked at; valgrind wants somewhere to put it. */
	uint8_t out[sizeof(ntp_packet)];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = ntp_packet,
		    .data_size_in = sizeof(ntp_packet), .data_out = out,
		    .data_size_out = sizeof(out), .repeat = repeat);

	assert_int_equal(bpf_prog_test_run_opts(f->prog_fd, &opts), 0);
	assert_int_equal((int)opts.retval, TC_ACT_UNSPEC);
}

/* Runs the event loop until `n` lines came, or a second passed. */
static void run_loop_until(struct fixture *f, size_t n)
{
	for (int i = 0; i < 10 && f->captured.n < n; i++)
		assert_true(sd_event_run(f->event, 100 * 1000) >= 0);
}

static void assert_lines(const struct captured *c, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		size_t k = i % ELEMENTSOF(expected_lines);

		assert_string_equal(c->line[i], expected_lines[k].line);
		assert_int_equal(c->priority[i], expected_lines[k].priority);
	}
}

static void test_reader_logs_the_dataplane(void **state)
{
	struct fixture *f = *state;

	run_program(f, 1);
	run_loop_until(f, ELEMENTSOF(expected_lines));
	assert_int_equal(f->captured.n, ELEMENTSOF(expected_lines));
	assert_lines(&f->captured, 0, f->captured.n);

	/* Nothing more comes: the TRACE call wrote no record. */
	assert_true(sd_event_run(f->event, 50 * 1000) >= 0);
	assert_int_equal(f->captured.n, ELEMENTSOF(expected_lines));

	/* A second packet, a second round. */
	run_program(f, 1);
	run_loop_until(f, 2 * ELEMENTSOF(expected_lines));
	assert_int_equal(f->captured.n, 2 * ELEMENTSOF(expected_lines));
	assert_lines(&f->captured, 0, f->captured.n);
}

static void test_reader_reads_in_batches(void **state)
{
	struct fixture *f = *state;
	const size_t total = 256 * ELEMENTSOF(expected_lines);

	run_program(f, 256);
	/* One iteration of the loop reads one batch, then lets other sources run. */
	assert_int_equal(sd_event_run(f->event, 1000 * 1000), 1);
	assert_int_equal(f->captured.n, PCNLOG_READER_BATCH);
	run_loop_until(f, total);
	assert_int_equal(f->captured.n, total);
	assert_lines(&f->captured, 0, total);
}

static void test_reader_drains_when_freed(void **state)
{
	struct fixture *f = *state;

	run_program(f, 2);
	assert_int_equal(f->captured.n, 0);
	pcnlog_reader_free(f->reader);
	f->reader = NULL;
	assert_int_equal(f->captured.n, 2 * ELEMENTSOF(expected_lines));
	assert_lines(&f->captured, 0, f->captured.n);
}

/* Without a sink, the lines go to the daemon's log: stderr, with journald's <N> prefix. */
static void test_reader_logs_through_log_h(void **state)
{
	struct fixture *f = *state;
	int saved_level = log_get_max_level();
	int saved_stderr = dup(STDERR_FILENO);
	FILE *out = tmpfile();
	char text[1024] = "";
	size_t n;

	assert_non_null(out);
	pcnlog_reader_set_sink(f->reader, NULL, NULL);
	log_set_max_level(LOG_INFO); /* the daemon's default: the DEBUG record shows all the same */
	fflush(stderr);
	assert_true(dup2(fileno(out), STDERR_FILENO) >= 0);
	run_program(f, 1);
	/* The records are there before the loop runs: one iteration reads them all. */
	assert_int_equal(sd_event_run(f->event, 1000 * 1000), 1);
	fflush(stderr);
	assert_true(dup2(saved_stderr, STDERR_FILENO) >= 0);
	close(saved_stderr);
	log_set_max_level(saved_level);

	rewind(out);
	n = fread(text, 1, sizeof(text) - 1, out);
	text[n] = '\0';
	fclose(out);
	assert_string_equal(text, "<6>" MONITOR ": 192.0.2.1:123\t-> 198.51.100.7:38921\n"
				  "<4>" MONITOR ": 02:66:77:88:99:aa -> 02:11:22:33:44:55\n"
				  "<6>" MONITOR ": NTP mode: 7\n"
				  "<3>" MONITOR ": one record,  one line\n");
	assert_int_equal(f->captured.n, 0);
}

static void test_reader_rejects(void **state)
{
	_cleanup_close_ int array_fd =
	    bpf_map_create(BPF_MAP_TYPE_ARRAY, "not_a_ringbuf", 4, 8, 1, NULL);
	struct pcnlog_reader *r = NULL;
	sd_event *event = NULL;

	assert_true(array_fd >= 0);
	assert_int_equal(sd_event_new(&event), 0);
	assert_true(pcnlog_reader_new(event, array_fd, MONITOR, &r) < 0);
	assert_int_equal(pcnlog_reader_new(NULL, array_fd, MONITOR, &r), -EINVAL);
	assert_int_equal(pcnlog_reader_new(event, -1, MONITOR, &r), -EINVAL);
	assert_int_equal(pcnlog_reader_new(event, array_fd, NULL, &r), -EINVAL);
	assert_null(r);
	pcnlog_reader_free(NULL);
	sd_event_unref(event);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_format_table),
	    cmocka_unit_test(test_format_mac_of_a_frame),
	    cmocka_unit_test(test_format_truncates),
	    cmocka_unit_test(test_format_distrusts_the_record),
	    cmocka_unit_test(test_levels),
	    cmocka_unit_test(test_level_names),
	    cmocka_unit_test_setup_teardown(test_reader_logs_the_dataplane, setup_reader,
					    teardown_reader),
	    cmocka_unit_test_setup_teardown(test_reader_reads_in_batches, setup_reader,
					    teardown_reader),
	    cmocka_unit_test_setup_teardown(test_reader_drains_when_freed, setup_reader,
					    teardown_reader),
	    cmocka_unit_test_setup_teardown(test_reader_logs_through_log_h, setup_reader,
					    teardown_reader),
	    cmocka_unit_test(test_reader_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
