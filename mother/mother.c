/*
 * Opening and creating the mother's data directory.
 */
#include "mother/mother.h"

#include "common/fs.h"
#include "common/gitstore.h"
#include "common/log.h"
#include "mother/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *mother_path(const struct mother *m, const char *name)
{
	return fs_join(m->data, name);
}

char *mother_course_repo(const struct mother *m, const char *course)
{
	char rel[128];

	snprintf(rel, sizeof(rel), "courses/%s.git", course);
	return fs_join(m->data, rel);
}

static int mother_load(struct mother *m, int create)
{
	char *db = mother_path(m, "mother.db");
	char *key = mother_path(m, "mother.key");
	int rc = -1;

	if (!db || !key)
		goto out;
	if (create ? crypto_key_generate(key, &m->key) :
		     crypto_key_load(key, &m->key)) {
		log_error("msg=\"cannot %s the mother key\" path=\"%s\"",
			  create ? "create" : "read", key);
		goto out;
	}
	crypto_key_public(m->key, m->pub);
	crypto_fingerprint(m->pub, m->fingerprint);
	rc = store_open(db, &m->db);
out:
	free(db);
	free(key);
	return rc;
}

static void mother_zero(struct mother *m)
{
	memset(m, 0, sizeof(*m));
	gitstore_global_init();
	clock_init(&m->clock);
}

int mother_create(struct mother *m, const char *data)
{
	char *db_path, *courses;
	int exists;

	mother_zero(m);
	if (fs_mkdir_p(data, 0700)) {
		log_error("msg=\"cannot create data directory\" path=\"%s\"",
			  data);
		return -1;
	}
	m->data = fs_abspath(data);
	db_path = mother_path(m, "mother.db");
	exists = db_path && fs_exists(db_path);
	free(db_path);
	if (exists) {
		log_error("msg=\"data directory already initialised\" "
			  "path=\"%s\"", m->data);
		return -1;
	}
	courses = mother_path(m, "courses");
	if (!courses || fs_mkdir_p(courses, 0755)) {
		free(courses);
		return -1;
	}
	free(courses);
	return mother_load(m, 1);
}

int mother_open(struct mother *m, const char *data)
{
	char *db_path;
	int exists;

	mother_zero(m);
	m->data = fs_abspath(data);
	if (!m->data) {
		log_error("msg=\"no such data directory\" path=\"%s\"", data);
		return -1;
	}
	db_path = mother_path(m, "mother.db");
	exists = db_path && fs_exists(db_path);
	free(db_path);
	if (!exists) {
		log_error("msg=\"not a mother data directory (run lms-mother "
			  "init)\" path=\"%s\"", m->data);
		return -1;
	}
	return mother_load(m, 0);
}

void mother_close(struct mother *m)
{
	if (m->db)
		sqlite3_close_v2(m->db);
	crypto_key_free(m->key);
	free(m->data);
	memset(m, 0, sizeof(*m));
}
