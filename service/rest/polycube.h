/* SPDX-License-Identifier: Apache-2.0 */
/* What makes dynmond answer as polycubed does, beyond dynmon's own resources: the data model's
 * generic reads, writes and help (model.h), HATEOAS _links, the cube-name paths, and
 * polycubed's own endpoints that polycubectl uses (/cubes, /services, /version, /netdevs,
 * /topology). Handlers of rest-api.c's table; docs/POLYCUBE.md says what each answers. */
#pragma once

#include <jansson.h>

#include "rest.h"

struct monitor;

/* A cube as polycubed shows it: name, uuid, service-name, type, loglevel, parent, with dynmon's
 * state and the dataplane configuration. */
json_t *polycube_cube_json(const struct monitor *mon);

/* Whether .../open-metrics answers its text as it is (the client's Accept names OpenMetrics or
 * text/plain) rather than, as polycubed does for a string leaf, as a JSON string. */
bool polycube_wants_text(struct rest_request *req);

/* Shapes a read's JSON text for the request's route (takes `text`): a leaf of a metric picked
 * out of the metric, _links added to an object. NULL on a failed allocation. */
char *polycube_shape_reply(struct rest_request *req, char *text);

void polycube_model_read(struct rest_request *req);  /* ROUTE_MODEL_READ outside the metrics */
void polycube_model_write(struct rest_request *req); /* ROUTE_MODEL_WRITE */
void polycube_model_help(struct rest_request *req);  /* ROUTE_MODEL_HELP */
void polycube_root(struct rest_request *req);
void polycube_root_help(struct rest_request *req);
void polycube_cubes(struct rest_request *req);
void polycube_cube(struct rest_request *req);
void polycube_services(struct rest_request *req);
void polycube_service(struct rest_request *req);
void polycube_version(struct rest_request *req);
void polycube_netdevs(struct rest_request *req);
void polycube_netdev(struct rest_request *req);
void polycube_topology(struct rest_request *req);
void polycube_endpoint_help(struct rest_request *req);
void polycube_cube_path(struct rest_request *req);
