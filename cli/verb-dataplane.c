/* SPDX-License-Identifier: Apache-2.0 */
/* The verbs that change a monitor's dataplane: inject, attach, detach. */
#include <jansson.h>
#include <systemd/sd-bus.h>

#include "ctl-bus.h"
#include "ctl-io.h"
#include "dynmonctl.h"
#include "errors.h"
#include "exit-status.h"
#include "util.h"

int do_inject(sd_bus *bus, char **args)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_free_ char *config = NULL;
	int r;

	r = read_input_or_log(args[2], &config);
	if (r != EXIT_OK)
		return r;
	r = monitor_call(bus, args[1], "Inject", SLOW_CALL_USEC, &error, "s", config);
	if (r < 0)
		return log_bus_error(&error, r, "Failed to inject %s into monitor %s",
				     streq(args[2], "-") ? "standard input" : args[2], args[1]);
	return EXIT_OK;
}

int do_attach(sd_bus *bus, char **args)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	int r;

	/* Plain Attach without a place: what older dynmonds know. */
	if (arg_place_key)
		r = monitor_call(bus, args[1], "AttachWithOptions", 0, &error, "sa{sv}", args[2], 1,
				 arg_place_key, "s", arg_place);
	else
		r = monitor_call(bus, args[1], "Attach", 0, &error, "s", args[2]);
	if (r < 0)
		return log_bus_error(&error, r, "Failed to attach monitor %s to %s", args[1],
				     args[2]);
	return EXIT_OK;
}

int do_detach(sd_bus *bus, char **args)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	int r;

	r = monitor_call(bus, args[1], "Detach", 0, &error, "");
	if (r < 0)
		return log_bus_error(&error, r, "Failed to detach monitor %s", args[1]);
	return EXIT_OK;
}
