/*
 * The HTTP paths of people, for admins and managers:
 *
 *   POST  /api/v1/users       (admin) {"email", "name", "role"?,
 *                             "attributes"?: {k: v}, "password"?} -> 201
 *                             the user; 409 when the email is taken
 *   GET   /api/v1/users/{id}  (admin; a manager within scope.h) -> the
 *                             user with "attributes" and "groups"
 *   PATCH /api/v1/users/{id}  (admin) {"name"?, "role"?, "attributes"?:
 *                             {k: v or null}} -> 200 the user
 *   POST  /api/v1/users/{id}/invitation      (admin) -> 201 {"url",
 *   POST  /api/v1/users/{id}/password-reset   "expires"}: a password link
 *
 * people_route also hands POST /api/v1/password and POST
 * /api/v1/password-reset to workspace/auth.c; /api/v1/users/import is
 * workspace/import.c's. A new user's password is hashed on the thread
 * pool, as a login's is verified there. Every user answered carries the
 * ids of their groups, which the triggers of workspace.db keep in step
 * with the attributes within the same transaction.
 */
#include "workspace/people.h"

#include "common/log.h"
#include "workspace/audit.h"
#include "workspace/auth.h"
#include "workspace/groups.h"
#include "workspace/mail.h"
#include "workspace/scope.h"
#include "workspace/store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PEOPLE_API_USERS "/api/v1/users/"
#define PEOPLE_API_MAX_ATTRS 64
#define PEOPLE_API_ID_MAX 9007199254740991LL /* exact in a JSON number */

enum people_api_path {
	PEOPLE_API_NONE,
	PEOPLE_API_USER,       /* /api/v1/users/{id} */
	PEOPLE_API_INVITATION, /* .../invitation */
	PEOPLE_API_RESET,      /* .../password-reset */
	PEOPLE_API_PASSWORD,   /* /api/v1/password */
	PEOPLE_API_RESET_ASK,  /* /api/v1/password-reset */
};

/* A user being created; with a password, after its hash is made. */
struct people_api_new {
	struct auth_password_work pw; /* first: done gets its address */
	cJSON *body;		      /* owns the strings of u and attrs */
	struct people_new_user u;
	struct people_attr attrs[PEOPLE_API_MAX_ATTRS];
	struct people_user by; /* the admin who adds */
};

/* ---- answers ---- */

static void people_api_internal(struct api_ctx *api, struct http_exchange *x,
				uint64_t req_id, const char *what, int rc)
{
	log_error("msg=\"user request failed\" tenant=%s req=%llu step=%s "
		  "error=\"%s\"", api->tenant, (unsigned long long)req_id,
		  what, store_strerror(rc));
	http_respond_error(x, 500, "internal", "the user cannot be read or "
			   "stored");
}

/* The user as listed, with "groups"; the caller deletes *out. */
static int people_api_user_json(struct api_ctx *api, int64_t id,
				cJSON **out)
{
	cJSON *groups = NULL;
	int rc = people_user_get_json(api->db, id, out);

	if (!rc)
		rc = groups_of_user_json(api->db, id, &groups);
	if (!rc && !cJSON_AddItemToObject(*out, "groups", groups)) {
		cJSON_Delete(groups);
		rc = STORE_ENOMEM;
	}
	if (rc) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	return rc;
}

static void people_api_send_user(struct api_ctx *api, struct http_exchange *x,
				 uint64_t req_id, int status, int64_t id)
{
	cJSON *user;
	int rc = people_api_user_json(api, id, &user);

	if (rc == STORE_ENOTFOUND)
		http_respond_error(x, 404, "not_found", "no such user");
	else if (rc)
		people_api_internal(api, x, req_id, "user_read", rc);
	else
		http_respond_json(x, status, user);
}

/* ---- reading the bodies ---- */

/* The attributes object into attrs; with_null lets a value be null (to
 * remove the key). NULL, or why it is refused. */
static const char *people_api_attrs(const cJSON *obj, int with_null,
				    struct people_attr *attrs, size_t *n)
{
	const cJSON *v;

	if (!cJSON_IsObject(obj))
		return "attributes must be an object of texts";
	*n = 0;
	cJSON_ArrayForEach(v, obj) {
		if (*n == PEOPLE_API_MAX_ATTRS)
			return "at most 64 attributes";
		attrs[*n].key = v->string;
		attrs[*n].value = cJSON_IsString(v) ? v->valuestring : NULL;
		if (!attrs[*n].value && !(with_null && cJSON_IsNull(v)))
			return with_null ? "an attribute value must be a text "
					   "or null" :
					   "an attribute value must be a text";
		if (!people_attr_key_valid(v->string) ||
		    (attrs[*n].value && !people_attr_valid(&attrs[*n])))
			return "attribute keys are 1 to 64 of a-z, 0-9, '_' "
			       "and '-', values 1 to 200 bytes of text";
		for (size_t i = 0; i < *n; i++)
			if (!strcmp(attrs[i].key, v->string))
				return "an attribute is given twice";
		(*n)++;
	}
	return NULL;
}

static const char *people_api_role(const cJSON *v, enum people_role *out)
{
	if (!cJSON_IsString(v) || people_role_parse(v->valuestring, out))
		return "role must be \"admin\", \"manager\" or \"learner\"";
	return NULL;
}

/* One field of a new user into w; NULL, or why it is refused. */
static const char *people_api_new_field(cJSON *v, struct people_api_new *w)
{
	const char *k = v->string;

	if (!strcmp(k, "email")) {
		if (!cJSON_IsString(v))
			return "email must be a text";
		w->u.email = v->valuestring;
	} else if (!strcmp(k, "name")) {
		if (!cJSON_IsString(v) || !people_name_valid(v->valuestring))
			return "name must be 1 to 200 bytes of text";
		w->u.name = v->valuestring;
	} else if (!strcmp(k, "role")) {
		return people_api_role(v, &w->u.role);
	} else if (!strcmp(k, "attributes")) {
		return people_api_attrs(v, 0, w->attrs, &w->u.nattrs);
	} else if (!strcmp(k, "password")) {
		if (auth_password_take(v, &w->pw))
			return AUTH_PASSWORD_RULE;
	} else {
		return "unknown field: a user has email, name, role, "
		       "attributes and password";
	}
	return NULL;
}

static const char *people_api_new_parse(struct people_api_new *w)
{
	char email[PEOPLE_EMAIL_MAX + 1];
	const char *why = NULL;
	cJSON *v;

	if (!cJSON_IsObject(w->body))
		return "the body is not a JSON object";
	w->u.role = PEOPLE_ROLE_LEARNER;
	w->u.attrs = w->attrs;
	cJSON_ArrayForEach(v, w->body) {
		if ((why = people_api_new_field(v, w)))
			return why;
	}
	if (!w->u.email || !w->u.name)
		return "a user needs email and name";
	if (people_email_normalize(w->u.email, email, sizeof(email)))
		return "email is not a valid address";
	return NULL;
}

/* ---- POST /api/v1/users ---- */

static void people_api_new_free(struct people_api_new *w)
{
	auth_password_wipe(&w->pw);
	cJSON_Delete(w->body);
	free(w);
}

/* Stores the new user and answers. */
static void people_api_new_store(struct people_api_new *w)
{
	struct api_ctx *api = w->pw.api;
	struct audit_actor who = { w->by.id, w->by.email };
	int64_t id = 0;
	int rc;

	w->u.password_hash = w->pw.len ? w->pw.hash : NULL;
	w->u.created_at = clock_now(api->clock);
	rc = people_user_add_audited(api->db, &who, &w->u, &id);
	if (rc == PEOPLE_EEXISTS) {
		http_respond_error(w->pw.x, 409, "conflict",
				   "a user with this email exists already");
		return;
	}
	if (rc) {
		people_api_internal(api, w->pw.x, w->pw.req_id, "user_add",
				    rc);
		return;
	}
	log_info("msg=\"user created\" tenant=%s req=%llu id=%lld by=%lld",
		 api->tenant, (unsigned long long)w->pw.req_id,
		 (long long)id, (long long)w->by.id);
	people_api_send_user(api, w->pw.x, w->pw.req_id, 201, id);
}

static void people_api_hash_failed(struct auth_password_work *pw)
{
	log_error("msg=\"password hash failed\" tenant=%s req=%llu",
		  pw->api->tenant, (unsigned long long)pw->req_id);
	http_respond_error(pw->x, 500, "internal",
			   "the password cannot be stored");
}

static void people_api_new_done(struct auth_password_work *pw, int status)
{
	struct people_api_new *w = (struct people_api_new *)pw;

	if (status)
		http_respond_error(pw->x, 503, "unavailable",
				   "the server is stopping");
	else if (pw->hash_rc)
		people_api_hash_failed(pw);
	else
		people_api_new_store(w);
	people_api_new_free(w);
}

/* 1 when the email is free, 0 after answering 409 or 500. */
static int people_api_email_free(struct api_ctx *api,
				 struct http_exchange *x,
				 struct people_api_new *w)
{
	struct people_user u;
	int rc = people_user_by_email(api->db, w->u.email, &u, NULL, 0);

	if (rc == STORE_ENOTFOUND)
		return 1;
	if (rc)
		people_api_internal(api, x, w->pw.req_id, "user_find", rc);
	else
		http_respond_error(x, 409, "conflict",
				   "a user with this email exists already");
	return 0;
}

void people_api_create(struct api_ctx *api, struct http_exchange *x,
		       const struct http_request *req)
{
	struct people_api_new *w;
	struct people_user me;
	const char *why;

	if (auth_require(api, x, req, AUTH_ROLE(PEOPLE_ROLE_ADMIN), &me))
		return;
	w = calloc(1, sizeof(*w));
	if (!w) {
		http_respond_error(x, 500, "internal", "out of memory");
		return;
	}
	w->pw.x = x;
	w->pw.req_id = req->id;
	w->pw.api = api;
	w->pw.done = people_api_new_done;
	w->by = me;
	w->body = cJSON_ParseWithLength((const char *)req->body,
					req->body_len);
	if ((why = people_api_new_parse(w))) {
		http_respond_error(x, 400, "bad_request", why);
	} else if (people_api_email_free(api, x, w)) {
		if (!w->pw.len)
			people_api_new_store(w);
		else if (auth_password_queue(api, &w->pw) == 0)
			return; /* answered by people_api_new_done */
	}
	people_api_new_free(w);
}

/* ---- GET and PATCH /api/v1/users/{id} ---- */

static void people_api_get(struct api_ctx *api, struct http_exchange *x,
			   const struct http_request *req, int64_t id)
{
	struct people_user me;
	int rc;

	if (auth_require(api, x, req,
			 AUTH_ROLE(PEOPLE_ROLE_ADMIN) |
				 AUTH_ROLE(PEOPLE_ROLE_MANAGER),
			 &me))
		return;
	rc = scope_user(api->db, &me, id);
	if (rc < 0) {
		people_api_internal(api, x, req->id, "scope", rc);
		return;
	}
	if (!rc) {
		http_respond_error(x, 403, "forbidden",
				   "this user is not in your groups");
		return;
	}
	people_api_send_user(api, x, req->id, 200, id);
}

/* One field of a change into p; NULL, or why it is refused. */
static const char *people_api_patch_field(const cJSON *v,
					  struct people_user_patch *p,
					  struct people_attr *attrs)
{
	const char *k = v->string;

	if (!strcmp(k, "name")) {
		if (!cJSON_IsString(v) || !people_name_valid(v->valuestring))
			return "name must be 1 to 200 bytes of text";
		p->name = v->valuestring;
	} else if (!strcmp(k, "role")) {
		p->set_role = 1;
		return people_api_role(v, &p->role);
	} else if (!strcmp(k, "attributes")) {
		p->attrs = attrs;
		return people_api_attrs(v, 1, attrs, &p->nattrs);
	} else {
		return "unknown field: a change has name, role and "
		       "attributes";
	}
	return NULL;
}

static const char *people_api_patch_parse(const cJSON *body,
					  struct people_user_patch *p,
					  struct people_attr *attrs)
{
	const char *why = NULL;
	const cJSON *v;

	if (!cJSON_IsObject(body))
		return "the body is not a JSON object";
	cJSON_ArrayForEach(v, body) {
		if ((why = people_api_patch_field(v, p, attrs)))
			break;
	}
	return why;
}

static void people_api_patch_answer(struct api_ctx *api,
				    struct http_exchange *x,
				    const struct http_request *req, int rc,
				    int64_t id)
{
	switch (rc) {
	case 0:
		people_api_send_user(api, x, req->id, 200, id);
		return;
	case STORE_ENOTFOUND:
		http_respond_error(x, 404, "not_found", "no such user");
		return;
	case STORE_EINVAL:
		http_respond_error(x, 400, "bad_request", "invalid values");
		return;
	case PEOPLE_ELASTADMIN:
		http_respond_error(x, 409, "conflict", "the workspace needs "
				   "an admin: make another user admin first");
		return;
	}
	people_api_internal(api, x, req->id, "user_update", rc);
}

/* What the audit log keeps of a change: the body (name, role,
 * attributes) and, when the role changes, the one before. */
static cJSON *people_api_change_detail(const cJSON *body,
				       const struct people_user *old)
{
	cJSON *o = cJSON_Duplicate(body, 1);

	if (o && old &&
	    !cJSON_AddStringToObject(o, "from_role",
				     people_role_name(old->role))) {
		cJSON_Delete(o);
		o = NULL;
	}
	return o;
}

/* Changes user id and appends its audit entry in one transaction. */
static int people_api_update(struct api_ctx *api,
			     const struct people_user *me, int64_t id,
			     const struct people_user_patch *p,
			     const cJSON *body)
{
	struct audit_actor who = { me->id, me->email };
	struct people_user old;
	char object[32];
	int own = audit_begin(api->db), rc;

	if (own < 0)
		return STORE_EDB;
	rc = people_user_by_id(api->db, id, &old);
	if (!rc)
		rc = people_user_update(api->db, id, p);
	if (!rc)
		rc = audit_append_json(
			api->db, clock_now(api->clock), &who,
			p->set_role ? "user.role" : "user.update",
			audit_object(object, sizeof(object), "user", id),
			people_api_change_detail(body,
						 p->set_role ? &old : NULL));
	return audit_end(api->db, own, rc);
}

static void people_api_patch(struct api_ctx *api, struct http_exchange *x,
			     const struct http_request *req, int64_t id)
{
	struct people_attr attrs[PEOPLE_API_MAX_ATTRS];
	struct people_user_patch p = { 0 };
	struct people_user me;
	const char *why;
	cJSON *body;
	int rc;

	if (auth_require(api, x, req, AUTH_ROLE(PEOPLE_ROLE_ADMIN), &me))
		return;
	body = cJSON_ParseWithLength((const char *)req->body, req->body_len);
	if ((why = people_api_patch_parse(body, &p, attrs))) {
		cJSON_Delete(body);
		http_respond_error(x, 400, "bad_request", why);
		return;
	}
	rc = people_api_update(api, &me, id, &p, body);
	cJSON_Delete(body);
	if (!rc)
		log_info("msg=\"user changed\" tenant=%s req=%llu id=%lld "
			 "by=%lld", api->tenant, (unsigned long long)req->id,
			 (long long)id, (long long)me.id);
	people_api_patch_answer(api, x, req, rc, id);
}

/* ---- password links made by an admin ---- */

/* Queues the link's mail to the person; a failure is logged, and the
 * admin still has the link in the answer. */
static void people_api_link_mail(struct api_ctx *api,
				 const struct http_request *req, int64_t id,
				 enum people_link_kind kind, const char *url)
{
	struct people_user u;
	int rc;

	rc = people_user_by_id(api->db, id, &u);
	if (!rc)
		rc = mail_queue_link(api->db, u.email, u.name, u.language,
				     kind == PEOPLE_LINK_INVITE ?
					     MAIL_LINK_INVITE :
					     MAIL_LINK_RESET,
				     url, clock_now(api->clock));
	if (rc)
		log_error("msg=\"link mail not queued\" tenant=%s req=%llu "
			  "user=%lld", api->tenant,
			  (unsigned long long)req->id, (long long)id);
	else
		mail_sender_poke(api->mail);
}

static void people_api_link(struct api_ctx *api, struct http_exchange *x,
			    const struct http_request *req, int64_t id,
			    enum people_link_kind kind)
{
	char url[PEOPLE_LINK_URL_MAX], when[32];
	struct people_user me;
	int64_t expires;
	cJSON *o;
	int rc;

	if (auth_require(api, x, req, AUTH_ROLE(PEOPLE_ROLE_ADMIN), &me))
		return;
	rc = people_link_create(api->db, id, kind, clock_now(api->clock), url,
				&expires);
	if (rc == STORE_ENOTFOUND) {
		http_respond_error(x, 404, "not_found", "no such user");
		return;
	}
	if (rc) {
		people_api_internal(api, x, req->id, "link_create", rc);
		return;
	}
	log_info("msg=\"password link made\" tenant=%s req=%llu kind=%s "
		 "user=%lld by=%lld", api->tenant, (unsigned long long)req->id,
		 people_link_kind_name(kind), (long long)id, (long long)me.id);
	people_api_link_mail(api, req, id, kind, url);
	clock_format_iso(expires, when, sizeof(when));
	o = cJSON_CreateObject();
	if (o && (!cJSON_AddStringToObject(o, "url", url) ||
		  !cJSON_AddStringToObject(o, "expires", when))) {
		cJSON_Delete(o);
		o = NULL;
	}
	explicit_bzero(url, sizeof(url));
	http_add_header(x, "Cache-Control", "no-store");
	http_respond_json(x, 201, o);
}

/* ---- routing ---- */

/* Which of the paths req->path is, with the user id into *id. */
static enum people_api_path people_api_parse(const char *path, int64_t *id)
{
	const char *p = path + strlen(PEOPLE_API_USERS);
	long long n;
	char *end;

	if (!strcmp(path, "/api/v1/password"))
		return PEOPLE_API_PASSWORD;
	if (!strcmp(path, "/api/v1/password-reset"))
		return PEOPLE_API_RESET_ASK;
	if (strncmp(path, PEOPLE_API_USERS, strlen(PEOPLE_API_USERS)) ||
	    *p < '1' || *p > '9')
		return PEOPLE_API_NONE;
	errno = 0;
	n = strtoll(p, &end, 10);
	if (errno || n > PEOPLE_API_ID_MAX)
		return PEOPLE_API_NONE;
	*id = n;
	if (!*end)
		return PEOPLE_API_USER;
	if (!strcmp(end, "/invitation"))
		return PEOPLE_API_INVITATION;
	if (!strcmp(end, "/password-reset"))
		return PEOPLE_API_RESET;
	return PEOPLE_API_NONE;
}

static void people_api_not_allowed(struct http_exchange *x,
				   const char *allow)
{
	http_add_header(x, "Allow", allow);
	http_respond_error(x, 405, "method_not_allowed",
			   "method not allowed on this path");
}

int people_route(struct api_ctx *api, struct http_exchange *x,
		 const struct http_request *req)
{
	enum people_api_path path;
	int64_t id = 0;
	int post = !strcmp(req->method, "POST");

	path = people_api_parse(req->path, &id);
	if (path == PEOPLE_API_NONE)
		return 0;
	if (path == PEOPLE_API_USER) {
		if (!strcmp(req->method, "GET") ||
		    !strcmp(req->method, "HEAD"))
			people_api_get(api, x, req, id);
		else if (!strcmp(req->method, "PATCH"))
			people_api_patch(api, x, req, id);
		else
			people_api_not_allowed(x, "GET, PATCH");
	} else if (!post) {
		people_api_not_allowed(x, "POST");
	} else if (path == PEOPLE_API_INVITATION) {
		people_api_link(api, x, req, id, PEOPLE_LINK_INVITE);
	} else if (path == PEOPLE_API_RESET) {
		people_api_link(api, x, req, id, PEOPLE_LINK_RESET);
	} else if (path == PEOPLE_API_PASSWORD) {
		auth_password_set(api, x, req);
	} else {
		auth_reset_request(api, x, req);
	}
	return 1;
}
