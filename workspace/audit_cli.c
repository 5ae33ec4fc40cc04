/*
 * `lms-workspace audit`: the command line of workspace/audit.h.
 *
 *   audit verify DATA [--head SEQ:HASH]
 *       walks the chain; exit 0 with "audit log intact: N entries, head
 *       SEQ HASH", or exit 1 with the first problem ("entry 12 was
 *       changed"). --head holds the log against a head kept elsewhere.
 *   audit export DATA [--format jsonl|csv] [--from SEQ]
 *       every entry with its hashes to stdout in seq order, one row at a
 *       time.
 *
 * Exit codes as lms-workspace: 0 success, 1 failure, 2 wrong usage.
 */
#include "workspace/audit.h"

#include "common/fs.h"
#include "workspace/store.h"

#include <cjson/cJSON.h>
#include <csv.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLI_OK 0
#define CLI_FAIL 1
#define CLI_USAGE 2

static const char audit_cli_help[] =
	"Usage: lms-workspace audit verify DATA [--head SEQ:HASH]\n"
	"       lms-workspace audit export DATA [--format jsonl|csv]\n"
	"                    [--from SEQ]\n"
	"\n"
	"  verify    walks the audit log's hash chain and names the first\n"
	"            entry that was changed, removed or inserted (exit 1);\n"
	"            --head checks it against a head kept elsewhere, which\n"
	"            also catches entries removed from the end\n"
	"  export    writes every entry with its hashes to stdout: JSON\n"
	"            lines (the default) or CSV with a header; --from\n"
	"            starts at that seq\n";

static int audit_cli_fail(const char *what, const char *detail)
{
	fprintf(stderr, "lms-workspace: %s%s%s\n", what, detail ? ": " : "",
		detail ? detail : "");
	return CLI_FAIL;
}

static int audit_cli_usage(const char *what)
{
	fprintf(stderr, "lms-workspace: %s\n"
			"Try 'lms-workspace audit --help'.\n", what);
	return CLI_USAGE;
}

static int audit_cli_open(const char *data, sqlite3 **db)
{
	char *path = fs_join(data, STORE_FILE);
	int rc;

	if (!path || !fs_exists(path)) {
		free(path);
		return audit_cli_fail("not a workspace", data);
	}
	rc = store_open(path, db);
	free(path);
	return rc ? audit_cli_fail("cannot open the database", data) : 0;
}

/* ---- export ---- */

/* One entry as a line of JSON. */
static int audit_cli_print_json(const struct audit_entry *e, FILE *f)
{
	cJSON *o = audit_entry_json(e);
	char *text = o ? cJSON_PrintUnformatted(o) : NULL;
	int rc = text && fputs(text, f) >= 0 && fputc('\n', f) != EOF;

	cJSON_free(text);
	cJSON_Delete(o);
	return rc ? 0 : -1;
}

static int audit_cli_jsonl_row(const struct audit_entry *e, void *arg)
{
	FILE *f = arg;

	return audit_cli_print_json(e, f) != 0;
}

static void audit_cli_csv_field(FILE *f, const char *s, int last)
{
	csv_fwrite(f, s, strlen(s));
	fputs(last ? "\r\n" : ",", f);
}

static int audit_cli_csv_row(const struct audit_entry *e, void *arg)
{
	FILE *f = arg;
	char seq[24], at[24], actor_id[24] = "";

	snprintf(seq, sizeof(seq), "%" PRId64, e->seq);
	snprintf(at, sizeof(at), "%" PRId64, e->at);
	if (e->actor_id)
		snprintf(actor_id, sizeof(actor_id), "%" PRId64, e->actor_id);
	audit_cli_csv_field(f, seq, 0);
	audit_cli_csv_field(f, at, 0);
	audit_cli_csv_field(f, actor_id, 0);
	audit_cli_csv_field(f, e->actor, 0);
	audit_cli_csv_field(f, e->action, 0);
	audit_cli_csv_field(f, e->object, 0);
	audit_cli_csv_field(f, e->detail, 0);
	audit_cli_csv_field(f, e->prev_hash, 0);
	audit_cli_csv_field(f, e->hash, 1);
	return ferror(f) != 0;
}

static int audit_cli_export(const char *data, int csv, int64_t from)
{
	sqlite3 *db;
	int rc;

	if ((rc = audit_cli_open(data, &db)))
		return rc;
	if (csv)
		fputs("seq,at,actor_id,actor,action,object,detail,prev_hash,"
		      "hash\r\n", stdout);
	rc = audit_each(db, from, 0,
			csv ? audit_cli_csv_row : audit_cli_jsonl_row,
			stdout);
	sqlite3_close_v2(db);
	if (rc < 0)
		return audit_cli_fail("export failed", store_strerror(rc));
	if (rc > 0 || fflush(stdout))
		return audit_cli_fail("cannot write the export", NULL);
	return CLI_OK;
}

/* ---- verify ---- */

static int audit_cli_verify(const char *data, const struct audit_expect *x)
{
	struct audit_report r;
	sqlite3 *db;
	int rc;

	if ((rc = audit_cli_open(data, &db)))
		return rc;
	rc = audit_verify(db, x, &r);
	sqlite3_close_v2(db);
	if (rc)
		return audit_cli_fail("cannot read the audit log",
				      store_strerror(rc));
	if (r.problem) {
		printf("audit log broken: %s\n", r.message);
		return CLI_FAIL;
	}
	printf("audit log intact: %" PRId64 " entries, head %" PRId64
	       " %s\n", r.entries, r.head_seq, r.head_hash);
	return CLI_OK;
}

/* ---- dispatch ---- */

struct audit_cli_args {
	const char *format;
	const char *from;
	const char *head;
};

static int audit_cli_options(int argc, char **argv, struct audit_cli_args *a)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "from", required_argument, NULL, 's' },
		{ "head", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'f')
			a->format = optarg;
		else if (c == 's')
			a->from = optarg;
		else if (c == 'H')
			a->head = optarg;
		else if (c == 'h')
			return 1;
		else
			return -1;
	}
	return 0;
}

static int audit_cli_from(const char *s, int64_t *out)
{
	char *end;
	long long v;

	*out = 1;
	if (!s)
		return 0;
	v = strtoll(s, &end, 10);
	if (*s < '0' || *s > '9' || *end || v < 1)
		return -1;
	*out = v;
	return 0;
}

int audit_cli(int argc, char **argv)
{
	struct audit_cli_args a = { 0 };
	struct audit_expect x;
	int64_t from;
	int rc = audit_cli_options(argc, argv, &a);

	if (rc > 0) {
		fputs(audit_cli_help, stdout);
		return CLI_OK;
	}
	if (rc < 0 || argc - optind != 2)
		return audit_cli_usage("audit needs a command and DATA");
	if (!strcmp(argv[optind], "verify")) {
		if (a.format || a.from)
			return audit_cli_usage("verify takes only --head");
		if (a.head && audit_expect_parse(a.head, &x))
			return audit_cli_usage("--head wants SEQ:HASH");
		return audit_cli_verify(argv[optind + 1], a.head ? &x : NULL);
	}
	if (strcmp(argv[optind], "export"))
		return audit_cli_usage("unknown audit command");
	if (a.head || audit_cli_from(a.from, &from) ||
	    (a.format && strcmp(a.format, "jsonl") && strcmp(a.format, "csv")))
		return audit_cli_usage("export takes --format jsonl|csv and "
				       "--from SEQ");
	return audit_cli_export(argv[optind + 1],
				a.format && !strcmp(a.format, "csv"), from);
}
