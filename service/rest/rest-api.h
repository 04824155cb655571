/* SPDX-License-Identifier: Apache-2.0 */
/* Polycube's REST resources and Prometheus' /metrics: the handlers behind rest.c's server. */
#pragma once

#include "rest.h"

/* Runs the handler of the request's route (a rest_dispatch_fn). */
void rest_api_dispatch(struct rest_request *req);
