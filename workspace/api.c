/*
 * HTTP routes of the workspace: a table of paths and methods, each with
 * a handler that answers at once (the reads are small SQLite queries on
 * the loop's own connection) or, for a login, after the password check
 * on the thread pool.
 */
#include "workspace/api.h"

#include "common/fs.h"
#include "common/gitstore.h"
#include "common/ids.h"
#include "common/log.h"
#include "workspace/apply.h"
#include "workspace/assign.h"
#include "workspace/auth.h"
#include "workspace/brand.h"
#include "workspace/catalog.h"
#include "workspace/groups.h"
#include "workspace/import.h"
#include "workspace/learn.h"
#include "workspace/media.h"
#include "workspace/people.h"
#include "workspace/store.h"
#include "workspace/web.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
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

/* Adds "groups": [ids] to every user of the list. */
static int api_users_groups(struct api_ctx *api, cJSON *list)
{
	const cJSON *id;
	cJSON *u, *groups;

	cJSON_ArrayForEach(u, list) {
		id = cJSON_GetObjectItemCaseSensitive(u, "id");
		if (!cJSON_IsNumber(id) ||
		    groups_of_user_json(api->db, (int64_t)id->valuedouble,
					&groups))
			goto fail;
		if (!cJSON_AddItemToObject(u, "groups", groups)) {
			cJSON_Delete(groups);
			goto fail;
		}
	}
	return 0;
fail:
	cJSON_Delete(list);
	return -1;
}

static void api_users(struct api_ctx *api, struct http_exchange *x,
		      const struct http_request *req)
{
	struct people_user me;
	cJSON *list;

	if (auth_require(api, x, req, AUTH_ROLE(PEOPLE_ROLE_ADMIN), &me))
		return;
	if (people_users_json(api->db, &list) || api_users_groups(api, list)) {
		log_error("msg=\"user list request failed\" tenant=%s "
			  "req=%llu", api->tenant,
			  (unsigned long long)req->id);
		http_respond_error(x, 500, "internal",
				   "the users cannot be read");
		return;
	}
	api_send_json(x, 200, list);
}

/* An admin collection of the API (groups, assignments): how to list it,
 * add to it from a JSON body, and read one back. */
struct api_collection {
	const char *name; /* "group", for log lines and messages */
	int (*list)(sqlite3 *db, cJSON **out);
	int (*add)(sqlite3 *db, const cJSON *in, int64_t now, int64_t *id,
		   const char **why);
	int (*get)(sqlite3 *db, int64_t id, cJSON **out);
};

static const struct api_collection api_groups_coll = {
	"group", groups_list_json, groups_add_json, groups_get_json,
};

static const struct api_collection api_assignments_coll = {
	"assignment", assign_list_json, assign_add_json, assign_get_json,
};

static void api_coll_list(struct api_ctx *api, struct http_exchange *x,
			  const struct http_request *req,
			  const struct api_collection *c)
{
	struct people_user me;
	char msg[64];
	cJSON *list;

	if (auth_require(api, x, req, AUTH_ROLE(PEOPLE_ROLE_ADMIN), &me))
		return;
	if (c->list(api->db, &list)) {
		log_error("msg=\"%s list request failed\" tenant=%s req=%llu",
			  c->name, api->tenant, (unsigned long long)req->id);
		snprintf(msg, sizeof(msg), "the %ss cannot be read", c->name);
		http_respond_error(x, 500, "internal", msg);
		return;
	}
	api_send_json(x, 200, list);
}

static void api_coll_create(struct api_ctx *api, struct http_exchange *x,
			    const struct http_request *req,
			    const struct api_collection *c)
{
	struct people_user me;
	const char *why = "the body is not JSON";
	cJSON *body, *made = NULL;
	char msg[64];
	int64_t id = 0;
	int rc = STORE_EINVAL;

	if (auth_require(api, x, req, AUTH_ROLE(PEOPLE_ROLE_ADMIN), &me))
		return;
	body = cJSON_ParseWithLength((const char *)req->body, req->body_len);
	if (body)
		rc = c->add(api->db, body, clock_now(api->clock), &id, &why);
	cJSON_Delete(body);
	if (!rc)
		rc = c->get(api->db, id, &made);
	if (rc == STORE_EINVAL || rc == STORE_ENOTFOUND) {
		http_respond_error(x, 400, "bad_request", why);
		return;
	}
	if (rc) {
		log_error("msg=\"%s create failed\" tenant=%s req=%llu "
			  "error=\"%s\"", c->name, api->tenant,
			  (unsigned long long)req->id, store_strerror(rc));
		snprintf(msg, sizeof(msg), "the %s cannot be stored", c->name);
		http_respond_error(x, 500, "internal", msg);
		return;
	}
	log_info("msg=\"%s created\" tenant=%s req=%llu id=%lld by=%lld",
		 c->name, api->tenant, (unsigned long long)req->id,
		 (long long)id, (long long)me.id);
	api_send_json(x, 201, made);
}

static void api_groups(struct api_ctx *api, struct http_exchange *x,
		       const struct http_request *req)
{
	api_coll_list(api, x, req, &api_groups_coll);
}

static void api_group_create(struct api_ctx *api, struct http_exchange *x,
			     const struct http_request *req)
{
	api_coll_create(api, x, req, &api_groups_coll);
}

static void api_assignments(struct api_ctx *api, struct http_exchange *x,
			    const struct http_request *req)
{
	api_coll_list(api, x, req, &api_assignments_coll);
}

static void api_assignment_create(struct api_ctx *api,
				  struct http_exchange *x,
				  const struct http_request *req)
{
	api_coll_create(api, x, req, &api_assignments_coll);
}

#define API_GROUPS_PREFIX "/api/v1/groups/"

/* The id of /api/v1/groups/{id}/members, or 0 when path is not one. */
static int64_t api_group_members_id(const char *path)
{
	const char *p = path + strlen(API_GROUPS_PREFIX);
	char *end;
	long long id;

	if (strncmp(path, API_GROUPS_PREFIX, strlen(API_GROUPS_PREFIX)) ||
	    *p < '1' || *p > '9')
		return 0;
	id = strtoll(p, &end, 10);
	if (strcmp(end, "/members") || id <= 0 || id == LLONG_MAX)
		return 0;
	return id;
}

static void api_group_members(struct api_ctx *api, struct http_exchange *x,
			      const struct http_request *req, int64_t id)
{
	struct people_user me;
	cJSON *list;
	int rc;

	if (strcmp(req->method, "GET")) {
		http_add_header(x, "Allow", "GET");
		http_respond_error(x, 405, "method_not_allowed",
				   "method not allowed on this path");
		return;
	}
	if (auth_require(api, x, req, AUTH_ROLE(PEOPLE_ROLE_ADMIN), &me))
		return;
	rc = groups_members_json(api->db, id, &list);
	if (rc == STORE_ENOTFOUND) {
		http_respond_error(x, 404, "not_found", "no such group");
		return;
	}
	if (rc) {
		log_error("msg=\"group members request failed\" tenant=%s "
			  "req=%llu group=%lld", api->tenant,
			  (unsigned long long)req->id, (long long)id);
		http_respond_error(x, 500, "internal",
				   "the members cannot be read");
		return;
	}
	api_send_json(x, 200, list);
}

/* Opens content.git of the workspace. */
static int api_repo_open(struct api_ctx *api, git_repository **repo)
{
	char *path = fs_join(api->data_dir, APPLY_REPO_DIR);
	int rc = 0;

	*repo = NULL;
	if (!path)
		rc = STORE_ENOMEM;
	else if (gitstore_open(path, 0, repo))
		rc = STORE_EDB;
	free(path);
	return rc;
}

/* The courses of user_id with their progress. */
static int api_courses_read(struct api_ctx *api, int64_t user_id,
			    cJSON **out)
{
	git_repository *repo = NULL;
	cJSON *c;
	int rc;

	if ((rc = assign_courses_json(api->db, user_id, out)))
		return rc;
	if (cJSON_GetArraySize(*out) && (rc = api_repo_open(api, &repo)))
		goto fail;
	/* a course whose held revision cannot be read (logged) keeps the
	 * progress 0 rather than hiding the others */
	cJSON_ArrayForEach(c, *out) {
		rc = learn_progress(api->db, repo, user_id, c);
		if (rc && rc != STORE_EREVISION)
			goto fail;
	}
	git_repository_free(repo);
	return 0;
fail:
	git_repository_free(repo);
	cJSON_Delete(*out);
	*out = NULL;
	return rc;
}

/* The courses assigned to the signed-in user. */
static void api_my_courses(struct api_ctx *api, struct http_exchange *x,
			   const struct http_request *req)
{
	struct people_user me;
	cJSON *list;

	if (auth_require(api, x, req, AUTH_ANY_ROLE, &me))
		return;
	if (api_courses_read(api, me.id, &list)) {
		log_error("msg=\"course list request failed\" tenant=%s "
			  "req=%llu user=%lld", api->tenant,
			  (unsigned long long)req->id, (long long)me.id);
		http_respond_error(x, 500, "internal",
				   "the courses cannot be read");
		return;
	}
	api_send_json(x, 200, list);
}

#define API_COURSES_PREFIX "/api/v1/courses/"

/* The id of /api/v1/courses/{id} into out (IDS_MAX + 1 bytes), or 0 when
 * path is not one. */
static int api_course_id(const char *path, char *out)
{
	const char *p = path + strlen(API_COURSES_PREFIX);

	if (strncmp(path, API_COURSES_PREFIX, strlen(API_COURSES_PREFIX)) ||
	    strlen(p) > IDS_MAX || !ids_valid(p))
		return 0;
	strcpy(out, p);
	return 1;
}

/* The course with its lessons, read from content.git on this thread. */
static int api_course_read(struct api_ctx *api, int64_t user_id,
			   const char *id, cJSON **out)
{
	git_repository *repo = NULL;
	int rc;

	*out = NULL;
	if ((rc = api_repo_open(api, &repo)))
		return rc;
	rc = assign_course_json(api->db, repo, user_id, id, out);
	if (!rc && (rc = learn_progress(api->db, repo, user_id, *out))) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	git_repository_free(repo);
	return rc;
}

static void api_my_course(struct api_ctx *api, struct http_exchange *x,
			  const struct http_request *req, const char *id)
{
	struct people_user me;
	cJSON *course;
	int rc;

	if (strcmp(req->method, "GET")) {
		http_add_header(x, "Allow", "GET");
		http_respond_error(x, 405, "method_not_allowed",
				   "method not allowed on this path");
		return;
	}
	if (auth_require(api, x, req, AUTH_ANY_ROLE, &me))
		return;
	rc = api_course_read(api, me.id, id, &course);
	if (rc == STORE_ENOTFOUND) {
		http_respond_error(x, 404, "not_found", "no such course");
		return;
	}
	if (rc) {
		log_error("msg=\"course request failed\" tenant=%s req=%llu "
			  "course=%s error=\"%s\"", api->tenant,
			  (unsigned long long)req->id, id, store_strerror(rc));
		http_respond_error(x, 500, "internal",
				   "the course cannot be read");
		return;
	}
	api_send_json(x, 200, course);
}

/* One path may appear more than once, with different methods. */
static const struct api_route api_routes[] = {
	{ "/healthz", "GET", api_healthz },
	{ "/api/v1/catalog", "GET", api_catalog },
	{ "/api/v1/session", "POST", auth_login },
	{ "/api/v1/session", "DELETE", auth_logout },
	{ "/api/v1/users", "GET", api_users },
	{ "/api/v1/groups", "GET", api_groups },
	{ "/api/v1/groups", "POST", api_group_create },
	{ "/api/v1/assignments", "GET", api_assignments },
	{ "/api/v1/assignments", "POST", api_assignment_create },
	{ "/api/v1/courses", "GET", api_my_courses },
};

#define API_NROUTES (sizeof(api_routes) / sizeof(api_routes[0]))

/* The modules that answer whole subtrees of paths, asked in this order
 * when no exact route matched: each answers and returns 1 for its own
 * paths, or returns 0 without touching the exchange. */
static const api_route_fn api_subtrees[] = {
	import_route,  people_route, groups_route, catalog_route,
	media_route,   learn_route,  brand_route,  web_route,
};

#define API_NSUBTREES (sizeof(api_subtrees) / sizeof(api_subtrees[0]))

/* 405 with the methods the path answers in Allow. */
static void api_not_allowed(struct http_exchange *x, const char *path)
{
	char allow[64] = "";

	for (size_t i = 0; i < API_NROUTES; i++) {
		if (strcmp(path, api_routes[i].path))
			continue;
		if (allow[0])
			strncat(allow, ", ", sizeof(allow) - strlen(allow) - 1);
		strncat(allow, api_routes[i].method,
			sizeof(allow) - strlen(allow) - 1);
	}
	http_add_header(x, "Allow", allow);
	http_respond_error(x, 405, "method_not_allowed",
			   "method not allowed on this path");
}

void api_handle(void *ctx, struct http_exchange *x,
		const struct http_request *req)
{
	const struct api_route *r;
	int path_known = 0;
	char course[IDS_MAX + 1];
	int64_t group;

	for (size_t i = 0; i < API_NROUTES; i++) {
		r = &api_routes[i];
		if (strcmp(req->path, r->path))
			continue;
		path_known = 1;
		if (!strcmp(req->method, r->method)) {
			r->handle(ctx, x, req);
			return;
		}
	}
	for (size_t i = 0; !path_known && i < API_NSUBTREES; i++)
		if (api_subtrees[i](ctx, x, req))
			return;
	if (!path_known && (group = api_group_members_id(req->path))) {
		api_group_members(ctx, x, req, group);
		return;
	}
	if (!path_known && api_course_id(req->path, course)) {
		api_my_course(ctx, x, req, course);
		return;
	}
	if (path_known)
		api_not_allowed(x, req->path);
	else
		http_respond_error(x, 404, "not_found", "no such resource");
}
