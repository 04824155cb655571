/* SPDX-License-Identifier: Apache-2.0 */
/* Sizes that every door and tool agree on, so that what one accepts the others accept too. */
#pragma once

/* The largest dataplane configuration text a caller sends (JSON with its C code): a few
 * kilobytes in practice. REST refuses a larger body with 413; dynmonctl stops reading there
 * rather than read an endless input (/dev/zero, a pipe) until memory runs out. */
#define DM_CONFIG_TEXT_MAX (1024 * 1024)
