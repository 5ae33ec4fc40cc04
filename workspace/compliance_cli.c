/*
 * `lms-workspace compliance`: the command line of workspace/compliance.h.
 *
 *   compliance run DATA      opens the rounds and queues the reminders
 *                            that are due now, as serve does every
 *                            minute (for cron, or a workspace not served)
 *   compliance status DATA [--user EMAIL] [--course ID] [--status S]
 *                          [--json]
 *                            the status of each learner's courses; with
 *                            --user also the reminders sent
 *
 * Both honour LMS_FAKE_NOW (common/clock.h). Exit codes as lms-workspace:
 * 0 success, 1 failure, 2 wrong usage.
 */
#include "workspace/compliance.h"

#include "common/clock.h"
#include "common/fs.h"
#include "workspace/people.h"
#include "workspace/store.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLI_OK 0
#define CLI_FAIL 1
#define CLI_USAGE 2

static const char compliance_cli_help[] =
	"Usage: lms-workspace compliance run DATA\n"
	"       lms-workspace compliance status DATA [--user EMAIL]\n"
	"                    [--course ID] [--status STATUS] [--json]\n"
	"\n"
	"  run       opens the training rounds that are due (recurring\n"
	"            assignments, retraining) and queues the reminders the\n"
	"            schedule asks for now; serve does the same every\n"
	"            minute. Prints what it did.\n"
	"  status    one line per learner and assigned course: EMAIL,\n"
	"            COURSE, STATUS (not_started, in_progress, completed,\n"
	"            expiring_soon, expired, overdue), DUE, CERTIFICATE and\n"
	"            EXPIRES; with --user also each reminder (entry, to\n"
	"            whom, queued, sent). --json prints the array of\n"
	"            GET /api/v1/compliance.\n"
	"\n"
	"LMS_FAKE_NOW (an ISO 8601 UTC time) sets the clock for tests.\n";

static int compliance_cli_fail(const char *what, const char *detail)
{
	fprintf(stderr, "lms-workspace: %s%s%s\n", what, detail ? ": " : "",
		detail ? detail : "");
	return CLI_FAIL;
}

static int compliance_cli_usage(const char *what)
{
	fprintf(stderr, "lms-workspace: %s\n"
			"Try 'lms-workspace compliance --help'.\n", what);
	return CLI_USAGE;
}

/* Opens DATA's workspace.db and the clock. */
static int compliance_cli_open(const char *data, struct lms_clock *clock,
			       sqlite3 **db)
{
	char *path = fs_join(data, STORE_FILE);
	int rc;

	if (clock_init(clock))
		return compliance_cli_fail("LMS_FAKE_NOW is not a valid time",
					   NULL);
	if (!path || !fs_exists(path)) {
		free(path);
		return compliance_cli_fail("not a workspace", data);
	}
	rc = store_open(path, db);
	free(path);
	return rc ? compliance_cli_fail("cannot open the database", data) : 0;
}

static int compliance_cli_run(const char *data)
{
	struct compliance_tally t;
	struct lms_clock clock;
	sqlite3 *db;
	int rc;

	if ((rc = compliance_cli_open(data, &clock, &db)))
		return rc;
	rc = compliance_run(db, clock_now(&clock), &t);
	sqlite3_close_v2(db);
	if (rc)
		return compliance_cli_fail("compliance run failed",
					   store_strerror(rc));
	printf("rounds opened: %d\nreminders queued: %d\n", t.rounds,
	       t.reminders);
	return CLI_OK;
}

static const char *compliance_cli_text(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : "-";
}

static void compliance_cli_reminders(const cJSON *row)
{
	const cJSON *r;

	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(row,
							       "reminders"))
		printf("    reminder %-10s to %s (%s) queued %s sent %s\n",
		       compliance_cli_text(r, "entry"),
		       compliance_cli_text(r, "to"),
		       compliance_cli_text(r, "role"),
		       compliance_cli_text(r, "queued"),
		       compliance_cli_text(r, "sent"));
}

static void compliance_cli_table(const cJSON *list)
{
	const cJSON *row, *cert;

	printf("%-32s %-24s %-14s %-10s %-18s %s\n", "EMAIL", "COURSE",
	       "STATUS", "DUE", "CERTIFICATE", "EXPIRES");
	cJSON_ArrayForEach(row, list) {
		cert = cJSON_GetObjectItemCaseSensitive(row, "certificate");
		printf("%-32s %-24s %-14s %-10s %-18s %s\n",
		       compliance_cli_text(row, "email"),
		       compliance_cli_text(row, "course"),
		       compliance_cli_text(row, "status"),
		       compliance_cli_text(row, "due"),
		       compliance_cli_text(cert, "number"),
		       compliance_cli_text(cert, "expires"));
		compliance_cli_reminders(row);
	}
}

/* The options of status into f; 0, or an exit code. */
static int compliance_cli_filter(sqlite3 *db, const char *email,
				 const char *status,
				 struct compliance_filter *f)
{
	struct people_user u;

	if (status && (f->status = compliance_status_parse(status)) < 0)
		return compliance_cli_usage("unknown status");
	if (!email)
		return 0;
	if (people_user_by_email(db, email, &u, NULL, 0))
		return compliance_cli_fail("no such user", email);
	f->user_id = u.id;
	f->reminders = 1;
	return 0;
}

static int compliance_cli_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "course", required_argument, NULL, 'c' },
		{ "status", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct compliance_filter f = { .status = -1 };
	const char *email = NULL, *status = NULL;
	struct lms_clock clock;
	int c, json = 0, rc;
	sqlite3 *db;
	cJSON *list;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'u')
			email = optarg;
		else if (c == 'c')
			f.course = optarg;
		else if (c == 's')
			status = optarg;
		else if (c == 'j')
			json = 1;
		else
			return compliance_cli_usage("unknown option");
	}
	if (optind != argc - 1)
		return compliance_cli_usage("compliance status needs DATA");
	if ((rc = compliance_cli_open(argv[optind], &clock, &db)))
		return rc;
	rc = compliance_cli_filter(db, email, status, &f);
	if (!rc && compliance_list_json(db, &f, clock_now(&clock), &list))
		rc = compliance_cli_fail("cannot read the status", NULL);
	sqlite3_close_v2(db);
	if (rc)
		return rc;
	if (json) {
		char *text = cJSON_PrintUnformatted(list);

		printf("%s\n", text ? text : "[]");
		cJSON_free(text);
	} else {
		compliance_cli_table(list);
	}
	cJSON_Delete(list);
	return CLI_OK;
}

int compliance_cli(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(compliance_cli_help, stdout);
			return CLI_OK;
		}
	if (argc < 2)
		return compliance_cli_usage("compliance needs run or status");
	if (!strcmp(argv[1], "run")) {
		if (argc != 3)
			return compliance_cli_usage("compliance run needs "
						    "DATA");
		return compliance_cli_run(argv[2]);
	}
	if (!strcmp(argv[1], "status"))
		return compliance_cli_status(argc - 1, argv + 1);
	return compliance_cli_usage("unknown compliance command");
}
