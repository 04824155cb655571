/* SPDX-License-Identifier: Apache-2.0 */
/* Label values from key fields, decoder by decoder: what a person reads in a label, escaped as
 * OpenMetrics wants, and never longer than the room the renderer set aside. Fields are
 * described by hand here; test-export has them from real BTF. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <endian.h>

#include "labels.h"
#include "util.h"

/* A field of `size` bytes at the start of the key. */
#define UINT(n)                                                                                    \
	{                                                                                          \
		.kind = DM_FIELD_INT, .bits = 8 * (n), .size = (n)                                 \
	}
#define SINT(n)                                                                                    \
	{                                                                                          \
		.kind = DM_FIELD_INT, .bits = 8 * (n), .size = (n), .is_signed = true              \
	}
#define BE(n)                                                                                      \
	{                                                                                          \
		.kind = DM_FIELD_INT, .bits = 8 * (n), .size = (n), .be = true                     \
	}
#define BOOL                                                                                       \
	{                                                                                          \
		.kind = DM_FIELD_INT, .bits = 8, .size = 1, .is_bool = true                        \
	}
#define FLOAT64                                                                                    \
	{                                                                                          \
		.kind = DM_FIELD_FLOAT, .bits = 64, .size = 8                                      \
	}
#define BYTES(n)                                                                                   \
	{                                                                                          \
		.kind = DM_FIELD_ARRAY, .bits = 8 * (n), .size = (n), .n_elems = (n),              \
		.elem_size = 1, .byte_elems = true                                                 \
	}
#define CHARS(n)                                                                                   \
	{                                                                                          \
		.kind = DM_FIELD_ARRAY, .bits = 8 * (n), .size = (n), .n_elems = (n),              \
		.elem_size = 1, .byte_elems = true, .char_elems = true                             \
	}
/* A 4-bit field 2 bits into the key's first byte. */
#define BITS4                                                                                      \
	{                                                                                          \
		.kind = DM_FIELD_INT, .bit_offset = 2, .bits = 4, .size = 4                        \
	}

static const struct dm_value_name states[] = {
    {1, "open"}, {2, "closed \"for good\""}, {(uint64_t)-1, "unknown"}};
static const struct dm_key_label state_map = {
    .decoder = DM_DECODER_MAP, .map = (struct dm_value_name *)states, .n_map = 3};

struct format_case {
	const char *name;
	enum dm_decoder decoder;
	struct dm_field field;
	uint8_t key[24];
	const char *expected;
};

static const struct format_case format_cases[] = {
    {"number: unsigned", DM_DECODER_NUMBER, UINT(4), {0x2a}, "42"},
    {"number: u64 in full", DM_DECODER_NUMBER, UINT(8), {[0 ... 7] = 0xff}, "18446744073709551615"},
    {"number: signed", DM_DECODER_NUMBER, SINT(2), {0xfb, 0xff}, "-5"},
    {"number: s64 minimum", DM_DECODER_NUMBER, SINT(8), {[7] = 0x80}, "-9223372036854775808"},
    {"number: __be16 in host order", DM_DECODER_NUMBER, BE(2), {0x01, 0xbb}, "443"},
    {"number: bool", DM_DECODER_NUMBER, BOOL, {7}, "1"},
    {"number: double", DM_DECODER_NUMBER, FLOAT64, {0, 0, 0, 0, 0, 0, 0xe0, 0x3f}, "0.5"},
    {"number: bitfield", DM_DECODER_NUMBER, BITS4, {0x2c}, "11"},
    {"network-order: bytes as they lie", DM_DECODER_NETWORK_ORDER, UINT(4), {0, 0, 1, 0}, "256"},
    {"network-order: a __be32 too", DM_DECODER_NETWORK_ORDER, BE(4), {0, 0, 1, 0}, "256"},
    {"port: a __u16 holding network order", DM_DECODER_PORT, UINT(2), {0x00, 0x50}, "80"},
    {"port: a __be16", DM_DECODER_PORT, BE(2), {0x1f, 0x90}, "8080"},
    {"hex: integer", DM_DECODER_HEX, UINT(4), {0xff}, "0xff"},
    {"hex: zero", DM_DECODER_HEX, UINT(8), {0}, "0x0"},
    {"hex: u64", DM_DECODER_HEX, UINT(8), {[0 ... 7] = 0xab}, "0xabababababababab"},
    {"hex: bytes in memory order", DM_DECODER_HEX, BYTES(3), {0xde, 0xad, 0x0f}, "0xdead0f"},
    {"ipv4: a __be32", DM_DECODER_IPV4, BE(4), {192, 0, 2, 1}, "192.0.2.1"},
    {"ipv4: bytes", DM_DECODER_IPV4, BYTES(4), {10, 0, 0, 255}, "10.0.0.255"},
    {"ipv4: any", DM_DECODER_IPV4, UINT(4), {0}, "0.0.0.0"},
    {"ipv6: shortened",
     DM_DECODER_IPV6,
     BYTES(16),
     {0x20, 0x01, 0x0d, 0xb8, [15] = 1},
     "2001:db8::1"},
    {"ipv6: any", DM_DECODER_IPV6, BYTES(16), {0}, "::"},
    {"ipv6: mapped IPv4",
     DM_DECODER_IPV6,
     BYTES(16),
     {[10] = 0xff, 0xff, 192, 0, 2, 1},
     "::ffff:192.0.2.1"},
    {"mac", DM_DECODER_MAC, BYTES(6), {0x02, 0x00, 0x5e, 0x10, 0xab, 0x01}, "02:00:5e:10:ab:01"},
    {"ip-protocol: tcp", DM_DECODER_IP_PROTOCOL, UINT(1), {6}, "tcp"},
    {"ip-protocol: udp", DM_DECODER_IP_PROTOCOL, UINT(1), {17}, "udp"},
    {"ip-protocol: icmp", DM_DECODER_IP_PROTOCOL, UINT(1), {1}, "icmp"},
    {"ip-protocol: ICMPv6", DM_DECODER_IP_PROTOCOL, UINT(4), {58}, "ipv6-icmp"},
    {"ip-protocol: sctp", DM_DECODER_IP_PROTOCOL, UINT(2), {132}, "sctp"},
    {"ip-protocol: unknown ones stay numbers", DM_DECODER_IP_PROTOCOL, UINT(1), {200}, "200"},
    {"ip-protocol: beyond 255", DM_DECODER_IP_PROTOCOL, UINT(2), {0x06, 0x01}, "262"},
    {"ifname: loopback", DM_DECODER_IFNAME, UINT(4), {1}, "lo"},
    {"ifname: none such", DM_DECODER_IFNAME, UINT(4), {0x3f, 0x42, 0x0f}, "999999"},
    {"ifname: zero", DM_DECODER_IFNAME, UINT(4), {0}, "0"},
    {"map: named", DM_DECODER_MAP, UINT(1), {1}, "open"},
    {"map: escaped", DM_DECODER_MAP, UINT(1), {2}, "closed \\\"for good\\\""},
    {"map: not named", DM_DECODER_MAP, UINT(1), {3}, "3"},
    {"map: negative", DM_DECODER_MAP, SINT(4), {0xff, 0xff, 0xff, 0xff}, "unknown"},
    {"string: up to the NUL", DM_DECODER_STRING, CHARS(8), "eth0", "eth0"},
    {"string: no NUL at all", DM_DECODER_STRING, CHARS(4), "veth0", "veth"},
    {"string: empty", DM_DECODER_STRING, CHARS(4), "", ""},
    {"string: escaped", DM_DECODER_STRING, CHARS(8), "a\"b\\c\nd", "a\\\"b\\\\c\\nd"},
    {"string: UTF-8 kept", DM_DECODER_STRING, CHARS(8), "caf\xc3\xa9", "caf\xc3\xa9"},
    {"string: not UTF-8 made '?'", DM_DECODER_STRING, CHARS(8),
     "a\xff"
     "b\xc3",
     "a?b?"},
    {"string: overlong form refused", DM_DECODER_STRING, CHARS(8), "\xc0\xaf", "??"},
};

static void test_format(void **state)
{
	const struct format_case *c = *state;
	struct dm_ifname_cache ifnames = {};
	char buf[256] = {}, *end;
	size_t max = dm_label_max_len(c->decoder, &c->field, &state_map);

	assert_null(dm_decoder_unfit(c->decoder, &c->field));
	memset(buf, 'X', sizeof(buf));
	end = dm_label_format(buf, c->decoder, &c->field, c->key, &state_map, &ifnames);
	*end = '\0';
	if (!streq(buf, c->expected))
		fail_msg("got \"%s\", expected \"%s\"", buf, c->expected);
	if ((size_t)(end - buf) > max)
		fail_msg("wrote %zu bytes, at most %zu were expected", (size_t)(end - buf), max);
}

/* The longest values fit the room dm_label_max_len() promises. */
static void test_max_len(void **state)
{
	static const struct {
		enum dm_decoder decoder;
		struct dm_field field;
		uint8_t key[16];
	} cases[] = {
	    {DM_DECODER_NUMBER, SINT(8), {[7] = 0x80}},
	    {DM_DECODER_NUMBER, FLOAT64, {1, 0, 0, 0, 0, 0, 0x10, 0x80}},
	    {DM_DECODER_HEX, UINT(8), {[0 ... 7] = 0xff}},
	    {DM_DECODER_HEX, BYTES(16), {[0 ... 15] = 0xff}},
	    {DM_DECODER_IPV4, BYTES(4), {[0 ... 3] = 255}},
	    {DM_DECODER_IPV6, BYTES(16), {[0 ... 15] = 0xff}},
	    {DM_DECODER_IPV6, BYTES(16), {0xff, 0xff, [10] = 0xff, 0xff, 255, 255, 255, 255}},
	    {DM_DECODER_STRING, CHARS(8), "\"\"\"\"\"\"\"\""},
	    {DM_DECODER_MAP, UINT(1), {2}},
	    {DM_DECODER_IP_PROTOCOL, UINT(8), {[0 ... 7] = 0xff}},
	    {DM_DECODER_IFNAME, SINT(8), {[7] = 0x80}},
	    {DM_DECODER_PORT, UINT(2), {0xff, 0xff}},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char buf[256];
		size_t n = dm_label_format(buf, cases[i].decoder, &cases[i].field, cases[i].key,
					   &state_map, NULL) -
			   buf;

		if (n > dm_label_max_len(cases[i].decoder, &cases[i].field, &state_map))
			fail_msg("case %zu: %zu bytes, more than %zu", i, n,
				 dm_label_max_len(cases[i].decoder, &cases[i].field, &state_map));
	}
}

static void test_unfit(void **state)
{
	static const struct {
		enum dm_decoder decoder;
		struct dm_field field;
		const char *why; /* NULL: fits */
	} cases[] = {
	    {DM_DECODER_IPV4, UINT(2), "needs a 4-byte field"},
	    {DM_DECODER_IPV4, BYTES(16), "needs a 4-byte field"},
	    {DM_DECODER_IPV6, BYTES(4), "needs a 16-byte field"},
	    {DM_DECODER_MAC, BYTES(8), "needs a 6-byte field"},
	    {DM_DECODER_PORT, UINT(4), "needs a 2-byte integer"},
	    {DM_DECODER_PORT, BYTES(2), "needs a 2-byte integer"},
	    {DM_DECODER_STRING, UINT(8), "needs a char array"},
	    {DM_DECODER_ENUM, UINT(4), "needs an enum"},
	    {DM_DECODER_IP_PROTOCOL, BYTES(1), "needs an integer"},
	    {DM_DECODER_IFNAME, FLOAT64, "needs an integer"},
	    {DM_DECODER_MAP, BYTES(2), "needs an integer"},
	    {DM_DECODER_NUMBER, BYTES(4), "needs a number"},
	    {DM_DECODER_NETWORK_ORDER, BITS4, "needs an integer of whole bytes"},
	    {DM_DECODER_IPV4, BITS4, "needs a 4-byte field"},
	    {DM_DECODER_HEX, FLOAT64, "needs an integer or whole bytes"},
	    {DM_DECODER_AUTO, UINT(4), "is no decoder"},
	    {DM_DECODER_HEX, BITS4, NULL},
	    {DM_DECODER_MAP, SINT(8), NULL},
	    {DM_DECODER_STRING, BYTES(4), NULL},
	    {DM_DECODER_IPV4, BE(4), NULL},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		const char *why = dm_decoder_unfit(cases[i].decoder, &cases[i].field);

		if (!streq_ptr(why, cases[i].why))
			fail_msg("case %zu (%s): \"%s\", expected \"%s\"", i,
				 dm_decoder_to_string(cases[i].decoder), strempty(why),
				 strempty(cases[i].why));
	}
}

/* What a field is shown as when the configuration says nothing: by type, and by name. */
static void test_defaults(void **state)
{
	static const struct {
		struct dm_field field;
		const char *name;
		enum dm_decoder decoder;
	} cases[] = {
	    {BE(4), "saddr", DM_DECODER_IPV4},
	    {BE(4), "dst_addr", DM_DECODER_IPV4},
	    {UINT(4), "saddr", DM_DECODER_NUMBER}, /* host order: could be anything */
	    {BE(4), "seq", DM_DECODER_NUMBER},
	    {BYTES(4), "src_ip", DM_DECODER_IPV4},
	    {BYTES(4), "skip", DM_DECODER_HEX}, /* "ip" only as a word */
	    {BYTES(16), "daddr", DM_DECODER_IPV6},
	    {BYTES(16), "sip", DM_DECODER_IPV6},
	    {BYTES(16), "digest", DM_DECODER_HEX},
	    {BYTES(6), "src_mac", DM_DECODER_MAC},
	    {BYTES(6), "h_dest", DM_DECODER_MAC},
	    {BYTES(6), "hwaddr", DM_DECODER_MAC},
	    {BYTES(6), "id", DM_DECODER_HEX},
	    {CHARS(16), "comm", DM_DECODER_STRING},
	    {CHARS(16), "", DM_DECODER_STRING},
	    {BE(2), "sport", DM_DECODER_PORT},
	    {BE(2), "h_proto", DM_DECODER_NUMBER},
	    {UINT(2), "dport", DM_DECODER_NUMBER}, /* host order, as the program chose */
	    {UINT(1), "proto", DM_DECODER_IP_PROTOCOL},
	    {UINT(1), "l4_protocol", DM_DECODER_IP_PROTOCOL},
	    {UINT(2), "proto", DM_DECODER_NUMBER}, /* an EtherType, most likely */
	    {UINT(4), "ifindex", DM_DECODER_IFNAME},
	    {SINT(4), "ingress_ifindex", DM_DECODER_IFNAME},
	    {UINT(4), "index", DM_DECODER_NUMBER},
	    {UINT(8), "", DM_DECODER_NUMBER},
	    {FLOAT64, "ratio", DM_DECODER_NUMBER},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		enum dm_decoder d = dm_decoder_default(&cases[i].field, cases[i].name);

		if (d != cases[i].decoder)
			fail_msg("\"%s\" (case %zu): %s, expected %s", cases[i].name, i,
				 strempty(dm_decoder_to_string(d)),
				 dm_decoder_to_string(cases[i].decoder));
	}
}

static void test_protocol_names(void **state)
{
	assert_string_equal(dm_ip_protocol_name(6), "tcp");
	assert_string_equal(dm_ip_protocol_name(47), "gre");
	assert_string_equal(dm_ip_protocol_name(50), "esp");
	assert_null(dm_ip_protocol_name(0));
	assert_null(dm_ip_protocol_name(256));
	assert_null(dm_ip_protocol_name(UINT64_MAX));
}

static void test_integers(void **state)
{
	static const struct {
		int64_t v;
		const char *text;
	} cases[] = {{0, "0"},
		     {7, "7"},
		     {-1, "-1"},
		     {1000000007, "1000000007"},
		     {INT64_MAX, "9223372036854775807"},
		     {INT64_MIN, "-9223372036854775808"}};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char buf[32];

		*dm_format_i64(buf, cases[i].v) = '\0';
		assert_string_equal(buf, cases[i].text);
	}
	char buf[32];

	*dm_format_u64(buf, UINT64_MAX) = '\0';
	assert_string_equal(buf, "18446744073709551615");
}

/* Interface names are looked up once per rendering and remembered, more than the cache holds
 * falling back to numbers rather than failing. */
static void test_ifname_cache(void **state)
{
	struct dm_ifname_cache c = {};
	const struct dm_field f = UINT(4);
	char buf[64];

	for (uint32_t ifindex = 1000000; ifindex < 1000000 + 2 * DM_IFNAME_CACHE_SIZE; ifindex++) {
		*dm_label_format(buf, DM_DECODER_IFNAME, &f, &ifindex, NULL, &c) = '\0';
		assert_int_equal(strtoul(buf, NULL, 10), ifindex);
	}
	*dm_label_format(buf, DM_DECODER_IFNAME, &f, &(uint32_t){1}, NULL, &c) = '\0';
	assert_string_equal(buf, "1"); /* full: no more lookups */
	c = (struct dm_ifname_cache){};
	*dm_label_format(buf, DM_DECODER_IFNAME, &f, &(uint32_t){1}, NULL, &c) = '\0';
	assert_string_equal(buf, "lo");
}

int main(void)
{
	struct CMUnitTest tests[ELEMENTSOF(format_cases) + 8];
	size_t n = 0;

	for (size_t i = 0; i < ELEMENTSOF(format_cases); i++)
		tests[n++] = (struct CMUnitTest){format_cases[i].name, test_format, NULL, NULL,
						 (void *)&format_cases[i]};
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_max_len);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_unfit);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_defaults);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_protocol_names);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_integers);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_ifname_cache);
	return _cmocka_run_group_tests("labels", tests, n, NULL, NULL);
}
