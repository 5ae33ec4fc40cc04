/*
 * The CSV import of people (see import.h). Three steps: reading the
 * text into rows with libcsv, checking every row without touching the
 * database (so that every error of the file is listed at once), and
 * writing the rows in one transaction. libcsv does not say where in the
 * input a record starts, so the text is fed to it one physical line at a
 * time; that also lets every line be checked for UTF-8 on its own.
 */
#include "workspace/import.h"

#include "common/db.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/utf8.h"
#include "workspace/audit.h"
#include "workspace/auth.h"
#include "workspace/people.h"
#include "workspace/store.h"

#include <csv.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT_NO_ROLE (-1) /* the role cell is empty or absent */
#define IMPORT_ELASTADMIN (-41) /* the file demotes the last admin */
#define IMPORT_QUOTE_MAX 60 /* bytes of a bad value shown in a message */

struct import_error {
	unsigned line;
	size_t seq; /* the order found, kept within a line */
	char *message;
};

/* One person of the file, checked. */
struct import_row {
	unsigned line;
	char email[PEOPLE_EMAIL_MAX + 1];
	char *name;
	int role;      /* enum people_role, or IMPORT_NO_ROLE */
	char **values; /* one per attribute column; NULL: empty cell */
};

/* What the header says, the rows and the errors found. */
struct import_file {
	size_t ncols;
	int col_email, col_name, col_role; /* -1 when absent */
	size_t nattrs;
	size_t attr_col[IMPORT_MAX_COLUMNS]; /* the column of each key */
	char *keys[IMPORT_MAX_COLUMNS];
	int has_header;
	struct import_row *rows;
	size_t nrows, rows_cap;
	struct import_error *errors;
	size_t nerrors, errors_cap;
	int nomem;
	int capped; /* errors were dropped past IMPORT_MAX_ERRORS */
	int stop;   /* nothing more is read */
};

/* The state while libcsv reads: the record being collected. */
struct import_reader {
	struct import_file *f;
	unsigned line;	   /* the physical line being fed */
	unsigned start;	   /* where the current record started; 0 before */
	unsigned bad_text; /* first line of the record that is not UTF-8 */
	char *fields[IMPORT_MAX_COLUMNS + 1];
	size_t nfields; /* may be more than the fields kept */
};

/* ---- errors ---- */

static void import_error(struct import_file *f, unsigned line,
			 const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Records an error of line; past IMPORT_MAX_ERRORS, reading stops. */
static void import_error(struct import_file *f, unsigned line,
			 const char *fmt, ...)
{
	struct import_error *grown;
	va_list ap;
	char *msg;
	int n;

	if (f->nerrors == IMPORT_MAX_ERRORS) {
		f->capped = f->stop = 1;
		return;
	}
	if (f->nerrors == f->errors_cap) {
		size_t cap = f->errors_cap ? f->errors_cap * 2 : 16;

		grown = realloc(f->errors, cap * sizeof(*grown));
		if (!grown) {
			f->nomem = f->stop = 1;
			return;
		}
		f->errors = grown;
		f->errors_cap = cap;
	}
	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0) {
		f->nomem = f->stop = 1;
		return;
	}
	f->errors[f->nerrors] = (struct import_error){ line, f->nerrors, msg };
	f->nerrors++;
}

/* A value for a message: at most IMPORT_QUOTE_MAX bytes, cut at a
 * character boundary, "..." when cut. out has IMPORT_QUOTE_MAX + 4
 * bytes. */
static const char *import_quote(const char *v, char *out)
{
	size_t len = strlen(v);

	if (len <= IMPORT_QUOTE_MAX)
		return v;
	len = IMPORT_QUOTE_MAX;
	while (len > 0 && ((unsigned char)v[len] & 0xc0) == 0x80)
		len--;
	memcpy(out, v, len);
	strcpy(out + len, "...");
	return out;
}

/* ---- text ---- */

/* 1 when s[0..n) is UTF-8 without NUL bytes, overlong forms, surrogates
 * or code points above U+10FFFF. */
static int import_utf8_valid(const unsigned char *s, size_t n)
{
	return !memchr(s, 0, n) && utf8_valid((const char *)s, n);
}

/* 1 when the line is UTF-8 text that did not go through a lossy
 * conversion: U+FFFD, the replacement character, is what a reader that
 * took the file for UTF-8 by mistake leaves for each byte it could not
 * read (a browser's File.text(), an editor), so names would be
 * stored broken. */
static int import_line_text(const char *s, size_t n)
{
	return import_utf8_valid((const unsigned char *)s, n) &&
	       !memmem(s, n, "\xef\xbf\xbd", 3);
}

/* The length of the physical line at s (n bytes left), its end of line
 * ("\n", "\r\n" or a lone "\r") included. */
static size_t import_line_len(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && s[i] != '\n' && s[i] != '\r')
		i++;
	if (i < n && s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
		return i + 2;
	return i < n ? i + 1 : i;
}

/* 1 when the line holds nothing but blanks and its end. */
static int import_line_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr(" \t\r\n", s[i]))
			return 0;
	return 1;
}

/* ',' or ';': whichever the first non-blank line holds more of outside
 * quotes; ',' on a tie. */
static unsigned char import_separator(const char *s, size_t n)
{
	size_t len, commas = 0, semicolons = 0;
	int quoted = 0;

	while (n && import_line_blank(s, len = import_line_len(s, n))) {
		s += len;
		n -= len;
	}
	for (size_t i = 0; i < n && (quoted || !strchr("\r\n", s[i])); i++) {
		if (s[i] == '"')
			quoted = !quoted;
		else if (!quoted && s[i] == ',')
			commas++;
		else if (!quoted && s[i] == ';')
			semicolons++;
	}
	return semicolons > commas ? ';' : ',';
}

/* Lower-cases ASCII letters in place. */
static void import_lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* ---- the header ---- */

/* Checks one header cell as column i of the header on line. */
static void import_header_cell(struct import_file *f, unsigned line,
			       size_t i, char *name)
{
	struct people_attr attr = { name, "x" };
	char q[IMPORT_QUOTE_MAX + 4];
	int *known = NULL;

	import_lower(name);
	if (!strcmp(name, "email"))
		known = &f->col_email;
	else if (!strcmp(name, "name"))
		known = &f->col_name;
	else if (!strcmp(name, "role"))
		known = &f->col_role;
	if (known && *known >= 0) {
		import_error(f, line, "the column '%s' appears twice", name);
	} else if (known) {
		*known = (int)i;
	} else if (!*name) {
		import_error(f, line, "column %zu has no name", i + 1);
	} else if (!people_attr_valid(&attr)) {
		import_error(f, line, "'%s' is not an attribute key: use 1 to "
			     "%d of a-z, 0-9, '_' and '-'",
			     import_quote(name, q), PEOPLE_ATTR_KEY_MAX);
	} else {
		for (size_t k = 0; k < f->nattrs; k++) {
			if (!strcmp(f->keys[k], name)) {
				import_error(f, line, "the column '%s' appears "
					     "twice", name);
				free(name);
				return;
			}
		}
		f->attr_col[f->nattrs] = i;
		f->keys[f->nattrs++] = name;
		return;
	}
	free(name);
}

/* The header from the record's fields, which it takes over. */
static void import_header(struct import_file *f, struct import_reader *r)
{
	size_t before = f->nerrors;

	f->has_header = 1;
	if (r->nfields > IMPORT_MAX_COLUMNS) {
		import_error(f, r->start, "more than %d columns",
			     IMPORT_MAX_COLUMNS);
		f->stop = 1;
		return;
	}
	f->ncols = r->nfields;
	for (size_t i = 0; i < r->nfields; i++) {
		import_header_cell(f, r->start, i, r->fields[i]);
		r->fields[i] = NULL;
	}
	if (f->col_email < 0 || f->col_name < 0)
		import_error(f, r->start, "the first line must name the "
			     "columns, with at least email and name");
	/* without a sound header no line can be checked */
	if (f->nerrors > before)
		f->stop = 1;
}

/* ---- the rows ---- */

static void import_row_free(struct import_row *row, size_t nattrs)
{
	free(row->name);
	for (size_t i = 0; row->values && i < nattrs; i++)
		free(row->values[i]);
	free(row->values);
}

static void import_row_email(struct import_file *f, struct import_row *row,
			     const char *v)
{
	char q[IMPORT_QUOTE_MAX + 4];

	if (!*v)
		import_error(f, row->line, "the email is missing");
	else if (people_email_normalize(v, row->email, sizeof(row->email)))
		import_error(f, row->line, "'%s' is not a valid email address",
			     import_quote(v, q));
}

static void import_row_name_role(struct import_file *f,
				 struct import_row *row, char **fields)
{
	char q[IMPORT_QUOTE_MAX + 4];
	enum people_role role;
	char *v;

	v = fields[f->col_name];
	if (!*v)
		import_error(f, row->line, "the name is missing");
	else if (!people_name_valid(v))
		import_error(f, row->line, "the name must be 1 to %d bytes "
			     "without line breaks or other control "
			     "characters", PEOPLE_NAME_MAX);
	row->name = v;
	fields[f->col_name] = NULL;
	row->role = IMPORT_NO_ROLE;
	if (f->col_role < 0 || !*(v = fields[f->col_role]))
		return;
	import_lower(v);
	if (people_role_parse(v, &role))
		import_error(f, row->line, "the role '%s' is not admin, "
			     "manager or learner", import_quote(v, q));
	else
		row->role = (int)role;
}

static void import_row_values(struct import_file *f, struct import_row *row,
			      char **fields)
{
	struct people_attr attr;

	for (size_t k = 0; k < f->nattrs; k++) {
		attr.key = f->keys[k];
		attr.value = fields[f->attr_col[k]];
		if (!*attr.value)
			continue;
		if (!people_attr_valid(&attr))
			import_error(f, row->line, "%s: a value is 1 to %d "
				     "bytes without line breaks or other "
				     "control characters", attr.key,
				     PEOPLE_ATTR_VALUE_MAX);
		row->values[k] = fields[f->attr_col[k]];
		fields[f->attr_col[k]] = NULL;
	}
}

/* Checks a record as a person and keeps it; the row takes over the
 * fields it needs. */
static void import_row(struct import_file *f, struct import_reader *r)
{
	struct import_row row = { .line = r->start }, *grown;

	if (f->nrows == IMPORT_MAX_LINES) {
		import_error(f, r->start, "more than %d people: split the "
			     "file", IMPORT_MAX_LINES);
		f->stop = 1;
		return;
	}
	if (r->nfields != f->ncols) {
		import_error(f, r->start, "%zu fields where the header has %zu",
			     r->nfields, f->ncols);
		return;
	}
	row.values = calloc(f->nattrs ? f->nattrs : 1, sizeof(char *));
	if (f->nrows == f->rows_cap) {
		size_t cap = f->rows_cap ? f->rows_cap * 2 : 64;

		grown = realloc(f->rows, cap * sizeof(*grown));
		if (grown) {
			f->rows = grown;
			f->rows_cap = cap;
		}
	}
	if (!row.values || f->nrows == f->rows_cap) {
		free(row.values);
		f->nomem = f->stop = 1;
		return;
	}
	import_row_email(f, &row, r->fields[f->col_email]);
	import_row_name_role(f, &row, r->fields);
	import_row_values(f, &row, r->fields);
	f->rows[f->nrows++] = row;
}

/* ---- reading with libcsv ---- */

static void import_reset(struct import_reader *r)
{
	for (size_t i = 0; i < r->nfields && i <= IMPORT_MAX_COLUMNS; i++)
		free(r->fields[i]);
	r->nfields = 0;
	r->start = 0;
	r->bad_text = 0;
}

/* libcsv: one field of the current record. */
static void import_on_field(void *s, size_t len, void *data)
{
	struct import_reader *r = data;
	char *copy;

	if (r->nfields <= IMPORT_MAX_COLUMNS) {
		copy = malloc(len + 1);
		if (!copy) {
			r->f->nomem = r->f->stop = 1;
			return;
		}
		if (len)
			memcpy(copy, s, len);
		copy[len] = 0;
		r->fields[r->nfields] = copy;
	}
	r->nfields++;
}

/* 1 when no field of the record holds anything. */
static int import_record_empty(const struct import_reader *r)
{
	for (size_t i = 0; i < r->nfields && i <= IMPORT_MAX_COLUMNS; i++)
		if (r->fields[i] && *r->fields[i])
			return 0;
	return 1;
}

/* libcsv: the end of a record. */
static void import_on_record(int c, void *data)
{
	struct import_reader *r = data;
	struct import_file *f = r->f;

	(void)c;
	if (!r->start)
		r->start = r->line;
	if (f->stop || f->nomem) {
		/* nothing more is looked at */
	} else if (r->bad_text) {
		import_error(f, r->bad_text, "the line is not UTF-8 text (or "
			     "holds U+FFFD from a wrong conversion): save "
			     "the file as UTF-8");
		if (!f->has_header)
			f->stop = 1;
	} else if (import_record_empty(r)) {
		/* a blank line, or a row of empty cells */
	} else if (!f->has_header) {
		import_header(f, r);
	} else {
		import_row(f, r);
	}
	import_reset(r);
}

/* Feeds the lines of the text to libcsv. */
static void import_read_lines(struct import_reader *r, struct csv_parser *p,
			      const char *s, size_t n)
{
	size_t len;

	while (n && !r->f->stop) {
		len = import_line_len(s, n);
		r->line++;
		if (!r->start && !import_line_blank(s, len))
			r->start = r->line;
		if (!r->bad_text && !import_line_text(s, len))
			r->bad_text = r->line;
		if (csv_parse(p, s, len, import_on_field, import_on_record,
			      r) != len) {
			import_error(r->f, r->line, "%s", csv_error(p) ==
				     CSV_EPARSE ? "a quote in the wrong "
				     "place: quote a whole field as \"...\" "
				     "and double every quote inside it" :
				     "the line cannot be read");
			r->f->stop = 1;
			return;
		}
		s += len;
		n -= len;
	}
}

/* Reads the text into f: the header, the rows and the errors. */
static int import_read(struct import_file *f, const char *s, size_t n)
{
	struct import_reader r = { .f = f };
	struct csv_parser p;

	if (n >= 3 && !memcmp(s, "\xef\xbb\xbf", 3)) {
		s += 3;
		n -= 3;
	}
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL))
		return STORE_ENOMEM;
	csv_set_delim(&p, import_separator(s, n));
	import_read_lines(&r, &p, s, n);
	if (!f->stop && csv_fini(&p, import_on_field, import_on_record, &r))
		import_error(f, r.start ? r.start : r.line, "a quoted field "
			     "is not closed");
	import_reset(&r);
	csv_free(&p);
	if (!f->has_header && !f->nerrors && !f->nomem)
		import_error(f, 1, "the file is empty: the first line must "
			     "name the columns, e.g. email,name,role");
	return f->nomem ? STORE_ENOMEM : 0;
}

static int import_by_email(const void *a, const void *b)
{
	const struct import_row *x = *(struct import_row *const *)a;
	const struct import_row *y = *(struct import_row *const *)b;
	int c = strcmp(x->email, y->email);

	return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* An email given twice is an error of the later line. */
static int import_duplicates(struct import_file *f)
{
	struct import_row **by;
	size_t n = 0;

	by = malloc((f->nrows ? f->nrows : 1) * sizeof(*by));
	if (!by)
		return STORE_ENOMEM;
	for (size_t i = 0; i < f->nrows; i++)
		if (f->rows[i].email[0])
			by[n++] = &f->rows[i];
	qsort(by, n, sizeof(*by), import_by_email);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(by[i]->email, by[i - 1]->email))
			import_error(f, by[i]->line, "the email %s is on "
				     "line %u already", by[i]->email,
				     by[i - 1]->line);
	free(by);
	return f->nomem ? STORE_ENOMEM : 0;
}

static void import_file_release(struct import_file *f)
{
	for (size_t i = 0; i < f->nrows; i++)
		import_row_free(&f->rows[i], f->nattrs);
	free(f->rows);
	for (size_t i = 0; i < f->nattrs; i++)
		free(f->keys[i]);
	for (size_t i = 0; i < f->nerrors; i++)
		free(f->errors[i].message);
	free(f->errors);
}

/* Reads and checks the text without the database. */
static int import_check(struct import_file *f, const char *s, size_t n)
{
	int rc;

	memset(f, 0, sizeof(*f));
	f->col_email = f->col_name = f->col_role = -1;
	if ((rc = import_read(f, s, n)))
		return rc;
	return f->stop ? 0 : import_duplicates(f);
}

/* ---- writing ---- */

enum import_stmt {
	IMPORT_FIND,
	IMPORT_INSERT,
	IMPORT_SET_NAME,
	IMPORT_SET_ROLE,
	IMPORT_GET_ATTR,
	IMPORT_ADD_ATTR,
	IMPORT_SET_ATTR,
	IMPORT_DEL_ATTR,
	IMPORT_NSTMTS,
};

static const char *const import_sql[IMPORT_NSTMTS] = {
	[IMPORT_FIND] = "SELECT id, name, role FROM users WHERE email = ?1",
	[IMPORT_INSERT] = "INSERT INTO users (email, name, role, created_at) "
			  "VALUES (?1, ?2, ?3, ?4)",
	[IMPORT_SET_NAME] = "UPDATE users SET name = ?2 WHERE id = ?1",
	[IMPORT_SET_ROLE] = "UPDATE users SET role = ?2 WHERE id = ?1",
	[IMPORT_GET_ATTR] = "SELECT value FROM user_attributes "
			    "WHERE user_id = ?1 AND key = ?2",
	/* no upsert: its conflict clause would override the OR IGNORE of
	 * the membership triggers (store.c) */
	[IMPORT_ADD_ATTR] = "INSERT INTO user_attributes (user_id, key, "
			    "value) VALUES (?1, ?2, ?3)",
	[IMPORT_SET_ATTR] = "UPDATE user_attributes SET value = ?3 "
			    "WHERE user_id = ?1 AND key = ?2",
	[IMPORT_DEL_ATTR] = "DELETE FROM user_attributes "
			    "WHERE user_id = ?1 AND key = ?2",
};

struct import_writer {
	sqlite3 *db;
	const struct import_file *f;
	const struct audit_actor *who; /* for the audit entry */
	int64_t now;
	sqlite3_stmt *st[IMPORT_NSTMTS];
	long created, updated, unchanged;
	unsigned demoted_line; /* the last line that took an admin's role */
};

/* Steps a statement once and resets it; row receives 1 for a row. */
static int import_step(struct import_writer *w, enum import_stmt which,
		       int *row)
{
	sqlite3_stmt *st = w->st[which];
	int step = sqlite3_step(st);

	if (row)
		*row = step == SQLITE_ROW;
	if (step == SQLITE_ROW || step == SQLITE_DONE)
		return 0;
	log_error("msg=\"database query failed\" query=import_%d "
		  "error=\"%s\"", (int)which, sqlite3_errmsg(w->db));
	return STORE_EDB;
}

/* Sets one attribute of a user (value NULL removes it); *changed is set
 * when it differed. */
static int import_attr(struct import_writer *w, int64_t id, const char *key,
		       const char *value, int *changed)
{
	sqlite3_stmt *get = w->st[IMPORT_GET_ATTR];
	enum import_stmt which;
	int row, same, rc;

	sqlite3_reset(get);
	sqlite3_bind_int64(get, 1, id);
	sqlite3_bind_text(get, 2, key, -1, SQLITE_STATIC);
	if ((rc = import_step(w, IMPORT_GET_ATTR, &row)))
		return rc;
	same = value ? row && !strcmp(db_text(get, 0), value) : !row;
	sqlite3_reset(get);
	if (same)
		return 0;
	which = !value ? IMPORT_DEL_ATTR : row ? IMPORT_SET_ATTR :
						 IMPORT_ADD_ATTR;
	*changed = 1;
	sqlite3_reset(w->st[which]);
	sqlite3_bind_int64(w->st[which], 1, id);
	sqlite3_bind_text(w->st[which], 2, key, -1, SQLITE_STATIC);
	if (value)
		sqlite3_bind_text(w->st[which], 3, value, -1, SQLITE_STATIC);
	return import_step(w, which, NULL);
}

static int import_attrs(struct import_writer *w, int64_t id,
			const struct import_row *row, int *changed)
{
	int rc = 0;

	for (size_t k = 0; !rc && k < w->f->nattrs; k++)
		rc = import_attr(w, id, w->f->keys[k], row->values[k],
				 changed);
	return rc;
}

static int import_create(struct import_writer *w, const struct import_row *r)
{
	sqlite3_stmt *st = w->st[IMPORT_INSERT];
	int changed = 0, rc;

	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, r->email, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, people_role_name(r->role == IMPORT_NO_ROLE ?
			  PEOPLE_ROLE_LEARNER : (enum people_role)r->role),
			  -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, w->now);
	if ((rc = import_step(w, IMPORT_INSERT, NULL)))
		return rc;
	w->created++;
	return import_attrs(w, sqlite3_last_insert_rowid(w->db), r, &changed);
}

/* Sets text column `which` of user id when it differs from now. */
static int import_set(struct import_writer *w, enum import_stmt which,
		      int64_t id, const char *now, const char *want,
		      int *changed)
{
	sqlite3_stmt *st = w->st[which];

	if (!strcmp(now, want))
		return 0;
	*changed = 1;
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, want, -1, SQLITE_STATIC);
	return import_step(w, which, NULL);
}

/* An existing user, found by IMPORT_FIND (id, name, role). */
static int import_update(struct import_writer *w, const struct import_row *r)
{
	sqlite3_stmt *found = w->st[IMPORT_FIND];
	int64_t id = sqlite3_column_int64(found, 0);
	char *name = strdup(db_text(found, 1));
	char *role = strdup(db_text(found, 2));
	int changed = 0, rc = STORE_ENOMEM;

	sqlite3_reset(found);
	if (!name || !role)
		goto done;
	rc = import_set(w, IMPORT_SET_NAME, id, name, r->name, &changed);
	if (!rc && r->role != IMPORT_NO_ROLE)
		rc = import_set(w, IMPORT_SET_ROLE, id, role,
				people_role_name((enum people_role)r->role),
				&changed);
	if (!rc && r->role != IMPORT_NO_ROLE && r->role != PEOPLE_ROLE_ADMIN &&
	    !strcmp(role, "admin"))
		w->demoted_line = r->line;
	if (!rc)
		rc = import_attrs(w, id, r, &changed);
	if (!rc && changed)
		w->updated++;
	else if (!rc)
		w->unchanged++;
done:
	free(name);
	free(role);
	return rc;
}

static int import_write_row(struct import_writer *w,
			    const struct import_row *r)
{
	sqlite3_stmt *find = w->st[IMPORT_FIND];
	int row, rc;

	sqlite3_reset(find);
	sqlite3_bind_text(find, 1, r->email, -1, SQLITE_STATIC);
	if ((rc = import_step(w, IMPORT_FIND, &row)))
		return rc;
	if (row)
		return import_update(w, r);
	sqlite3_reset(find);
	return import_create(w, r);
}

/* After a file took the admin role from someone: IMPORT_ELASTADMIN when
 * no admin is left, as PATCH /api/v1/users/{id} refuses too. */
static int import_admins_left(struct import_writer *w)
{
	sqlite3_stmt *st = db_prepare(w->db, "SELECT count(*) FROM users "
					     "WHERE role = 'admin'");
	int rc = STORE_EDB;

	if (st && sqlite3_step(st) == SQLITE_ROW)
		rc = sqlite3_column_int64(st, 0) ? 0 : IMPORT_ELASTADMIN;
	else if (st)
		log_error("msg=\"database query failed\" query=import_admins "
			  "error=\"%s\"", sqlite3_errmsg(w->db));
	sqlite3_finalize(st);
	return rc;
}

/* Inside the transaction: every row of the file. */
static int import_write(struct import_writer *w)
{
	int rc = 0;

	for (int i = 0; !rc && i < IMPORT_NSTMTS; i++)
		if (!(w->st[i] = db_prepare(w->db, import_sql[i])))
			rc = STORE_EDB;
	for (size_t i = 0; !rc && i < w->f->nrows; i++)
		rc = import_write_row(w, &w->f->rows[i]);
	for (int i = 0; i < IMPORT_NSTMTS; i++)
		sqlite3_finalize(w->st[i]);
	if (!rc && w->demoted_line)
		rc = import_admins_left(w);
	return rc;
}

/* ---- the report ---- */

static int import_by_line(const void *a, const void *b)
{
	const struct import_error *x = a, *y = b;

	if (x->line != y->line)
		return (x->line > y->line) - (x->line < y->line);
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* The last entry when errors were dropped; NULL when out of memory. */
static cJSON *import_report_capped(cJSON *list, const struct import_file *f)
{
	cJSON *e = cJSON_CreateObject();

	if (!e || !cJSON_AddItemToArray(list, e)) {
		cJSON_Delete(e);
		return NULL;
	}
	if (!cJSON_AddNumberToObject(e, "line",
				     f->errors[f->nerrors - 1].line) ||
	    !cJSON_AddStringToObject(e, "message", "more errors follow; "
				     "reading stopped here"))
		return NULL;
	return e;
}

static cJSON *import_report(struct import_file *f, int dry_run,
			    const struct import_writer *w)
{
	cJSON *o = cJSON_CreateObject(), *list, *e;

	if (!o || !cJSON_AddBoolToObject(o, "dry_run", dry_run) ||
	    !cJSON_AddNumberToObject(o, "created", (double)w->created) ||
	    !cJSON_AddNumberToObject(o, "updated", (double)w->updated) ||
	    !cJSON_AddNumberToObject(o, "unchanged", (double)w->unchanged) ||
	    !(list = cJSON_AddArrayToObject(o, "errors")))
		goto fail;
	if (f->nerrors)
		qsort(f->errors, f->nerrors, sizeof(*f->errors),
		      import_by_line);
	for (size_t i = 0; i < f->nerrors; i++) {
		e = cJSON_CreateObject();
		if (!e || !cJSON_AddItemToArray(list, e)) {
			cJSON_Delete(e);
			goto fail;
		}
		if (!cJSON_AddNumberToObject(e, "line", f->errors[i].line) ||
		    !cJSON_AddStringToObject(e, "message",
					     f->errors[i].message))
			goto fail;
	}
	if (f->capped && !import_report_capped(list, f))
		goto fail;
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

/* ---- the core ---- */

/* The audit entry of an import that changed someone: the counts (the
 * people themselves are in the file the admin holds). */
static int import_audit(struct import_writer *w)
{
	cJSON *d;

	if (!w->created && !w->updated)
		return 0;
	d = cJSON_CreateObject();
	if (d && (!cJSON_AddNumberToObject(d, "created", (double)w->created) ||
		  !cJSON_AddNumberToObject(d, "updated", (double)w->updated) ||
		  !cJSON_AddNumberToObject(d, "unchanged",
					   (double)w->unchanged))) {
		cJSON_Delete(d);
		d = NULL;
	}
	return audit_append_json(w->db, w->now, w->who, "user.import", "",
				 d);
}

/* Writes the checked rows in one transaction, kept unless dry_run. */
static int import_commit(sqlite3 *db, struct import_writer *w, int dry_run)
{
	int rc;

	if (db_begin(db))
		return STORE_EDB;
	rc = import_write(w);
	if (!rc && !dry_run)
		rc = import_audit(w);
	if (!rc && !dry_run && db_commit(db))
		rc = STORE_EDB;
	if (rc || dry_run)
		db_rollback(db);
	return rc;
}

int import_csv(sqlite3 *db, const char *data, size_t len, int dry_run,
	       int64_t now, cJSON **report)
{
	static const struct audit_actor cli = { 0, "cli" };

	return import_csv_by(db, &cli, data, len, dry_run, now, report);
}

int import_csv_by(sqlite3 *db, const struct audit_actor *who,
		  const char *data, size_t len, int dry_run, int64_t now,
		  cJSON **report)
{
	struct import_file f;
	struct import_writer w = { .db = db, .f = &f, .who = who,
				   .now = now };
	int rc;

	*report = NULL;
	rc = import_check(&f, data, len);
	if (!rc && !f.nerrors)
		rc = import_commit(db, &w, dry_run);
	if (rc == IMPORT_ELASTADMIN) { /* rolled back: an error of the file */
		import_error(&f, w.demoted_line, "the workspace needs an "
			     "admin: this line takes the role from the last "
			     "one; make another user admin first");
		rc = f.nomem ? STORE_ENOMEM : 0;
	}
	if (!rc && f.nerrors)
		w.created = w.updated = w.unchanged = 0;
	if (!rc && !(*report = import_report(&f, dry_run, &w)))
		rc = STORE_ENOMEM;
	if (!rc && f.nerrors)
		rc = IMPORT_EFILE;
	import_file_release(&f);
	return rc;
}

/* ---- HTTP: POST /api/v1/users/import ---- */

#define IMPORT_PATH "/api/v1/users/import"

struct import_work {
	uv_work_t work;
	struct api_ctx *api;
	struct http_exchange *x;
	uint64_t req_id;
	int64_t by;
	char by_email[PEOPLE_EMAIL_MAX + 1];
	const char *data; /* the request body, valid until the answer */
	size_t len;
	int dry_run;
	int64_t now;
	char *db_path;
	int rc;
	cJSON *report;
};

/* 1 when the query asks for a dry run: dry_run=1 or dry_run=true. */
static int import_query_dry_run(const char *query)
{
	const char *p = query;
	size_t n;

	while (*p) {
		n = strcspn(p, "&");
		if ((n == 9 && !strncmp(p, "dry_run=1", 9)) ||
		    (n == 12 && !strncmp(p, "dry_run=true", 12)))
			return 1;
		p += n + (p[n] == '&');
	}
	return 0;
}

/* On the thread pool, with a connection of its own: the loop's is not
 * to be shared across threads, and a long import must not stall it. */
static void import_run(uv_work_t *work)
{
	struct import_work *w = work->data;
	struct audit_actor who = { w->by, w->by_email };
	sqlite3 *db = NULL;

	w->rc = store_open(w->db_path, &db);
	if (!w->rc)
		w->rc = import_csv_by(db, &who, w->data, w->len, w->dry_run,
				      w->now, &w->report);
	sqlite3_close_v2(db);
}

static void import_answer(struct import_work *w)
{
	char *text;

	if (w->rc && w->rc != IMPORT_EFILE) {
		log_error("msg=\"import failed\" tenant=%s req=%llu "
			  "error=\"%s\"", w->api->tenant,
			  (unsigned long long)w->req_id,
			  store_strerror(w->rc));
		http_respond_error(w->x, 500, "internal",
				   "the import cannot be done");
		return;
	}
	log_info("msg=\"import\" tenant=%s req=%llu by=%lld dry_run=%d "
		 "ok=%d", w->api->tenant, (unsigned long long)w->req_id,
		 (long long)w->by, w->dry_run, w->rc == 0);
	text = cJSON_PrintUnformatted(w->report);
	if (!text) {
		http_respond_error(w->x, 500, "internal", "out of memory");
		return;
	}
	http_respond(w->x, w->rc ? 422 : 200, "application/json", text,
		     strlen(text));
	cJSON_free(text);
}

static void import_done(uv_work_t *work, int status)
{
	struct import_work *w = work->data;

	if (status)
		http_respond_error(w->x, 503, "unavailable",
				   "the server is stopping");
	else
		import_answer(w);
	cJSON_Delete(w->report);
	free(w->db_path);
	free(w);
}

static void import_post(struct api_ctx *api, struct http_exchange *x,
			const struct http_request *req)
{
	struct people_user me;
	struct import_work *w;

	if (auth_require(api, x, req, AUTH_ROLE(PEOPLE_ROLE_ADMIN), &me))
		return;
	w = calloc(1, sizeof(*w));
	if (w)
		w->db_path = fs_join(api->data_dir, STORE_FILE);
	if (!w || !w->db_path) {
		free(w);
		http_respond_error(x, 500, "internal", "out of memory");
		return;
	}
	*w = (struct import_work){ .api = api, .x = x, .req_id = req->id,
				   .by = me.id, .data = (const char *)req->body,
				   .len = req->body_len,
				   .dry_run = import_query_dry_run(req->query),
				   .now = clock_now(api->clock),
				   .db_path = w->db_path };
	snprintf(w->by_email, sizeof(w->by_email), "%s", me.email);
	w->work.data = w;
	if (uv_queue_work(api->loop, &w->work, import_run, import_done)) {
		free(w->db_path);
		free(w);
		http_respond_error(x, 503, "unavailable",
				   "the import cannot be started");
	}
}

int import_route(struct api_ctx *api, struct http_exchange *x,
		 const struct http_request *req)
{
	if (strcmp(req->path, IMPORT_PATH))
		return 0;
	if (strcmp(req->method, "POST")) {
		http_add_header(x, "Allow", "POST");
		http_respond_error(x, 405, "method_not_allowed",
				   "method not allowed on this path");
		return 1;
	}
	import_post(api, x, req);
	return 1;
}
