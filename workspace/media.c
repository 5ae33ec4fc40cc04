/*
 * (being written) The media paths of the workspace API.
 */
#include "workspace/media.h"

int media_route(struct api_ctx *api, struct http_exchange *x,
	       const struct http_request *req)
{
	(void)api;
	(void)x;
	(void)req;
	return 0;
}
