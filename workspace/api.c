/*
 * HTTP routes of the workspace: a table of paths, each with the one
 * method it answers and a handler that answers at once (the reads are
 * small SQLite queries on the loop's own connection).
 */
#include "workspace/api.h"

#include "common/log.h"
#include "workspace/catalog.h"
#include "workspace/store.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

struct api_route {
	const char *path;
	const char *method;
	void (*handle)(struct api_ctx *api, struct http_exchange *x,
		       const struct http_request *req);
};

/* Sends a cJSON value (consumed) as the body. */
static void api_send_json(struct http_exchange *x, int status, cJSON *v)
{
	char *text = v ? cJSON_PrintUnformatted(v) : NULL;

	cJSON_Delete(v);
	if (!text) {
		http_respond_error(x, 500, "internal", "out of memory");
		return;
	}
	http_respond(x, status, "application/json", text, strlen(text));
	cJSON_free(text);
}

static void api_healthz(struct api_ctx *api, struct http_exchange *x,
			const struct http_request *req)
{
	int connected = api->sync && sync_connected(api->sync);
	uint64_t applied = 0;
	cJSON *o;

	if (store_applied_seq(api->db, &applied)) {
		log_error("msg=\"health check cannot read the database\" "
			  "tenant=%s req=%llu", api->tenant,
			  (unsigned long long)req->id);
		http_respond_error(x, 503, "unavailable",
				   "the database cannot be read");
		return;
	}
	o = cJSON_CreateObject();
	if (o && (!cJSON_AddStringToObject(o, "status", "ok") ||
		  !cJSON_AddStringToObject(o, "tenant", api->tenant) ||
		  !cJSON_AddNumberToObject(o, "applied_seq", (double)applied) ||
		  !cJSON_AddBoolToObject(o, "mother_connected", connected))) {
		cJSON_Delete(o);
		o = NULL;
	}
	api_send_json(x, 200, o);
}

static void api_catalog(struct api_ctx *api, struct http_exchange *x,
			const struct http_request *req)
{
	char *json;

	if (catalog_json(api->db, &json)) {
		log_error("msg=\"catalog request failed\" tenant=%s req=%llu",
			  api->tenant, (unsigned long long)req->id);
		http_respond_error(x, 500, "internal",
				   "the catalog cannot be read");
		return;
	}
	http_respond(x, 200, "application/json", json, strlen(json));
	cJSON_free(json);
}

static const struct api_route api_routes[] = {
	{ "/healthz", "GET", api_healthz },
	{ "/api/v1/catalog", "GET", api_catalog },
};

void api_handle(void *ctx, struct http_exchange *x,
		const struct http_request *req)
{
	size_t n = sizeof(api_routes) / sizeof(api_routes[0]);
	const struct api_route *r;

	for (size_t i = 0; i < n; i++) {
		r = &api_routes[i];
		if (strcmp(req->path, r->path))
			continue;
		if (strcmp(req->method, r->method)) {
			http_add_header(x, "Allow", r->method);
			http_respond_error(x, 405, "method_not_allowed",
					   "method not allowed on this path");
			return;
		}
		r->handle(ctx, x, req);
		return;
	}
	http_respond_error(x, 404, "not_found", "no such resource");
}
