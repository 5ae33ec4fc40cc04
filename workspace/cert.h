/*
 * (being written) The cert paths of the workspace API.
 */
#ifndef LMS_WORKSPACE_CERT_H
#define LMS_WORKSPACE_CERT_H

#include "common/http.h"
#include "workspace/api.h"

/* Answers req when its path is one of this module's; see api_route_fn. */
int cert_route(struct api_ctx *api, struct http_exchange *x,
	       const struct http_request *req);

#endif
