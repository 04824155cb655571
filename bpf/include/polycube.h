/* SPDX-License-Identifier: Apache-2.0 */
/* What code in the Polycube/BCC dialect is compiled against, after dynmond's syntactic rewrite
 * (service/dialect.c) turned it into plain C:
 *   - BPF_TABLE("kind", ...) and its _SHARED/_PUBLIC/_PINNED/BPF_F_TABLE/BPF_QUEUESTACK forms
 *     become DM_TABLE*() / DM_QUEUESTACK() with the map type spelled out (the rewrite reads the
 *     kind string, which the preprocessor cannot);
 *   - MAP.method(args) becomes dm_method(MAP, args);
 *   - #include <uapi/linux/x.h> becomes #include <linux/x.h>.
 * The translation defines CTXTYPE (and POLYCUBE_XDP for the XDP hook) before including this
 * header, and appends DM_POLYCUBE_ENTRY(), the program that calls the user's handle_rx().
 * Every map is a BTF-defined map, so that its key and value types land in BTF and the daemon can
 * decode its content. */
#pragma once

#include <stddef.h>
#include <stdbool.h>

#include "dynmon.h"
#include "dynmon-log.h"

#ifndef CTXTYPE
#error "CTXTYPE must be defined (__sk_buff or xdp_md) before polycube.h is included"
#endif

/* ---- Types and helpers BCC code takes for granted ---- */

/* Spelled like the C library's, so that they agree with it wherever both are seen. */
typedef __INT8_TYPE__ int8_t;
typedef __INT16_TYPE__ int16_t;
typedef __INT32_TYPE__ int32_t;
typedef __INT64_TYPE__ int64_t;
typedef __UINT8_TYPE__ uint8_t;
typedef __UINT16_TYPE__ uint16_t;
typedef __UINT32_TYPE__ uint32_t;
typedef __UINT64_TYPE__ uint64_t;
typedef __UINTPTR_TYPE__ uintptr_t;
typedef __INTPTR_TYPE__ intptr_t;

/* The kernel's own names, as BCC's helpers.h provides them. */
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s8 s8;
typedef __s16 s16;
typedef __s32 s32;
typedef __s64 s64;

#define bpf_htonll(x) bpf_cpu_to_be64(x)
#define bpf_ntohll(x) bpf_be64_to_cpu(x)
#ifndef htons
#define htons(x) bpf_htons(x)
#define ntohs(x) bpf_ntohs(x)
#define htonl(x) bpf_htonl(x)
#define ntohl(x) bpf_ntohl(x)
#endif

#define lock_xadd(ptr, val) ((void)__sync_fetch_and_add(ptr, val))

/* The index of the highest bit set, plus one for bpf_log2l(): histogram buckets, as BCC. */
static __always_inline unsigned int bpf_log2(unsigned int v)
{
	unsigned int r, shift;

	r = (v > 0xFFFF) << 4;
	v >>= r;
	shift = (v > 0xFF) << 3;
	v >>= shift;
	r |= shift;
	shift = (v > 0xF) << 2;
	v >>= shift;
	r |= shift;
	shift = (v > 0x3) << 1;
	v >>= shift;
	r |= shift;
	return r | (v >> 1);
}

static __always_inline unsigned int bpf_log2l(unsigned long v)
{
	unsigned int hi = v >> 32;

	return hi ? bpf_log2(hi) + 32 + 1 : bpf_log2(v) + 1;
}

/* ---- Maps ---- */

/* BCC's table with its key and value types. */
#define DM_TABLE(_type, _flags, _key, _leaf, _name, _size)                                         \
	struct {                                                                                   \
		__uint(type, _type);                                                               \
		__uint(map_flags, _flags);                                                         \
		__type(key, _key);                                                                 \
		__type(value, _leaf);                                                              \
		__uint(max_entries, _size);                                                        \
	} _name SEC(".maps")

/* Queues and stacks have no key: the one given to BPF_TABLE("queue", ...) is dropped. */
#define DM_TABLE_NOKEY(_type, _flags, _key, _leaf, _name, _size)                                   \
	struct {                                                                                   \
		__uint(type, _type);                                                               \
		__uint(map_flags, _flags);                                                         \
		__type(value, _leaf);                                                              \
		__uint(max_entries, _size);                                                        \
	} _name SEC(".maps")

#define DM_F_TABLE(_type, _kflags, _key, _leaf, _name, _size, _flags)                              \
	DM_TABLE(_type, (_kflags) | (_flags), _key, _leaf, _name, _size)
#define DM_F_TABLE_NOKEY(_type, _kflags, _key, _leaf, _name, _size, _flags)                        \
	DM_TABLE_NOKEY(_type, (_kflags) | (_flags), _key, _leaf, _name, _size)

/* BPF_TABLE_PINNED(kind, K, V, NAME, SIZE, "/sys/fs/bpf/path"[, flags]): the pin path is
 * ignored for now; the map is shared between the monitor's paths like a _SHARED one. */
#define DM_PICK8(_1, _2, _3, _4, _5, _6, _7, _8, NAME, ...) NAME
#define DM_TABLE_PINNED(...)                                                                       \
	DM_PICK8(__VA_ARGS__, DM_TABLE_PINNED8, DM_TABLE_PINNED7, )(__VA_ARGS__)
#define DM_TABLE_PINNED7(_type, _kflags, _key, _leaf, _name, _size, _pin)                          \
	DM_TABLE(_type, _kflags, _key, _leaf, _name, _size)
#define DM_TABLE_PINNED8(_type, _kflags, _key, _leaf, _name, _size, _pin, _flags)                  \
	DM_TABLE(_type, (_kflags) | (_flags), _key, _leaf, _name, _size)
#define DM_TABLE_PINNED_NOKEY(...)                                                                 \
	DM_PICK8(__VA_ARGS__, DM_TABLE_PINNED_NOKEY8, DM_TABLE_PINNED_NOKEY7, )(__VA_ARGS__)
#define DM_TABLE_PINNED_NOKEY7(_type, _kflags, _key, _leaf, _name, _size, _pin)                    \
	DM_TABLE_NOKEY(_type, _kflags, _key, _leaf, _name, _size)
#define DM_TABLE_PINNED_NOKEY8(_type, _kflags, _key, _leaf, _name, _size, _pin, _flags)            \
	DM_TABLE_NOKEY(_type, (_kflags) | (_flags), _key, _leaf, _name, _size)

/* BPF_TABLE("extern", K, V, NAME, SIZE): a map the monitor's other path defines. Its kind is
 * not known here (libbpf insists on one, so it says hash): the daemon hands this map the other
 * path's one with bpf_map__reuse_fd(), which takes type, sizes and flags from it, before
 * loading. */
#define DM_TABLE_EXTERN(_key, _leaf, _name, _size, ...)                                            \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_HASH);                                                   \
		__type(key, _key);                                                                 \
		__type(value, _leaf);                                                              \
		__uint(max_entries, _size);                                                        \
	} _name SEC(".maps")

/* BPF_QUEUESTACK("queue"|"stack", NAME, V, SIZE, FLAGS[, "/pin/path"]) */
#define DM_QUEUESTACK(_type, _name, _leaf, _size, _flags, ...)                                     \
	DM_TABLE_NOKEY(_type, _flags, void, _leaf, _name, _size)

#define DM_PICK4(_1, _2, _3, _4, NAME, ...) NAME

/* BPF_HASH(name, key = u64, leaf = u64, size = 10240), as BCC. */
#define BPF_HASH(...) DM_PICK4(__VA_ARGS__, DM_HASH4, DM_HASH3, DM_HASH2, DM_HASH1)(__VA_ARGS__)
#define DM_HASH1(_name) DM_HASH4(_name, u64, u64, 10240)
#define DM_HASH2(_name, _key) DM_HASH4(_name, _key, u64, 10240)
#define DM_HASH3(_name, _key, _leaf) DM_HASH4(_name, _key, _leaf, 10240)
#define DM_HASH4(_name, _key, _leaf, _size)                                                        \
	DM_TABLE(BPF_MAP_TYPE_HASH, 0, _key, _leaf, _name, _size)

#define BPF_PERCPU_HASH(...)                                                                       \
	DM_PICK4(__VA_ARGS__, DM_PERCPU_HASH4, DM_PERCPU_HASH3, DM_PERCPU_HASH2, DM_PERCPU_HASH1)  \
	(__VA_ARGS__)
#define DM_PERCPU_HASH1(_name) DM_PERCPU_HASH4(_name, u64, u64, 10240)
#define DM_PERCPU_HASH2(_name, _key) DM_PERCPU_HASH4(_name, _key, u64, 10240)
#define DM_PERCPU_HASH3(_name, _key, _leaf) DM_PERCPU_HASH4(_name, _key, _leaf, 10240)
#define DM_PERCPU_HASH4(_name, _key, _leaf, _size)                                                 \
	DM_TABLE(BPF_MAP_TYPE_PERCPU_HASH, 0, _key, _leaf, _name, _size)

/* BPF_ARRAY(name, leaf = u64, size = 10240), keyed by int, as BCC. */
#define BPF_ARRAY(...) DM_PICK4(__VA_ARGS__, , DM_ARRAY3, DM_ARRAY2, DM_ARRAY1)(__VA_ARGS__)
#define DM_ARRAY1(_name) DM_ARRAY3(_name, u64, 10240)
#define DM_ARRAY2(_name, _leaf) DM_ARRAY3(_name, _leaf, 10240)
#define DM_ARRAY3(_name, _leaf, _size) DM_TABLE(BPF_MAP_TYPE_ARRAY, 0, int, _leaf, _name, _size)

#define BPF_PERCPU_ARRAY(...)                                                                      \
	DM_PICK4(__VA_ARGS__, , DM_PERCPU_ARRAY3, DM_PERCPU_ARRAY2, DM_PERCPU_ARRAY1)(__VA_ARGS__)
#define DM_PERCPU_ARRAY1(_name) DM_PERCPU_ARRAY3(_name, u64, 10240)
#define DM_PERCPU_ARRAY2(_name, _leaf) DM_PERCPU_ARRAY3(_name, _leaf, 10240)
#define DM_PERCPU_ARRAY3(_name, _leaf, _size)                                                      \
	DM_TABLE(BPF_MAP_TYPE_PERCPU_ARRAY, 0, int, _leaf, _name, _size)

/* BPF_HISTOGRAM(name, key = int, size = 64): an array of u64 buckets, as BCC. */
#define BPF_HISTOGRAM(...)                                                                         \
	DM_PICK4(__VA_ARGS__, , DM_HISTOGRAM3, DM_HISTOGRAM2, DM_HISTOGRAM1)(__VA_ARGS__)
#define DM_HISTOGRAM1(_name) DM_HISTOGRAM3(_name, int, 64)
#define DM_HISTOGRAM2(_name, _key) DM_HISTOGRAM3(_name, _key, 64)
#define DM_HISTOGRAM3(_name, _key, _size) DM_TABLE(BPF_MAP_TYPE_ARRAY, 0, _key, u64, _name, _size)

/* BPF_LPM_TRIE(name, key = u64, leaf = u64, size = 10240). */
#define BPF_LPM_TRIE(...)                                                                          \
	DM_PICK4(__VA_ARGS__, DM_LPM_TRIE4, DM_LPM_TRIE3, DM_LPM_TRIE2, DM_LPM_TRIE1)(__VA_ARGS__)
#define DM_LPM_TRIE1(_name) DM_LPM_TRIE4(_name, u64, u64, 10240)
#define DM_LPM_TRIE2(_name, _key) DM_LPM_TRIE4(_name, _key, u64, 10240)
#define DM_LPM_TRIE3(_name, _key, _leaf) DM_LPM_TRIE4(_name, _key, _leaf, 10240)
#define DM_LPM_TRIE4(_name, _key, _leaf, _size)                                                    \
	DM_TABLE(BPF_MAP_TYPE_LPM_TRIE, BPF_F_NO_PREALLOC, _key, _leaf, _name, _size)

/* BPF_QUEUE(name, leaf, size[, flags]) and BPF_STACK(...). */
#define BPF_QUEUE(_name, _leaf, _size, ...)                                                        \
	DM_QUEUESTACK(BPF_MAP_TYPE_QUEUE, _name, _leaf, _size, ##__VA_ARGS__, 0)
#define BPF_STACK(_name, _leaf, _size, ...)                                                        \
	DM_QUEUESTACK(BPF_MAP_TYPE_STACK, _name, _leaf, _size, ##__VA_ARGS__, 0)

/* ---- Map methods: MAP.method(args) is rewritten into dm_method(MAP, args) ---- */

/* A typed pointer to the value, or NULL: the value type is the map's __type(value, V). */
#define dm_lookup(_m, _k) ((typeof((_m).value))bpf_map_lookup_elem(&(_m), (_k)))

/* Both return NULL when the entry is absent and cannot be created (a full map). BCC's old
 * lookup_or_init() returned from the calling function instead; the NULL check the verifier
 * demands anyway covers both. */
#define dm_lookup_or_try_init(_m, _k, _init)                                                       \
	({                                                                                         \
		const void *__dm_k = (_k);                                                         \
		typeof((_m).value) __dm_v = dm_lookup(_m, __dm_k);                                 \
		if (!__dm_v) {                                                                     \
			bpf_map_update_elem(&(_m), __dm_k, (_init), BPF_NOEXIST);                  \
			__dm_v = dm_lookup(_m, __dm_k);                                            \
		}                                                                                  \
		__dm_v;                                                                            \
	})
#define dm_lookup_or_init(_m, _k, _init) dm_lookup_or_try_init(_m, _k, _init)

#define dm_update(_m, _k, _v) bpf_map_update_elem(&(_m), (_k), (_v), BPF_ANY)
#define dm_insert(_m, _k, _v) bpf_map_update_elem(&(_m), (_k), (_v), BPF_NOEXIST)
#define dm_delete(_m, _k) bpf_map_delete_elem(&(_m), (_k))

/* increment(key[, n]) takes the key by value, as BCC; an absent entry is created with n. When
 * another CPU creates it first, n is added to that one rather than lost. */
#define DM_ADD_PLAIN(_p, _n) (*(_p) += (_n))
#define DM_ADD_ATOMIC(_p, _n) __sync_fetch_and_add((_p), (_n))
#define DM_INCREMENT(_m, _k, _n, _add)                                                             \
	({                                                                                         \
		typeof(*(_m).key) __dm_key = (_k);                                                 \
		typeof((_m).value) __dm_v = dm_lookup(_m, &__dm_key);                              \
		if (__dm_v) {                                                                      \
			_add(__dm_v, (_n));                                                        \
		} else {                                                                           \
			typeof(*(_m).value) __dm_init = (_n);                                      \
			if (bpf_map_update_elem(&(_m), &__dm_key, &__dm_init, BPF_NOEXIST)) {      \
				__dm_v = dm_lookup(_m, &__dm_key);                                 \
				if (__dm_v)                                                        \
					_add(__dm_v, (_n));                                        \
			}                                                                          \
		}                                                                                  \
	})
#define DM_PICK2(_1, _2, NAME, ...) NAME
#define dm_increment(_m, ...)                                                                      \
	DM_PICK2(__VA_ARGS__, DM_INCREMENT2, DM_INCREMENT1, )(_m, DM_ADD_PLAIN, __VA_ARGS__)
#define dm_atomic_increment(_m, ...)                                                               \
	DM_PICK2(__VA_ARGS__, DM_INCREMENT2, DM_INCREMENT1, )(_m, DM_ADD_ATOMIC, __VA_ARGS__)
#define DM_INCREMENT1(_m, _add, _k) DM_INCREMENT(_m, _k, 1, _add)
#define DM_INCREMENT2(_m, _add, _k, _n) DM_INCREMENT(_m, _k, _n, _add)

#define dm_push(_m, _v, _flags) bpf_map_push_elem(&(_m), (_v), (_flags))
#define dm_pop(_m, _v) bpf_map_pop_elem(&(_m), (_v))
#define dm_peek(_m, _v) bpf_map_peek_elem(&(_m), (_v))

/* ---- Logging ---- */

#define LOG_CRITICAL DYNMON_LOG_CRITICAL
#define LOG_ERR DYNMON_LOG_ERR
#define LOG_WARN DYNMON_LOG_WARN
#define LOG_INFO DYNMON_LOG_INFO
#define LOG_DEBUG DYNMON_LOG_DEBUG
#define LOG_TRACE DYNMON_LOG_TRACE

#ifdef POLYCUBE_XDP
#define DM_CTX_IFINDEX(_ctx) ((_ctx)->ingress_ifindex)
#else
#define DM_CTX_IFINDEX(_ctx) ((_ctx)->ifindex)
#endif

/* pcn_log(ctx, LEVEL, "format", up to 4 integer arguments): compiled in only for levels up to
 * PCN_LOG_LEVEL (the daemon's -D; absent or 0: no logging at all, and no map). Each call then
 * reserves one struct dynmon_log_record in the ring buffer "dynmon_log" and fills it with the
 * level, the interface, the arguments widened to u64 and the format literal itself, cut to
 * DYNMON_LOG_FMT_MAX - 1 bytes: it is a literal, so its size is known at compile time and the
 * copy needs no helper. The daemon reads the records and does the formatting (%I, %P, %M).
 * A full ring buffer loses the record, never the packet. pcn_pkt_log() (a copy of the packet)
 * is not supported and compiles away. */
#define DM_NARGS(...) DM_NARGS_(0, ##__VA_ARGS__, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define DM_NARGS_(_0, _1, _2, _3, _4, _5, _6, _7, _8, N, ...) N
#define DM_CAT(a, b) DM_CAT_(a, b)
#define DM_CAT_(a, b) a##b
#define DM_LOG_ARGS(...) DM_CAT(DM_LOG_ARGS_, DM_NARGS(__VA_ARGS__))(__VA_ARGS__)
#define DM_LOG_ARGS_0()
#define DM_LOG_ARGS_1(a) (__u64)(a)
#define DM_LOG_ARGS_2(a, b) (__u64)(a), (__u64)(b)
#define DM_LOG_ARGS_3(a, b, c) (__u64)(a), (__u64)(b), (__u64)(c)
#define DM_LOG_ARGS_4(a, b, c, d) (__u64)(a), (__u64)(b), (__u64)(c), (__u64)(d)
#define DM_MIN(a, b) ((a) < (b) ? (a) : (b))

#if defined(PCN_LOG_LEVEL) && PCN_LOG_LEVEL > 0
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, DYNMON_LOG_RINGBUF_SIZE);
} dynmon_log SEC(".maps");

#define pcn_log(_ctx, _level, _fmt, ...)                                                           \
	do {                                                                                       \
		_Static_assert(DM_NARGS(__VA_ARGS__) <= DYNMON_LOG_MAX_ARGS,                       \
			       "pcn_log() takes at most 4 arguments after the format");            \
		if ((_level) <= PCN_LOG_LEVEL) {                                                   \
			struct dynmon_log_record *__dm_r =                                         \
			    bpf_ringbuf_reserve(&dynmon_log, sizeof(*__dm_r), 0);                  \
			if (__dm_r) {                                                              \
				const __u64 __dm_a[DYNMON_LOG_MAX_ARGS] = {                        \
				    DM_LOG_ARGS(__VA_ARGS__)};                                     \
				__dm_r->level = (_level);                                          \
				__dm_r->ifindex = DM_CTX_IFINDEX(_ctx);                            \
				__dm_r->n_args = DM_NARGS(__VA_ARGS__);                            \
				__dm_r->_pad = 0;                                                  \
				__builtin_memcpy(__dm_r->args, __dm_a, sizeof(__dm_a));            \
				__builtin_memset(__dm_r->fmt, 0, DYNMON_LOG_FMT_MAX);              \
				__builtin_memcpy(__dm_r->fmt, "" _fmt,                             \
						 DM_MIN(sizeof(_fmt), DYNMON_LOG_FMT_MAX - 1));    \
				bpf_ringbuf_submit(__dm_r, 0);                                     \
			}                                                                          \
		}                                                                                  \
	} while (0)
#else
#define pcn_log(_ctx, _level, _fmt, ...)                                                           \
	do {                                                                                       \
	} while (0)
#endif
#define pcn_pkt_log(_ctx, _level)                                                                  \
	do {                                                                                       \
	} while (0)

/* ---- The entry point ---- */

/* What handle_rx() returns, with Polycube's values. dynmon is transparent: everything but
 * RX_DROP lets the packet go on. */
enum {
	RX_OK,
	RX_REDIRECT,
	RX_DROP,
	RX_RECIRCULATE,
	RX_CONTROLLER,
	RX_ERROR,
};

/* Polycube's metadata. in_port is the interface index (Polycube's port numbers do not exist
 * here); cube_id is CUBE_ID; traffic_class, reason and md are always 0. */
struct pkt_metadata {
	u16 cube_id;
	u16 in_port;
	u32 packet_len;
	u32 traffic_class;
	u16 reason;
	u32 md[3];
} __attribute__((packed));

#ifndef CUBE_ID
#define CUBE_ID 0
#endif

static __always_inline int pcn_pkt_drop(struct CTXTYPE *ctx, struct pkt_metadata *md)
{
	return RX_DROP;
}

char __dm_license[] SEC("license") = "GPL";

/* The program the translation appends after the user's code: one per path. */
#ifdef POLYCUBE_XDP
#define DM_POLYCUBE_ENTRY(_fn)                                                                     \
	SEC("xdp") int _fn(struct xdp_md *ctx)                                                     \
	{                                                                                          \
		struct pkt_metadata md = {                                                         \
		    .cube_id = CUBE_ID,                                                            \
		    .in_port = ctx->ingress_ifindex,                                               \
		    .packet_len = bpf_xdp_get_buff_len(ctx),                                       \
		};                                                                                 \
		return handle_rx(ctx, &md) == RX_DROP ? XDP_DROP : XDP_PASS;                       \
	}
#else
#define DM_POLYCUBE_ENTRY(_fn)                                                                     \
	SEC("tc") int _fn(struct __sk_buff *skb)                                                   \
	{                                                                                          \
		struct pkt_metadata md = {                                                         \
		    .cube_id = CUBE_ID,                                                            \
		    .in_port = skb->ifindex,                                                       \
		    .packet_len = skb->len,                                                        \
		};                                                                                 \
		return handle_rx(skb, &md) == RX_DROP ? TC_ACT_SHOT : TC_ACT_UNSPEC;               \
	}
#endif
