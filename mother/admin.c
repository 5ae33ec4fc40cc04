/*
 * Routes of the mother's admin HTTP API.
 */
#include "mother/admin.h"

#include "mother/tenant.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static void admin_send_json(struct http_exchange *x, cJSON *json)
{
	char *text = json ? cJSON_PrintUnformatted(json) : NULL;

	if (!text) {
		http_respond_error(x, 500, "internal", "internal error");
	} else {
		http_respond(x, 200, "application/json", text, strlen(text));
	}
	free(text);
	cJSON_Delete(json);
}

static void admin_tenants(struct admin *a, struct http_exchange *x)
{
	struct buf connected;

	buf_init(&connected);
	if (a->sync)
		sync_server_connected(a->sync, &connected);
	admin_send_json(x, tenant_list_json(a->m, buf_cstr(&connected)));
	buf_release(&connected);
}

void admin_handle(void *ctx, struct http_exchange *x,
		  const struct http_request *req)
{
	struct admin *a = ctx;
	static const char ok[] = "{\"status\":\"ok\"}";
	int get = !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD");
	int known = !strcmp(req->path, "/healthz") ||
		    !strcmp(req->path, "/api/v1/tenants") ||
		    !strcmp(req->path, "/api/v1/courses");

	if (!known) {
		http_respond_error(x, 404, "not_found", "no such resource");
	} else if (!get) {
		http_add_header(x, "Allow", "GET, HEAD");
		http_respond_error(x, 405, "method_not_allowed",
				   "only GET is allowed here");
	} else if (!strcmp(req->path, "/healthz")) {
		http_respond(x, 200, "application/json", ok, sizeof(ok) - 1);
	} else if (!strcmp(req->path, "/api/v1/tenants")) {
		admin_tenants(a, x);
	} else {
		admin_send_json(x, tenant_course_list_json(a->m));
	}
}
