/*
 * HTTP routes of the workspace: a table of paths and methods, each with
 * a handler that answers at once (the reads are small SQLite queries on
 * the loop's own connection) or, for a login, after the password check
 * on the thread pool.
 */
#include "workspace/api.h"

#include "common/ids.h"
#include "common/log.h"
#include "workspace/assign.h"
#include "workspace/audit.h"
#include "workspace/auth.h"
#include "workspace/brand.h"
#include "workspace/cert.h"
#include "workspace/certtpl.h"
#include "workspace/catalog.h"
#include "workspace/compliance.h"
#include "workspace/groups.h"
#include "workspace/import.h"
#include "workspace/learn.h"
#include "workspace/mail.h"
#include "workspace/media.h"
#include "workspace/people.h"
#include "workspace/report.h"
#include "workspace/settings.h"
#include "workspace/stats.h"
#include "workspace/scope.h"
#include "workspace/store.h"
#include "workspace/template.h"
#include "workspace/web.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

struct api_route {
	const char *path;
	const char *method;
	void (*handle)(struct api_ctx *api, struct http_exchange *x,
		       const struct http_request *req);
};

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
	http_respond_json(x, 200, o);
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

/* Whether me may see one item of a list: 1, 0, or a negative code. */
typedef int (*api_visible_fn)(sqlite3 *db, const struct people_user *me,
			      const cJSON *item);

/* The id in a number field of an item, 0 when there is none. */
static int64_t api_item_id(const cJSON *item, const char *field)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(item, field);

	return cJSON_IsNumber(v) && v->valuedouble >= 1 &&
			       v->valuedouble <= 9007199254740991.0 ?
		       (int64_t)v->valuedouble : 0;
}

static int api_user_visible(sqlite3 *db, const struct people_user *me,
			    const cJSON *item)
{
	return scope_user(db, me, api_item_id(item, "id"));
}

static int api_group_visible(sqlite3 *db, const struct people_user *me,
			     const cJSON *item)
{
	return scope_group(db, me, api_item_id(item, "id"));
}

static int api_assignment_visible(sqlite3 *db, const struct people_user *me,
				  const cJSON *item)
{
	int64_t group = api_item_id(item, "group");

	if (group)
		return scope_group(db, me, group);
	return scope_user(db, me, api_item_id(item, "user"));
}

/* Leaves in list what me may see (workspace/scope.h); everything for an
 * admin. -1 when the database fails. */
static int api_scope_filter(struct api_ctx *api, const struct people_user *me,
			    cJSON *list, api_visible_fn visible)
{
	cJSON *item = list ? list->child : NULL, *next;
	int rc;

	if (me->role == PEOPLE_ROLE_ADMIN)
		return 0;
	for (; item; item = next) {
		next = item->next;
		rc = visible(api->db, me, item);
		if (rc < 0)
			return -1;
		if (!rc)
			cJSON_Delete(cJSON_DetachItemViaPointer(list, item));
	}
	return 0;
}

#define API_READERS \
	(AUTH_ROLE(PEOPLE_ROLE_ADMIN) | AUTH_ROLE(PEOPLE_ROLE_MANAGER))

static void api_users(struct api_ctx *api, struct http_exchange *x,
		      const struct http_request *req)
{
	struct people_user me;
	cJSON *list = NULL;
	int rc;

	if (auth_require(api, x, req, API_READERS, &me))
		return;
	rc = people_users_json(api->db, &list);
	if (!rc && api_scope_filter(api, &me, list, api_user_visible)) {
		cJSON_Delete(list);
		rc = -1;
	}
	if (!rc)
		rc = api_users_groups(api, list); /* frees list on failure */
	if (rc) {
		log_error("msg=\"user list request failed\" tenant=%s "
			  "req=%llu", api->tenant,
			  (unsigned long long)req->id);
		http_respond_error(x, 500, "internal",
				   "the users cannot be read");
		return;
	}
	http_respond_json(x, 200, list);
}

/* 1 when every user and group a new assignment names ("group": id,
 * "user": id or email) is in me's scope, 0 when one is not (or is
 * unknown), or a negative code. A body naming neither passes, for the
 * validation to refuse. */
static int api_assignment_may_add(sqlite3 *db, const struct people_user *me,
				  const cJSON *in)
{
	const cJSON *user = cJSON_GetObjectItemCaseSensitive(in, "user");
	struct people_user u;
	int64_t group = api_item_id(in, "group"), uid = api_item_id(in, "user");
	int rc = 1;

	if (cJSON_GetObjectItemCaseSensitive(in, "group"))
		rc = group ? scope_group(db, me, group) : 0;
	if (rc == 1 && cJSON_IsString(user)) {
		rc = people_user_by_email(db, user->valuestring, &u, NULL, 0);
		if (rc == 0)
			uid = u.id;
		rc = rc == STORE_ENOTFOUND ? 0 : rc ? rc : 1;
	}
	if (rc == 1 && user)
		rc = uid ? scope_user(db, me, uid) : 0;
	return rc;
}

/* An admin collection of the API (groups, assignments): how to list it,
 * add to it from a JSON body, and read one back; which items a manager
 * sees, and which a manager may add (NULL: none). */
struct api_collection {
	const char *name; /* "group", for log lines and messages */
	int (*list)(sqlite3 *db, cJSON **out);
	int (*add)(sqlite3 *db, const cJSON *in, int64_t now, int64_t *id,
		   const char **why);
	int (*get)(sqlite3 *db, int64_t id, cJSON **out);
	api_visible_fn visible;
	api_visible_fn may_add;
};

static const struct api_collection api_groups_coll = {
	"group", groups_list_json, groups_add_json, groups_get_json,
	api_group_visible, NULL,
};

static const struct api_collection api_assignments_coll = {
	"assignment", assign_list_json, assign_add_json, assign_get_json,
	api_assignment_visible, api_assignment_may_add,
};

static void api_coll_list(struct api_ctx *api, struct http_exchange *x,
			  const struct http_request *req,
			  const struct api_collection *c)
{
	struct people_user me;
	char msg[64];
	cJSON *list = NULL;

	if (auth_require(api, x, req, API_READERS, &me))
		return;
	if (c->list(api->db, &list) ||
	    api_scope_filter(api, &me, list, c->visible)) {
		cJSON_Delete(list);
		log_error("msg=\"%s list request failed\" tenant=%s req=%llu",
			  c->name, api->tenant, (unsigned long long)req->id);
		snprintf(msg, sizeof(msg), "the %ss cannot be read", c->name);
		http_respond_error(x, 500, "internal", msg);
		return;
	}
	http_respond_json(x, 200, list);
}

/* For a manager: 0 when the new item is within scope, else -1 after
 * answering 403 (or 500). */
static int api_coll_may_add(struct api_ctx *api, struct http_exchange *x,
			    const struct http_request *req,
			    const struct api_collection *c,
			    const struct people_user *me, const cJSON *body)
{
	int rc;

	if (me->role == PEOPLE_ROLE_ADMIN)
		return 0;
	rc = c->may_add(api->db, me, body);
	if (rc == 1)
		return 0;
	if (rc < 0) {
		log_error("msg=\"%s scope check failed\" tenant=%s req=%llu",
			  c->name, api->tenant, (unsigned long long)req->id);
		http_respond_error(x, 500, "internal",
				   "cannot check the scope");
	} else {
		http_respond_error(x, 403, "forbidden", "only users and groups "
				   "within your groups");
	}
	return -1;
}

/* Adds an item from body and reads it back into *made, with its audit
 * entry ("group.create": the item as read back), in one transaction. */
static int api_coll_add(struct api_ctx *api, const struct api_collection *c,
			const struct people_user *me, const cJSON *body,
			int64_t *id, const char **why, cJSON **made)
{
	struct audit_actor who = { me->id, me->email };
	int64_t now = clock_now(api->clock);
	char action[32], object[48];
	int own = audit_begin(api->db), rc;

	if (own < 0)
		return STORE_EDB;
	snprintf(action, sizeof(action), "%s.create", c->name);
	rc = c->add(api->db, body, now, id, why);
	if (!rc)
		rc = c->get(api->db, *id, made);
	if (!rc)
		rc = audit_append_json(api->db, now, &who, action,
				       audit_object(object, sizeof(object),
						    c->name, *id),
				       cJSON_Duplicate(*made, 1));
	if ((rc = audit_end(api->db, own, rc))) {
		cJSON_Delete(*made);
		*made = NULL;
	}
	return rc;
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

	if (auth_require(api, x, req,
			 c->may_add ? API_READERS :
				      AUTH_ROLE(PEOPLE_ROLE_ADMIN),
			 &me))
		return;
	body = cJSON_ParseWithLength((const char *)req->body, req->body_len);
	if (body && (rc = api_coll_may_add(api, x, req, c, &me, body))) {
		cJSON_Delete(body);
		return;
	}
	if (body)
		rc = api_coll_add(api, c, &me, body, &id, &why, &made);
	cJSON_Delete(body);
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
	http_respond_json(x, 201, made);
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


/* The courses assigned to the signed-in user. */
static void api_my_courses(struct api_ctx *api, struct http_exchange *x,
			   const struct http_request *req)
{
	struct people_user me;
	const char *text;
	size_t len;

	if (auth_require(api, x, req, AUTH_ANY_ROLE, &me))
		return;
	if (learn_courses_text(api->courses, api->db, me.id, &text, &len)) {
		log_error("msg=\"course list request failed\" tenant=%s "
			  "req=%llu user=%lld", api->tenant,
			  (unsigned long long)req->id, (long long)me.id);
		http_respond_error(x, 500, "internal",
				   "the courses cannot be read");
		return;
	}
	http_respond(x, 200, "application/json", text, len);
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

/* The course with its lessons, progress and changes. */
static int api_course_read(struct api_ctx *api, int64_t user_id,
			   const char *id, cJSON **out)
{
	return learn_course_json(api->courses, api->db, user_id, id, out);
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
	http_respond_json(x, 200, course);
}

/* One path may appear more than once, with different methods. */
static const struct api_route api_routes[] = {
	{ "/healthz", "GET", api_healthz },
	{ "/api/v1/catalog", "GET", api_catalog },
	{ "/api/v1/session", "GET", auth_session },
	{ "/api/v1/session", "POST", auth_login },
	{ "/api/v1/session", "DELETE", auth_logout },
	{ "/api/v1/session/user", "PATCH", auth_profile },
	{ "/api/v1/users", "GET", api_users },
	{ "/api/v1/users", "POST", people_api_create },
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
	import_route, people_route,   groups_route, assign_route,
	catalog_route, media_route,   learn_route,  brand_route,
	settings_route, cert_route,   compliance_route, template_route,
	certtpl_route, mail_route,   audit_route, stats_route,
	report_route, web_route,
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
	if (!path_known && api_course_id(req->path, course)) {
		api_my_course(ctx, x, req, course);
		return;
	}
	if (path_known)
		api_not_allowed(x, req->path);
	else
		http_respond_error(x, 404, "not_found", "no such resource");
}
