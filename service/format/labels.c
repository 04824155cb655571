/* SPDX-License-Identifier: Apache-2.0 */
/* Label values from key fields. Numbers and addresses are formatted by hand: snprintf() and
 * inet_ntop() for IPv4 cost more than the rest of a sample together. */
#include <arpa/inet.h>
#include <ctype.h>
#include <endian.h>
#include <net/if.h>
#include <string.h>

#include <linux/btf.h>

#include "jsonw.h"
#include "labels.h"
#include "openmetrics.h"
#include "util.h"

#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* The common IP protocols, by their IANA keywords in lower case (as /etc/protocols has them). */
static const char *const ip_protocols[256] = {
    [1] = "icmp",	 [2] = "igmp",	       [4] = "ipip",	   [6] = "tcp",
    [8] = "egp",	 [17] = "udp",	       [33] = "dccp",	   [41] = "ipv6",
    [43] = "ipv6-route", [44] = "ipv6-frag",   [46] = "rsvp",	   [47] = "gre",
    [50] = "esp",	 [51] = "ah",	       [58] = "ipv6-icmp", [59] = "ipv6-nonxt",
    [60] = "ipv6-opts",	 [89] = "ospf",	       [97] = "etherip",   [103] = "pim",
    [108] = "ipcomp",	 [112] = "vrrp",       [115] = "l2tp",	   [132] = "sctp",
    [136] = "udplite",	 [137] = "mpls-in-ip", [143] = "ethernet", [255] = "raw",
};

const char *dm_ip_protocol_name(uint64_t proto)
{
	return proto < ELEMENTSOF(ip_protocols) ? ip_protocols[proto] : NULL;
}

/* The digits JSON gets: one formatter, by hand, for label values and JSON alike. */
char *dm_format_u64(char *dst, uint64_t v)
{
	return jsonw_format_u64(dst, v);
}

char *dm_format_i64(char *dst, int64_t v)
{
	if (v >= 0)
		return dm_format_u64(dst, v);
	*dst++ = '-';
	return dm_format_u64(dst, -(uint64_t)v);
}

/* ---- which decoder a field gets by default */

static bool name_has(const char *name, const char *part)
{
	return strcasestr(name, part) != NULL;
}

/* Whether `word` is one of the parts of `name` between underscores: "ip" in "src_ip", not in
 * "skip". */
static bool name_has_word(const char *name, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = name; (p = strcasestr(p, word)); p++)
		if ((p == name || p[-1] == '_') && (p[n] == '\0' || p[n] == '_'))
			return true;
	return false;
}

/* Names that say "address": saddr, dst_addr, src_ip, sip, dip. */
static bool is_address_name(const char *name)
{
	return name_has(name, "addr") || name_has_word(name, "ip") || name_has_word(name, "sip") ||
	       name_has_word(name, "dip");
}

static enum dm_decoder default_for_bytes(const struct dm_field *f, const char *name)
{
	bool address = is_address_name(name);

	if (f->char_elems)
		return DM_DECODER_STRING;
	if (f->size == 4 && address)
		return DM_DECODER_IPV4;
	if (f->size == 16 && address)
		return DM_DECODER_IPV6;
	if (f->size == 6 &&
	    (address || name_has(name, "mac") || streq(name, "h_source") || streq(name, "h_dest")))
		return DM_DECODER_MAC;
	return DM_DECODER_HEX;
}

static enum dm_decoder default_for_int(const struct dm_field *f, const char *name)
{
	if (f->be && f->size == 4 && name_has(name, "addr"))
		return DM_DECODER_IPV4;
	if (f->be && f->size == 2 && name_has(name, "port"))
		return DM_DECODER_PORT;
	if (f->size == 1 && !f->is_bool && name_has(name, "proto"))
		return DM_DECODER_IP_PROTOCOL;
	if (name_has(name, "ifindex") || streq(name, "ifidx") || streq(name, "if_index"))
		return DM_DECODER_IFNAME;
	return DM_DECODER_NUMBER;
}

enum dm_decoder dm_decoder_default(const struct dm_field *f, const char *name)
{
	switch (f->kind) {
	case DM_FIELD_ENUM:
		return DM_DECODER_ENUM;
	case DM_FIELD_INT:
		return default_for_int(f, name);
	case DM_FIELD_FLOAT:
	case DM_FIELD_PTR:
		return DM_DECODER_NUMBER;
	case DM_FIELD_ARRAY:
		if (f->byte_elems)
			return default_for_bytes(f, name);
		/* __be32 saddr6[4], __u16 a[8]: an address by name and size, else elements. */
		if (f->size == 16 && is_address_name(name))
			return DM_DECODER_IPV6;
		return DM_DECODER_AUTO;
	case DM_FIELD_STRUCT:
		return streq(dm_field_type_name(f), "in6_addr") ? DM_DECODER_IPV6 : DM_DECODER_AUTO;
	case DM_FIELD_UNION:
		return streq(dm_field_type_name(f), "in6_addr") ? DM_DECODER_IPV6 : DM_DECODER_HEX;
	default:
		return DM_DECODER_HEX;
	}
}

/* ---- whether a decoder fits a field */

static bool is_integer(const struct dm_field *f)
{
	return f->kind == DM_FIELD_INT || f->kind == DM_FIELD_ENUM;
}

/* Whole bytes of any kind but a bitfield: addresses and hex read them in memory order. */
static bool is_plain_bytes(const struct dm_field *f, uint32_t size)
{
	return dm_field_is_bytes(f) && f->kind != DM_FIELD_OTHER && (!size || f->size == size);
}

const char *dm_decoder_unfit(enum dm_decoder d, const struct dm_field *f)
{
	switch (d) {
	case DM_DECODER_NUMBER:
		return dm_field_is_number(f) ? NULL : "needs a number";
	case DM_DECODER_NETWORK_ORDER:
		return is_integer(f) && dm_field_is_bytes(f) ? NULL
							     : "needs an integer of whole bytes";
	case DM_DECODER_PORT:
		return is_integer(f) && dm_field_is_bytes(f) && f->size == 2
			   ? NULL
			   : "needs a 2-byte integer";
	case DM_DECODER_HEX:
		return is_integer(f) || f->kind == DM_FIELD_PTR ||
			       (is_plain_bytes(f, 0) && f->kind != DM_FIELD_FLOAT)
			   ? NULL
			   : "needs an integer or whole bytes";
	case DM_DECODER_IPV4:
		return is_plain_bytes(f, 4) ? NULL : "needs a 4-byte field";
	case DM_DECODER_IPV6:
		return is_plain_bytes(f, 16) ? NULL : "needs a 16-byte field";
	case DM_DECODER_MAC:
		return is_plain_bytes(f, 6) ? NULL : "needs a 6-byte field";
	case DM_DECODER_IP_PROTOCOL:
	case DM_DECODER_IFNAME:
	case DM_DECODER_MAP:
		return is_integer(f) ? NULL : "needs an integer";
	case DM_DECODER_ENUM:
		return f->kind == DM_FIELD_ENUM ? NULL : "needs an enum";
	case DM_DECODER_STRING:
		return f->kind == DM_FIELD_ARRAY && f->byte_elems ? NULL : "needs a char array";
	default:
		return "is no decoder";
	}
}

/* ---- how long a label value can be */

static size_t enum_max_len(const struct dm_field *f)
{
	const struct btf_type *t = btf__type_by_id(f->btf, f->resolved_id);
	size_t n = 20;

	for (uint16_t i = 0; i < btf_vlen(t); i++) {
		uint32_t off =
		    btf_is_enum64(t) ? btf_enum64(t)[i].name_off : btf_enum(t)[i].name_off;

		n = MAX(n, strlen(strempty(btf__name_by_offset(f->btf, off))));
	}
	return n;
}

size_t dm_label_max_len(enum dm_decoder d, const struct dm_field *f, const struct dm_key_label *k)
{
	size_t n = 20;

	switch (d) {
	case DM_DECODER_NUMBER:
		return f->kind == DM_FIELD_FLOAT ? OM_NUMBER_MAX : 20;
	case DM_DECODER_HEX:
		return 2 + 2 * f->size;
	case DM_DECODER_IPV4:
		return sizeof("255.255.255.255");
	case DM_DECODER_IPV6:
		return INET6_ADDRSTRLEN;
	case DM_DECODER_MAC:
		return sizeof("ff:ff:ff:ff:ff:ff");
	case DM_DECODER_IP_PROTOCOL:
		return 20;
	case DM_DECODER_IFNAME:
		return 2 * IF_NAMESIZE + 20;
	case DM_DECODER_ENUM:
		return enum_max_len(f);
	case DM_DECODER_MAP:
		for (size_t i = 0; k && i < k->n_map; i++)
			n = MAX(n, 2 * strlen(k->map[i].name));
		return n;
	case DM_DECODER_STRING:
		return 2 * f->n_elems;
	default:
		return 20;
	}
}

/* ---- formatting */

static char *format_number(char *dst, const struct dm_number *n)
{
	char buf[OM_NUMBER_MAX];
	size_t len;

	switch (n->kind) {
	case DM_NUMBER_U64:
		return dm_format_u64(dst, n->u);
	case DM_NUMBER_I64:
		return dm_format_i64(dst, n->i);
	default:
		len = om_format_number(n, buf);
		memcpy(dst, buf, len);
		return dst + len;
	}
}

static char *format_integer(char *dst, const struct dm_field *f, const void *base)
{
	struct dm_number n;

	dm_field_number(f, base, &n);
	return format_number(dst, &n);
}

/* The field's bytes as a big-endian number, whatever its declared order. */
static uint64_t network_order(const struct dm_field *f, const void *base)
{
	uint64_t v = 0;
	const uint8_t *p = dm_field_bytes(f, base);

	for (uint32_t i = 0; i < f->size; i++)
		v = v << 8 | p[i];
	return v;
}

static const char hex_digits[] = "0123456789abcdef";

static char *format_hex(char *dst, const struct dm_field *f, const void *base)
{
	const uint8_t *p = dm_field_bytes(f, base);
	uint64_t v;
	int shift;

	*dst++ = '0';
	*dst++ = 'x';
	if (f->kind == DM_FIELD_ARRAY || f->kind == DM_FIELD_STRUCT || f->kind == DM_FIELD_UNION) {
		for (uint32_t i = 0; i < f->size; i++) {
			*dst++ = hex_digits[p[i] >> 4];
			*dst++ = hex_digits[p[i] & 0xf];
		}
		return dst;
	}
	v = dm_field_bits(f, base);
	for (shift = 60; shift > 0 && !(v >> shift); shift -= 4)
		;
	for (; shift >= 0; shift -= 4)
		*dst++ = hex_digits[(v >> shift) & 0xf];
	return dst;
}

static char *format_ipv4(char *dst, const uint8_t *p)
{
	for (int i = 0; i < 4; i++) {
		if (i > 0)
			*dst++ = '.';
		dst = dm_format_u64(dst, p[i]);
	}
	return dst;
}

static char *format_ipv6(char *dst, const uint8_t *p)
{
	char buf[INET6_ADDRSTRLEN];
	size_t n;

	if (!inet_ntop(AF_INET6, p, buf, sizeof(buf)))
		return format_hex(dst, &(struct dm_field){.kind = DM_FIELD_ARRAY, .size = 16}, p);
	n = strlen(buf);
	memcpy(dst, buf, n);
	return dst + n;
}

static char *format_mac(char *dst, const uint8_t *p)
{
	for (int i = 0; i < 6; i++) {
		if (i > 0)
			*dst++ = ':';
		*dst++ = hex_digits[p[i] >> 4];
		*dst++ = hex_digits[p[i] & 0xf];
	}
	return dst;
}

/* The length of the valid UTF-8 sequence at p (at most n bytes), 0 when there is none. */
static size_t utf8_len(const uint8_t *p, size_t n)
{
	size_t len;
	uint32_t c;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0)
		len = 2, c = p[0] & 0x1f;
	else if ((p[0] & 0xf0) == 0xe0)
		len = 3, c = p[0] & 0x0f;
	else if ((p[0] & 0xf8) == 0xf0)
		len = 4, c = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates and what lies beyond Unicode are no UTF-8. */
	if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	return len;
}

/* Text up to its first NUL; OpenMetrics strings are UTF-8, other bytes become '?'. */
static char *format_string(char *dst, const uint8_t *p, size_t max)
{
	size_t n = strnlen((const char *)p, max);

	for (size_t i = 0; i < n;) {
		size_t len = utf8_len(p + i, n - i);

		if (len == 0) {
			*dst++ = '?';
			i++;
		} else if (len == 1) {
			dst = om_escape(dst, (const char *)p + i, 1);
			i++;
		} else {
			memcpy(dst, p + i, len);
			dst += len;
			i += len;
		}
	}
	return dst;
}

static char *format_enum(char *dst, const struct dm_field *f, const void *base)
{
	const struct btf_type *t = btf__type_by_id(f->btf, f->resolved_id);
	uint64_t v = dm_field_bits(f, base);
	uint64_t mask = f->bits >= 64 ? UINT64_MAX : (UINT64_C(1) << f->bits) - 1;

	/* The low bits only, so that signed, unsigned and bitfield enums all match. */
	for (uint16_t i = 0; i < btf_vlen(t); i++) {
		uint64_t ev = btf_is_enum64(t) ? btf_enum64_value(&btf_enum64(t)[i])
					       : (uint64_t)(int64_t)btf_enum(t)[i].val;
		uint32_t off =
		    btf_is_enum64(t) ? btf_enum64(t)[i].name_off : btf_enum(t)[i].name_off;
		const char *name = btf__name_by_offset(f->btf, off);

		if (((ev ^ v) & mask) == 0 && name && *name) {
			size_t n = strlen(name);

			memcpy(dst, name, n);
			return dst + n;
		}
	}
	return format_integer(dst, f, base);
}

static char *format_mapped(char *dst, const struct dm_field *f, const void *base,
			   const struct dm_key_label *k)
{
	struct dm_number n;
	uint64_t v;

	dm_field_number(f, base, &n);
	v = n.kind == DM_NUMBER_I64 ? (uint64_t)n.i : n.u;
	for (size_t i = 0; k && i < k->n_map; i++)
		if (k->map[i].value == v)
			return om_escape(dst, k->map[i].name, strlen(k->map[i].name));
	return format_number(dst, &n);
}

static char *format_protocol(char *dst, const struct dm_field *f, const void *base)
{
	struct dm_number n;
	const char *name;

	dm_field_number(f, base, &n);
	name = n.kind == DM_NUMBER_U64 ? dm_ip_protocol_name(n.u) : NULL;
	if (!name)
		return format_number(dst, &n);
	memcpy(dst, name, strlen(name));
	return dst + strlen(name);
}

static const char *ifname_lookup(struct dm_ifname_cache *c, int ifindex)
{
	unsigned h = (unsigned)ifindex % DM_IFNAME_CACHE_SIZE;

	for (unsigned i = 0; c && i < DM_IFNAME_CACHE_SIZE; i++) {
		typeof(c->slots[0]) *s = &c->slots[(h + i) % DM_IFNAME_CACHE_SIZE];

		if (s->ifindex == ifindex)
			return s->exists ? s->name : NULL;
		if (s->ifindex == 0) {
			s->ifindex = ifindex;
			s->exists = if_indextoname(ifindex, s->name) != NULL;
			return s->exists ? s->name : NULL;
		}
	}
	return NULL; /* more interfaces than slots: the number, rather than a system call each */
}

static char *format_ifname(char *dst, const struct dm_field *f, const void *base,
			   struct dm_ifname_cache *ifnames)
{
	struct dm_number n;
	const char *name = NULL;

	dm_field_number(f, base, &n);
	if (n.kind == DM_NUMBER_U64 && n.u > 0 && n.u <= INT32_MAX)
		name = ifname_lookup(ifnames, (int)n.u);
	else if (n.kind == DM_NUMBER_I64 && n.i > 0 && n.i <= INT32_MAX)
		name = ifname_lookup(ifnames, (int)n.i);
	if (!name)
		return format_number(dst, &n);
	return om_escape(dst, name, strlen(name));
}

char *dm_label_format(char *dst, enum dm_decoder d, const struct dm_field *f, const void *base,
		      const struct dm_key_label *k, struct dm_ifname_cache *ifnames)
{
	switch (d) {
	case DM_DECODER_NETWORK_ORDER:
	case DM_DECODER_PORT:
		return dm_format_u64(dst, network_order(f, base));
	case DM_DECODER_HEX:
		return format_hex(dst, f, base);
	case DM_DECODER_IPV4:
		return format_ipv4(dst, dm_field_bytes(f, base));
	case DM_DECODER_IPV6:
		return format_ipv6(dst, dm_field_bytes(f, base));
	case DM_DECODER_MAC:
		return format_mac(dst, dm_field_bytes(f, base));
	case DM_DECODER_IP_PROTOCOL:
		return format_protocol(dst, f, base);
	case DM_DECODER_IFNAME:
		return format_ifname(dst, f, base, ifnames);
	case DM_DECODER_ENUM:
		return format_enum(dst, f, base);
	case DM_DECODER_MAP:
		return format_mapped(dst, f, base, k);
	case DM_DECODER_STRING:
		return format_string(dst, dm_field_bytes(f, base), f->size);
	default:
		return format_integer(dst, f, base);
	}
}
