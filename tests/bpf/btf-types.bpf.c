/* SPDX-License-Identifier: Apache-2.0 */
/* Types for the BTF decoding tests. Built with clang -g -target bpf and only parsed for its BTF,
 * never loaded. The unit tests include this same file for the host (with BTF_TYPES_HOST
 * defined) so that they fill byte buffers through the very declarations clang described:
 * the layouts agree on x86_64 and on any little-endian 64-bit host. */
#include <linux/types.h>

#ifndef BTF_TYPES_HOST
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#endif

/* Every scalar width and signedness, bool and char. */
struct scalars {
	__u8 u8;
	__u16 u16;
	__u32 u32;
	__u64 u64;
	__s8 s8;
	__s16 s16;
	__s32 s32;
	__s64 s64;
	_Bool flag;
	char c;
	signed char sc;
	unsigned char uc;
};

/* Network byte order fields, as a packet parser stores them. */
struct flow_key {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
};

struct timestamps {
	__u64 first_ns;
	__u64 last_ns;
};

/* A nested struct, and a typedef chain down to __u64. */
typedef __u64 counter_t;
typedef counter_t pkt_counter_t;

struct flow_stats {
	pkt_counter_t packets;
	const volatile counter_t bytes;
	struct timestamps seen;
};

struct arrays {
	__u32 counts[4];
	__u8 mac[6];   /* unsigned char: a list, not a string */
	char name[16]; /* char: a string up to the first NUL */
	__u16 matrix[2][3];
	char names[2][8];
	struct timestamps spans[2];
	__u32 empty[0];
};

enum color {
	RED,
	GREEN = 5,
	BLUE,
};

enum direction {
	DIR_BACK = -1,
	DIR_NONE = 0,
	DIR_FWD = 1,
};

/* clang writes these as kflag bitfields; one straddles a byte boundary, one is signed, one is
 * 40 bits wide, one is an enum and one is a bool. */
struct bits {
	__u32 a : 3;
	__u32 b : 7;
	__s32 c : 4;
	__u64 d : 40;
	_Bool e : 1;
	enum color col : 3;
	__u8 f;
	__s64 g : 33;
};

union word {
	__u32 value;
	__u8 bytes[4];
};

/* Anonymous members: their fields belong to the parent object. */
struct tagged {
	__u32 id;
	union {
		__be32 v4;
		__u8 v6[16];
	};
	struct {
		__u16 lo;
		__u16 hi;
	};
	union word w;
};

struct misc {
	enum color color;
	enum direction dir;
	double ratio;
	float weight;
	void *ptr;
	unsigned __int128 big;
};

/* Members at odd offsets: the decoder must not assume alignment. */
struct __attribute__((packed)) packed {
	__u8 tag;
	__u32 word;
	__u64 wide;
	__u16 half;
};

/* Packed bitfields: `wide` spans nine bytes. */
struct __attribute__((packed)) straddle {
	__u8 lead : 5;
	__u64 wide : 62;
	__u8 tail : 1;
};

#ifndef BTF_TYPES_HOST

/* Maps are what put these types into BTF: a hash map of flows, as a monitor would have, and an
 * array map per remaining type. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct flow_key);
	__type(value, struct flow_stats);
	__uint(max_entries, 16);
} flows SEC(".maps");

#define ARRAY_OF(T, name)                                                                          \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_ARRAY);                                                  \
		__type(key, __u32);                                                                \
		__type(value, T);                                                                  \
		__uint(max_entries, 1);                                                            \
	} name SEC(".maps")

ARRAY_OF(struct scalars, scalars_map);
ARRAY_OF(struct arrays, arrays_map);
ARRAY_OF(struct bits, bits_map);
ARRAY_OF(union word, words_map);
ARRAY_OF(struct tagged, tagged_map);
ARRAY_OF(struct misc, misc_map);
ARRAY_OF(struct packed, packed_map);
ARRAY_OF(struct straddle, straddle_map);

/* Scalar values of a metric, through typedefs and modifiers. */
ARRAY_OF(pkt_counter_t, counter_map);
ARRAY_OF(const volatile __s32, signed_map);
ARRAY_OF(double, double_map);
ARRAY_OF(enum color, color_map);
ARRAY_OF(__be16, port_map);

char LICENSE[] SEC("license") = "GPL";

#endif
