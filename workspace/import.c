/*
 * (being written) The import paths of the workspace API.
 */
#include "workspace/import.h"

int import_route(struct api_ctx *api, struct http_exchange *x,
	       const struct http_request *req)
{
	(void)api;
	(void)x;
	(void)req;
	return 0;
}
