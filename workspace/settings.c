/*
 * (being written) The settings paths of the workspace API.
 */
#include "workspace/settings.h"

int settings_route(struct api_ctx *api, struct http_exchange *x,
	       const struct http_request *req)
{
	(void)api;
	(void)x;
	(void)req;
	return 0;
}
