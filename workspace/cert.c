/*
 * (being written) The cert paths of the workspace API.
 */
#include "workspace/cert.h"

int cert_route(struct api_ctx *api, struct http_exchange *x,
	       const struct http_request *req)
{
	(void)api;
	(void)x;
	(void)req;
	return 0;
}
