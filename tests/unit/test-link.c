/* SPDX-License-Identifier: Apache-2.0 */
/* Link notifications: what a RTM_NEWLINK or RTM_DELLINK message says, and what is not one. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include "link.h"
#include "util.h"

/* A message of `type` about `ifindex`; with `name` (of `name_len` bytes, its NUL included or
 * not) as IFLA_IFNAME unless NULL. */
static struct nl_msg *link_msg(int type, int ifindex, const char *name, size_t name_len)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = ifindex};
	struct nl_msg *msg = nlmsg_alloc_simple(type, 0);

	assert_non_null(msg);
	assert_int_equal(nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO), 0);
	if (name)
		assert_int_equal(nla_put(msg, IFLA_MTU, sizeof(uint32_t), &(uint32_t){1500}), 0);
	if (name)
		assert_int_equal(nla_put(msg, IFLA_IFNAME, name_len, name), 0);
	return msg;
}

static void test_events(void **state)
{
	static const struct {
		int type;
		int ifindex;
		const char *name;
		bool present;
	} cases[] = {
	    {RTM_NEWLINK, 7, "veth0", true},
	    {RTM_DELLINK, 7, "veth0", false},
	    {RTM_NEWLINK, 123456, "a-fifteen-char.", true},
	    {RTM_NEWLINK, 3, NULL, true},
	    {RTM_DELLINK, 3, NULL, false},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct nl_msg *msg = link_msg(cases[i].type, cases[i].ifindex, cases[i].name,
					      cases[i].name ? strlen(cases[i].name) + 1 : 0);
		struct link_event ev = {};

		assert_int_equal(link_event_parse(nlmsg_hdr(msg), &ev), 0);
		assert_int_equal(ev.ifindex, cases[i].ifindex);
		assert_int_equal(ev.present, cases[i].present);
		if (cases[i].name)
			assert_string_equal(ev.ifname, cases[i].name);
		else
			assert_null(ev.ifname);
		nlmsg_free(msg);
	}
}

static void test_not_events(void **state)
{
	static const struct {
		int type;
		int ifindex;
		const char *name;
		size_t name_len;
		const char *why;
	} cases[] = {
	    {RTM_NEWADDR, 7, "veth0", 6, "another message type"},
	    {RTM_GETLINK, 7, "veth0", 6, "a request"},
	    {RTM_NEWLINK, 0, "veth0", 6, "no interface index"},
	    {RTM_NEWLINK, -2, "veth0", 6, "a negative interface index"},
	    {RTM_NEWLINK, 7, "veth0", 5, "a name without its NUL"},
	    {RTM_NEWLINK, 7, "a-name-too-long-for-linux", 26, "a name longer than IFNAMSIZ"},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct nl_msg *msg =
		    link_msg(cases[i].type, cases[i].ifindex, cases[i].name, cases[i].name_len);
		struct link_event ev = {.ifindex = 42};

		if (link_event_parse(nlmsg_hdr(msg), &ev) != -EINVAL)
			fail_msg("%s was taken for a link event", cases[i].why);
		assert_int_equal(ev.ifindex, 42); /* untouched */
		nlmsg_free(msg);
	}
}

/* A message too short to hold its ifinfomsg is refused, not read past its end. */
static void test_truncated(void **state)
{
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_NEWLINK, 0);
	struct link_event ev;
	uint32_t half = 0;

	assert_non_null(msg);
	assert_int_equal(nlmsg_append(msg, &half, sizeof(half), NLMSG_ALIGNTO), 0);
	assert_int_equal(link_event_parse(nlmsg_hdr(msg), &ev), -EINVAL);
	nlmsg_free(msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_events),
	    cmocka_unit_test(test_not_events),
	    cmocka_unit_test(test_truncated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
