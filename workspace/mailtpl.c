/*
 * The mail templates of workspace/template.h: the kinds of mail with the
 * placeholders each offers and its built-in texts in German and English,
 * the check of a settings key mail.template.<kind>.<lang>.<part> before
 * it is stored, the render of one mail from the tenant's text or the
 * default, and GET /api/v1/mail-templates that lists them all.
 */
#include "workspace/template.h"

#include "common/db.h"
#include "common/log.h"
#include "workspace/auth.h"
#include "workspace/brand.h"
#include "workspace/mail.h"
#include "workspace/settings.h"
#include "workspace/store.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEMPLATE_MAIL_PREFIX "mail.template."
#define TEMPLATE_MAIL_API "/api/v1/mail-templates"

/* One kind of mail; texts indexed by language, 0 German, 1 English. */
struct template_mail_kind {
	const char *name;
	const char *const *placeholders; /* NULL-terminated */
	const char *subject[2];
	const char *body[2];
};

static const char *const template_mail_link_vars[] = {
	"learner", "url", "academy", NULL,
};
static const char *const template_mail_due_vars[] = {
	"learner", "course", "due", "days", "url", "academy", NULL,
};
static const char *const template_mail_manager_vars[] = {
	"manager", "learner", "course", "due", "days", "url", "academy", NULL,
};
static const char *const template_mail_digest_vars[] = {
	"manager", "count", "list", "url", "academy", NULL,
};
static const char *const template_mail_expiry_vars[] = {
	"learner", "course", "expires", "days", "number", "url", "academy",
	NULL,
};

static const struct template_mail_kind template_mail_kinds[] = {
	{ "invite", template_mail_link_vars,
	  { "Einladung zur Lernplattform",
	    "Invitation to the learning platform" },
	  { "Hallo {{learner}},\n\n"
	    "Sie sind zur Lernplattform von {{academy}} eingeladen. Über\n"
	    "diesen Link legen Sie Ihr Passwort fest und melden sich an:\n\n"
	    "{{url}}\n\n"
	    "Der Link gilt 7 Tage und nur einmal.\n",
	    "Hello {{learner}},\n\n"
	    "You are invited to the learning platform of {{academy}}. Follow\n"
	    "this link to set your password and sign in:\n\n"
	    "{{url}}\n\n"
	    "The link works once and for 7 days.\n" } },
	{ "reset", template_mail_link_vars,
	  { "Neues Passwort für die Lernplattform", "Set a new password" },
	  { "Hallo {{learner}},\n\n"
	    "für Ihr Konto bei {{academy}} wurde ein neues Passwort\n"
	    "angefordert. Über diesen Link legen Sie es fest:\n\n"
	    "{{url}}\n\n"
	    "Der Link gilt eine Stunde und nur einmal. Haben Sie nichts\n"
	    "angefordert, können Sie diese Nachricht ignorieren.\n",
	    "Hello {{learner}},\n\n"
	    "A new password was asked for your account at {{academy}}.\n"
	    "Follow this link to set it:\n\n"
	    "{{url}}\n\n"
	    "The link works once and for 1 hour. If you did not ask for it,\n"
	    "you can ignore this message.\n" } },
	{ "reminder", template_mail_due_vars,
	  { "Erinnerung: {{course}} bis {{due}}",
	    "Reminder: {{course}} is due on {{due}}" },
	  { "Hallo {{learner}},\n\n"
	    "bitte denken Sie an die Schulung „{{course}}“: Sie ist bis zum\n"
	    "{{due}} abzuschließen.\n\n"
	    "Zur Schulung:\n{{url}}\n\n"
	    "Vielen Dank!\n{{academy}}\n",
	    "Hello {{learner}},\n\n"
	    "this is a reminder of the training \"{{course}}\": please\n"
	    "complete it by {{due}}.\n\n"
	    "To the training:\n{{url}}\n\n"
	    "Thank you,\n{{academy}}\n" } },
	{ "overdue", template_mail_due_vars,
	  { "Überfällig: {{course}}", "Overdue: {{course}}" },
	  { "Hallo {{learner}},\n\n"
	    "die Schulung „{{course}}“ war bis zum {{due}} abzuschließen und\n"
	    "ist noch offen. Bitte holen Sie sie bald nach:\n\n"
	    "{{url}}\n\n"
	    "Vielen Dank!\n{{academy}}\n",
	    "Hello {{learner}},\n\n"
	    "the training \"{{course}}\" was due on {{due}} and is not\n"
	    "completed yet. Please complete it soon:\n\n"
	    "{{url}}\n\n"
	    "Thank you,\n{{academy}}\n" } },
	{ "overdue_manager", template_mail_manager_vars,
	  { "Überfällig: {{course}} von {{learner}}",
	    "Overdue: {{course}} of {{learner}}" },
	  { "Hallo {{manager}},\n\n"
	    "{{learner}} hat die Schulung „{{course}}“ noch nicht\n"
	    "abgeschlossen; sie war bis zum {{due}} fällig.\n\n"
	    "Zur Übersicht:\n{{url}}\n\n"
	    "{{academy}}\n",
	    "Hello {{manager}},\n\n"
	    "{{learner}} has not completed the training \"{{course}}\" yet;\n"
	    "it was due on {{due}}.\n\n"
	    "To the overview:\n{{url}}\n\n"
	    "{{academy}}\n" } },
	{ "overdue_digest", template_mail_digest_vars,
	  { "Überfällige Schulungen in Ihrem Bereich: {{count}}",
	    "Overdue trainings of your people: {{count}}" },
	  { "Hallo {{manager}},\n\n"
	    "diese Schulungen Ihrer Mitarbeitenden sind überfällig:\n\n"
	    "{{list}}\n"
	    "Zur Übersicht:\n{{url}}\n\n"
	    "{{academy}}\n",
	    "Hello {{manager}},\n\n"
	    "these trainings of your people are overdue:\n\n"
	    "{{list}}\n"
	    "To the overview:\n{{url}}\n\n"
	    "{{academy}}\n" } },
	{ "expiry", template_mail_expiry_vars,
	  { "Ihr Zertifikat läuft ab: {{course}}",
	    "Your certificate expires soon: {{course}}" },
	  { "Hallo {{learner}},\n\n"
	    "Ihr Zertifikat {{number}} für die Schulung „{{course}}“ gilt\n"
	    "bis zum {{expires}}. Bitte frischen Sie die Schulung rechtzeitig\n"
	    "auf:\n\n"
	    "{{url}}\n\n"
	    "Vielen Dank!\n{{academy}}\n",
	    "Hello {{learner}},\n\n"
	    "your certificate {{number}} for the training \"{{course}}\" is\n"
	    "valid until {{expires}}. Please renew the training in time:\n\n"
	    "{{url}}\n\n"
	    "Thank you,\n{{academy}}\n" } },
};

#define TEMPLATE_MAIL_NKINDS \
	(sizeof(template_mail_kinds) / sizeof(template_mail_kinds[0]))

_Static_assert(TEMPLATE_MAIL_NKINDS * 2 * 2 == TEMPLATE_MAIL_KEYS,
	       "TEMPLATE_MAIL_KEYS counts every kind's keys");

static const char *const template_mail_languages[] = { "de", "en" };
static const char *const template_mail_parts[] = { "subject", "body" };

static const struct template_mail_kind *template_mail_find(const char *s,
							   size_t len)
{
	const struct template_mail_kind *k;

	for (size_t i = 0; i < TEMPLATE_MAIL_NKINDS; i++) {
		k = &template_mail_kinds[i];
		if (strlen(k->name) == len && !memcmp(k->name, s, len))
			return k;
	}
	return NULL;
}

const char *const *template_mail_placeholders(const char *kind)
{
	const struct template_mail_kind *k =
		kind ? template_mail_find(kind, strlen(kind)) : NULL;

	return k ? k->placeholders : NULL;
}

static size_t template_mail_count(const char *const *names)
{
	size_t n = 0;

	while (names[n])
		n++;
	return n;
}

/* A key mail.template.<kind>.<lang>.<part> into its kind, language
 * (0 de, 1 en) and part (0 subject, 1 body): 0, or -1 when key is not
 * one. */
static int template_mail_parse(const char *key,
			       const struct template_mail_kind **kind,
			       int *lang, int *part)
{
	size_t n = strlen(TEMPLATE_MAIL_PREFIX);
	const char *p = key, *dot;

	if (strncmp(key, TEMPLATE_MAIL_PREFIX, n) ||
	    !(dot = strchr(p += n, '.')) ||
	    !(*kind = template_mail_find(p, (size_t)(dot - p))))
		return -1;
	p = dot + 1;
	if (strncmp(p, "de.", 3) && strncmp(p, "en.", 3))
		return -1;
	*lang = p[0] == 'e';
	p += 3;
	if (!strcmp(p, "subject"))
		*part = 0;
	else if (!strcmp(p, "body"))
		*part = 1;
	else
		return -1;
	return 0;
}

/* 1 when the body holds no control character but tab and line ends. */
static int template_mail_body_chars(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p < 0x20 && !strchr("\t\r\n", *p)) || *p == 0x7f)
			return 0;
	return 1;
}

int template_mail_key(const char *key, const char *value, int *rc,
		      char *why, size_t whycap)
{
	const struct template_mail_kind *k;
	const char *const *names;
	int lang, part;

	if (template_mail_parse(key, &k, &lang, &part))
		return 0;
	names = k->placeholders;
	*rc = !*value ? 0 :
	      template_check(value, names, template_mail_count(names), why,
			     whycap);
	if (*rc || !*value)
		return 1;
	if (part == 0 && !mail_subject_valid(value)) {
		*rc = TEMPLATE_ESYNTAX;
		snprintf(why, whycap, "a subject must be one line of at most "
			 "%d bytes", MAIL_SUBJECT_MAX);
	} else if (part == 1 && !template_mail_body_chars(value)) {
		*rc = TEMPLATE_ESYNTAX;
		snprintf(why, whycap, "the body must not hold control "
			 "characters other than tab and line ends");
	}
	return 1;
}

/* ---- rendering ---- */

/* The tenant's text of key into *out (malloc'd), or NULL when it set
 * none: 0 or TEMPLATE_EDB / TEMPLATE_ENOMEM. */
static int template_mail_stored(sqlite3 *db, const char *key, char **out)
{
	char *text = malloc(TEMPLATE_TEXT_MAX + 1);
	int rc;

	*out = NULL;
	if (!text)
		return TEMPLATE_ENOMEM;
	rc = settings_get(db, key, text, TEMPLATE_TEXT_MAX + 1);
	if (!rc) {
		*out = text;
		return 0;
	}
	free(text);
	return rc == SETTINGS_ENOTSET ? 0 : TEMPLATE_EDB;
}

/* The academy's name for {{academy}}: the branding's name, else the
 * tenant id (as brand.c shows it), into out. */
static int template_mail_academy(sqlite3 *db, char *out, size_t cap)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT value FROM branding "
					  "WHERE key = 'name'");
	int step;

	if (!st)
		return TEMPLATE_EDB;
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		snprintf(out, cap, "%s", db_text(st, 0));
	sqlite3_finalize(st);
	if (step == SQLITE_ROW)
		return 0;
	if (step != SQLITE_DONE) {
		log_error("msg=\"branding name unreadable\" error=\"%s\"",
			  sqlite3_errmsg(db));
		return TEMPLATE_EDB;
	}
	if (store_setting_get(db, "tenant", out, cap))
		snprintf(out, cap, "%s", "");
	return 0;
}

/* A subject made fit for mail_enqueue(): control characters (from a
 * value) become spaces and it is cut at a character to
 * MAIL_SUBJECT_MAX bytes. */
static void template_mail_subject_fit(char *s)
{
	size_t len = strlen(s);

	for (char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	if (len <= MAIL_SUBJECT_MAX)
		return;
	len = MAIL_SUBJECT_MAX;
	while (len && ((unsigned char)s[len] & 0xc0) == 0x80)
		len--;
	s[len] = 0;
}

/* Renders text into a malloc'd *out. */
static int template_mail_text(const char *text,
			      const struct template_var *vars, size_t n,
			      char **out)
{
	struct buf b;

	buf_init(&b);
	if (template_render(text, vars, n, &b)) {
		buf_release(&b);
		return TEMPLATE_ENOMEM;
	}
	*out = b.data ? (char *)buf_detach(&b, NULL) : strdup("");
	return *out ? 0 : TEMPLATE_ENOMEM;
}

/* Renders the text of key, or fallback when the tenant set none, into
 * a malloc'd *out. */
static int template_mail_one(sqlite3 *db, const char *key,
			     const char *fallback,
			     const struct template_var *vars, size_t n,
			     char **out)
{
	char *stored;
	int rc = template_mail_stored(db, key, &stored);

	*out = NULL;
	if (!rc)
		rc = template_mail_text(stored ? stored : fallback, vars, n,
					out);
	free(stored);
	return rc;
}

/* vars with "academy" added at the end when missing: *all is malloc'd
 * with *count entries; academy holds its value. */
static int template_mail_vars(sqlite3 *db, const struct template_var *vars,
			      size_t n, char *academy, size_t cap,
			      struct template_var **all, size_t *count)
{
	int rc = 0;

	*all = calloc(n + 1, sizeof(**all));
	if (!*all)
		return TEMPLATE_ENOMEM;
	if (n)
		memcpy(*all, vars, n * sizeof(*vars));
	*count = n;
	for (size_t i = 0; i < n; i++)
		if (vars[i].name && !strcmp(vars[i].name, "academy"))
			return 0;
	rc = template_mail_academy(db, academy, cap);
	if (!rc)
		(*all)[(*count)++] =
			(struct template_var){ "academy", academy };
	return rc;
}

/* The index of language in template_mail_languages; for a person who
 * chose none (NULL, "" or another), the academy's default language. */
static int template_mail_language(sqlite3 *db, const char *language)
{
	char academy[8] = BRAND_DEFAULT_LANGUAGE;
	sqlite3_stmt *st;

	if (language && (!strcmp(language, "de") || !strcmp(language, "en")))
		return !strcmp(language, "en");
	st = db_prepare(db, "SELECT value FROM branding WHERE key = "
			    "'default_language'");
	if (st && sqlite3_step(st) == SQLITE_ROW)
		snprintf(academy, sizeof(academy), "%s", db_text(st, 0));
	sqlite3_finalize(st);
	return strcmp(academy, "de") != 0;
}

int template_mail(sqlite3 *db, const char *kind, const char *language,
		  const struct template_var *vars, size_t n, char **subject,
		  char **body)
{
	const struct template_mail_kind *k =
		kind ? template_mail_find(kind, strlen(kind)) : NULL;
	int lang = template_mail_language(db, language);
	char key[80], academy[STORE_SETTING_MAX];
	struct template_var *all = NULL;
	size_t count = 0;
	int rc;

	*subject = *body = NULL;
	if (!k)
		return TEMPLATE_EKIND;
	rc = template_mail_vars(db, vars, n, academy, sizeof(academy), &all,
				&count);
	snprintf(key, sizeof(key), TEMPLATE_MAIL_PREFIX "%s.%s.subject",
		 k->name, template_mail_languages[lang]);
	if (!rc)
		rc = template_mail_one(db, key, k->subject[lang], all, count,
				       subject);
	if (!rc && !**subject) {
		/* a subject filled with empty values: the default's */
		free(*subject);
		rc = template_mail_text(k->subject[lang], all, count,
					subject);
	}
	snprintf(key, sizeof(key), TEMPLATE_MAIL_PREFIX "%s.%s.body", k->name,
		 template_mail_languages[lang]);
	if (!rc)
		rc = template_mail_one(db, key, k->body[lang], all, count,
				       body);
	free(all);
	if (rc) {
		free(*subject);
		free(*body);
		*subject = *body = NULL;
		return rc;
	}
	template_mail_subject_fit(*subject);
	return 0;
}

/* ---- GET /api/v1/mail-templates ---- */

static cJSON *template_mail_names(const char *const *names)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; a && names[i]; i++)
		if (!cJSON_AddItemToArray(a, cJSON_CreateString(names[i]))) {
			cJSON_Delete(a);
			return NULL;
		}
	return a;
}

/* The entry of kind k in language lang into the array a. */
static int template_mail_entry(sqlite3 *db,
			       const struct template_mail_kind *k, int lang,
			       cJSON *a)
{
	cJSON *o = cJSON_CreateObject();
	char key[80], *text[2] = { NULL, NULL };
	cJSON *names = template_mail_names(k->placeholders);
	int rc = o && cJSON_AddItemToArray(a, o) ? 0 : TEMPLATE_ENOMEM;

	if (rc) {
		cJSON_Delete(o);
		cJSON_Delete(names);
		return rc;
	}
	for (int part = 0; part < 2 && !rc; part++) {
		snprintf(key, sizeof(key), TEMPLATE_MAIL_PREFIX "%s.%s.%s",
			 k->name, template_mail_languages[lang],
			 template_mail_parts[part]);
		rc = template_mail_stored(db, key, &text[part]);
	}
	if (!rc && (!cJSON_AddStringToObject(o, "kind", k->name) ||
		    !cJSON_AddStringToObject(o, "language",
					     template_mail_languages[lang]) ||
		    !cJSON_AddStringToObject(o, "subject", text[0] ? text[0] :
						     k->subject[lang]) ||
		    !cJSON_AddStringToObject(o, "body", text[1] ? text[1] :
						  k->body[lang]) ||
		    !cJSON_AddBoolToObject(o, "custom", text[0] || text[1]) ||
		    !cJSON_AddItemToObject(o, "placeholders", names)))
		rc = TEMPLATE_ENOMEM;
	else
		names = NULL;
	cJSON_Delete(names);
	free(text[0]);
	free(text[1]);
	return rc;
}

static void template_mail_list(struct api_ctx *api, struct http_exchange *x,
			       const struct http_request *req)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *a = cJSON_AddArrayToObject(o, "templates");
	struct people_user me;
	int rc = a ? 0 : TEMPLATE_ENOMEM;

	if (auth_require(api, x, req, AUTH_ROLE(PEOPLE_ROLE_ADMIN), &me)) {
		cJSON_Delete(o);
		return;
	}
	for (size_t i = 0; i < TEMPLATE_MAIL_NKINDS && !rc; i++)
		for (int lang = 0; lang < 2 && !rc; lang++)
			rc = template_mail_entry(api->db,
						 &template_mail_kinds[i], lang,
						 a);
	if (rc) {
		cJSON_Delete(o);
		log_error("msg=\"mail templates cannot be read\" tenant=%s "
			  "req=%llu error=\"%s\"", api->tenant,
			  (unsigned long long)req->id, template_strerror(rc));
		http_respond_error(x, 500, "internal", "the mail templates "
				   "cannot be read");
		return;
	}
	http_add_header(x, "Cache-Control", "no-store");
	http_respond_json(x, 200, o);
}

int template_route(struct api_ctx *api, struct http_exchange *x,
		   const struct http_request *req)
{
	if (strcmp(req->path, TEMPLATE_MAIL_API))
		return 0;
	if (!strcmp(req->method, "GET") || !strcmp(req->method, "HEAD")) {
		template_mail_list(api, x, req);
	} else {
		http_add_header(x, "Allow", "GET, HEAD");
		http_respond_error(x, 405, "method_not_allowed", "use GET; "
				   "PUT /api/v1/settings changes templates");
	}
	return 1;
}
