/* SPDX-License-Identifier: Apache-2.0 */
/* What dynmonctl's command line gave (dynmonctl.c parses it), and the verbs it runs. Each verb
 * takes the bus (NULL for the verbs that need none) and its arguments, args[0] being the verb's
 * name, and returns the exit status. */
#pragma once

#include <stdbool.h>

#include <systemd/sd-bus.h>

#include "metrics-select.h"

extern bool arg_json;
extern bool arg_quiet;
extern const char *arg_type;
extern const char *arg_config;
extern const char *arg_place_key;
extern const char *arg_place;
extern enum metrics_direction arg_direction;
extern const char *arg_output;
extern double arg_interval;
extern unsigned arg_count;	    /* 0: until a signal */
extern const char *arg_sign_key;    /* compile --sign */
extern const char *arg_clang;	    /* compile --clang */
extern const char *arg_include_dir; /* compile --bpf-include-dir */
extern const char *arg_log_level;   /* compile --log-level */

/* verb-monitors.c */
int do_list(sd_bus *bus, char **args);
int do_add(sd_bus *bus, char **args);
int do_del(sd_bus *bus, char **args);
int do_show(sd_bus *bus, char **args);

/* verb-dataplane.c */
int do_inject(sd_bus *bus, char **args);
int do_attach(sd_bus *bus, char **args);
int do_detach(sd_bus *bus, char **args);

/* verb-compile.c */
int do_compile(sd_bus *bus, char **args);

/* verb-metrics.c */
int do_metrics(sd_bus *bus, char **args);
int do_open_metrics(sd_bus *bus, char **args);
int do_watch(sd_bus *bus, char **args);

/* dynmonctl.c */
int do_help(sd_bus *bus, char **args);
