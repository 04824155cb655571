/* SPDX-License-Identifier: Apache-2.0 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/if_link.h>

#include "xdp.h"

static unsigned mode_flag(bool driver_mode)
{
	return driver_mode ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
}

int xdp_prog_attach(int ifindex, int prog_fd, int old_prog_fd, bool driver_mode)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = old_prog_fd);
	unsigned flags = mode_flag(driver_mode);

	if (old_prog_fd >= 0)
		flags |= XDP_FLAGS_REPLACE;
	else
		flags |= XDP_FLAGS_UPDATE_IF_NOEXIST;
	return bpf_xdp_attach(ifindex, prog_fd, flags, &opts);
}

int xdp_prog_detach(int ifindex, int prog_fd, bool driver_mode)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = prog_fd);
	int r;

	r = bpf_xdp_detach(ifindex, mode_flag(driver_mode) | XDP_FLAGS_REPLACE, &opts);
	/* -EEXIST: another program than ours is there now; it is not ours to remove. */
	return r == -ENOENT || r == -EEXIST ? 0 : r;
}

int xdp_prog_adopt(int ifindex, int prog_fd, int old_prog_fd, bool driver_mode)
{
	int r = -EEXIST;

	/* With XDP_FLAGS_REPLACE the kernel replaces `old_prog_fd` only if it is the one there. */
	if (old_prog_fd >= 0)
		r = xdp_prog_attach(ifindex, prog_fd, old_prog_fd, driver_mode);
	/* It is not: there may be none (a new interface of that name), else another's (-EBUSY). */
	if (r == -EEXIST)
		r = xdp_prog_attach(ifindex, prog_fd, -1, driver_mode);
	return r;
}
