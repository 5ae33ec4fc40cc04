/*
 * The audit log over HTTP (admins only):
 *
 *   GET /api/v1/audit[?from=SEQ][&limit=N]
 *       {"entries": [...]}: the newest entries first, or with from the
 *       entries from that seq on in seq order; at most limit (1 to 100,
 *       default 100). Each entry as `audit export` writes it.
 *   GET /api/v1/audit/verify
 *       {"intact", "entries", "head": {"seq", "hash"}, "problem": null or
 *       {"seq", "kind", "message"}}
 *   POST /api/v1/audit/push
 *       202 {"head": {"seq", "hash"}, "mother_connected"}: the head goes
 *       to the mother now (workspace/analytics.h), or after the next
 *       connect; 503 when serve does not report to a mother.
 */
#include "workspace/audit.h"

#include "common/fs.h"
#include "common/log.h"
#include "common/query.h"
#include "workspace/analytics.h"
#include "workspace/api.h"
#include "workspace/auth.h"
#include "workspace/people.h"
#include "workspace/store.h"
#include "workspace/sync.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#define AUDIT_PAGE 100

static int audit_api_row(const struct audit_entry *e, void *arg)
{
	cJSON *o = audit_entry_json(e);

	if (!o || !cJSON_AddItemToArray(arg, o)) {
		cJSON_Delete(o);
		return STORE_ENOMEM;
	}
	return 0;
}

static void audit_api_internal(struct api_ctx *api, struct http_exchange *x,
			       const struct http_request *req, int rc)
{
	log_error("msg=\"audit request failed\" tenant=%s req=%llu "
		  "error=\"%s\"", api->tenant, (unsigned long long)req->id,
		  store_strerror(rc));
	http_respond_error(x, 500, "internal", "the audit log cannot be read");
}

/* from and limit of the query: 0 or -1 after answering 400. */
static int audit_api_page(struct http_exchange *x, const char *query,
			  int64_t *from, int64_t *limit)
{
	*from = 0;
	*limit = AUDIT_PAGE;
	if (query_id(query, "from", from) < 0 ||
	    query_id(query, "limit", limit) < 0 || *limit > AUDIT_PAGE) {
		http_respond_error(x, 400, "bad_request",
				   "from must be a seq and limit 1 to 100");
		return -1;
	}
	return 0;
}

static void audit_api_list(struct api_ctx *api, struct http_exchange *x,
			   const struct http_request *req)
{
	int64_t from, limit;
	cJSON *o = cJSON_CreateObject();
	cJSON *list = o ? cJSON_AddArrayToObject(o, "entries") : NULL;
	int rc;

	if (audit_api_page(x, req->query, &from, &limit)) {
		cJSON_Delete(o);
		return;
	}
	rc = list ? audit_each(api->db, from, limit, audit_api_row, list) :
		    STORE_ENOMEM;
	if (rc) {
		cJSON_Delete(o);
		audit_api_internal(api, x, req, rc);
		return;
	}
	http_respond_json(x, 200, o);
}

static cJSON *audit_api_report(const struct audit_report *r)
{
	cJSON *o = cJSON_CreateObject(), *head, *p;

	if (!o || !cJSON_AddBoolToObject(o, "intact", !r->problem) ||
	    !cJSON_AddNumberToObject(o, "entries", (double)r->entries) ||
	    !(head = cJSON_AddObjectToObject(o, "head")) ||
	    !cJSON_AddNumberToObject(head, "seq", (double)r->head_seq) ||
	    !cJSON_AddStringToObject(head, "hash", r->head_hash))
		goto fail;
	if (!r->problem)
		return cJSON_AddNullToObject(o, "problem") ? o : NULL;
	if (!(p = cJSON_AddObjectToObject(o, "problem")) ||
	    !cJSON_AddNumberToObject(p, "seq", (double)r->problem_seq) ||
	    !cJSON_AddStringToObject(p, "kind",
				     audit_problem_name(r->problem)) ||
	    !cJSON_AddStringToObject(p, "message", r->message))
		goto fail;
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

/* Verifying walks the whole log: on the thread pool, with a connection
 * of its own, so a long log does not stall the loop. */
struct audit_api_work {
	uv_work_t work;
	struct api_ctx *api;
	struct http_exchange *x;
	uint64_t req_id;
	char *db_path;
	int rc;
	struct audit_report report;
};

static void audit_api_verify_run(uv_work_t *work)
{
	struct audit_api_work *w = work->data;
	sqlite3 *db = NULL;

	w->rc = store_open(w->db_path, &db);
	if (!w->rc)
		w->rc = audit_verify(db, NULL, &w->report);
	sqlite3_close_v2(db);
}

static void audit_api_verify_done(uv_work_t *work, int status)
{
	struct audit_api_work *w = work->data;
	const struct audit_report *r = &w->report;

	if (status) {
		http_respond_error(w->x, 503, "unavailable",
				   "the server is stopping");
	} else if (w->rc) {
		log_error("msg=\"audit verify failed\" tenant=%s req=%llu "
			  "error=\"%s\"", w->api->tenant,
			  (unsigned long long)w->req_id, store_strerror(w->rc));
		http_respond_error(w->x, 500, "internal",
				   "the audit log cannot be read");
	} else {
		if (r->problem)
			log_warn("msg=\"audit log broken\" tenant=%s "
				 "problem=\"%s\"", w->api->tenant,
				 r->message);
		http_respond_json(w->x, 200, audit_api_report(r));
	}
	free(w->db_path);
	free(w);
}

static void audit_api_verify(struct api_ctx *api, struct http_exchange *x,
			     const struct http_request *req)
{
	struct audit_api_work *w = calloc(1, sizeof(*w));

	if (w)
		w->db_path = fs_join(api->data_dir, STORE_FILE);
	if (!w || !w->db_path) {
		free(w);
		http_respond_error(x, 500, "internal", "out of memory");
		return;
	}
	w->api = api;
	w->x = x;
	w->req_id = req->id;
	w->work.data = w;
	if (uv_queue_work(api->loop, &w->work, audit_api_verify_run,
			  audit_api_verify_done)) {
		free(w->db_path);
		free(w);
		http_respond_error(x, 503, "unavailable",
				   "the verification cannot be started");
	}
}

/* POST /api/v1/audit/push: the head to the mother now. */
static void audit_api_push(struct api_ctx *api, struct http_exchange *x)
{
	char hash[AUDIT_HASH_HEX + 1];
	int64_t seq;
	cJSON *o, *head;

	if (!api->analytics) {
		http_respond_error(x, 503, "unavailable",
				   "this workspace does not report to a "
				   "mother now");
		return;
	}
	if (audit_head(api->db, &seq, hash)) {
		http_respond_error(x, 500, "internal",
				   "the audit log cannot be read");
		return;
	}
	analytics_runner_push(api->analytics);
	o = cJSON_CreateObject();
	head = cJSON_AddObjectToObject(o, "head");
	if (head) {
		cJSON_AddNumberToObject(head, "seq", (double)seq);
		cJSON_AddStringToObject(head, "hash", hash);
	}
	cJSON_AddBoolToObject(o, "mother_connected",
			      api->sync && sync_connected(api->sync));
	if (!head) {
		cJSON_Delete(o);
		o = NULL;
	}
	http_respond_json(x, 202, o);
}

int audit_route(struct api_ctx *api, struct http_exchange *x,
		const struct http_request *req)
{
	struct people_user me;
	int verify = !strcmp(req->path, "/api/v1/audit/verify");
	int push = !strcmp(req->path, "/api/v1/audit/push");

	if (!verify && !push && strcmp(req->path, "/api/v1/audit"))
		return 0;
	if (push && strcmp(req->method, "POST")) {
		http_add_header(x, "Allow", "POST");
		http_respond_error(x, 405, "method_not_allowed",
				   "method not allowed on this path");
		return 1;
	}
	if (!push && strcmp(req->method, "GET")) {
		http_add_header(x, "Allow", "GET");
		http_respond_error(x, 405, "method_not_allowed",
				   "method not allowed on this path");
		return 1;
	}
	if (auth_require(api, x, req, AUTH_ROLE(PEOPLE_ROLE_ADMIN), &me))
		return 1;
	if (push)
		audit_api_push(api, x);
	else if (verify)
		audit_api_verify(api, x, req);
	else
		audit_api_list(api, x, req);
	return 1;
}
