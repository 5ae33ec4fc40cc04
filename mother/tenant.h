/*
 * Tenants and licences at the mother, and the JSON views of tenants and
 * courses shared by the command line and the admin API.
 *
 * A tenant is created with a one-time enrollment token (stored only as
 * its SHA-256, valid for TENANT_TOKEN_DAYS) that its workspace presents
 * once, together with its public key. Licensing a course to a tenant
 * appends the course's current revision to the tenant's event stream; a
 * tenant licensed for "all" also receives every course created later.
 */
#ifndef LMS_MOTHER_TENANT_H
#define LMS_MOTHER_TENANT_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "mother/mother.h"

#define TENANT_TOKEN_DAYS 7

struct tenant_new {
	const char *id;
	const char *name;
	const char **domains;
	size_t domain_count;
	const char *courses; /* "all", "a,b,c", or NULL for none */
};

/* Creates the tenant and its licences. token receives the enrollment
 * token (hex). Errors are printed on stderr. */
int tenant_add(struct mother *m, const struct tenant_new *t,
	       char token[65]);

/* Licenses further courses ("all" or a comma list) to a tenant. */
int tenant_license(struct mother *m, const char *id, const char *courses);

/* Issues a new enrollment token (for a reinstalled workspace). */
int tenant_new_token(struct mother *m, const char *id, char token[65]);

/* [{"id","name","domains","connected","courses":{id: acked revision or
 * null}, "enrolled","stream_head","acked_seq","last_contact", "lag":
 * {id: {"events", "revisions"}}, "audit"}]: lag counts the course's
 * events not yet acknowledged and the revisions published after the
 * acknowledged one; audit is mother/audithead.h's audithead_json().
 * connected lists the connected tenant ids, space separated. The caller
 * frees the result with cJSON_Delete. NULL on error. */
cJSON *tenant_list_json(struct mother *m, const char *connected);

/* [{"id","title","revision"}], revision null before the first publish. */
cJSON *tenant_course_list_json(struct mother *m);

#endif
