/*
 * `lms-workspace certificate`: the command line of workspace/certtpl.h.
 *
 *   certificate template DATA FILE.json [--signature PNG]
 *                            changes the certificate template as
 *                            PUT /api/v1/certificate-template does, with
 *                            a new signature image in the same
 *                            transaction
 *   certificate template DATA --signature PNG
 *                            only stores the signature image
 *   certificate template DATA --show
 *                            prints the template as GET shows it
 *
 * A refused text or image is one line on stderr and exit 1, and nothing
 * is changed. Exit codes as lms-workspace: 0 success, 1 failure, 2 wrong
 * usage.
 */
#include "workspace/certtpl.h"

#include "common/clock.h"
#include "common/fs.h"
#include "workspace/audit.h"
#include "workspace/store.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CERTTPL_CLI_OK 0
#define CERTTPL_CLI_FAIL 1
#define CERTTPL_CLI_USAGE 2
#define CERTTPL_CLI_FILE_MAX (1024 * 1024) /* bytes of FILE.json */

static const char certtpl_cli_help[] =
	"Usage: lms-workspace certificate template DATA FILE.json\n"
	"                    [--signature PNG]\n"
	"       lms-workspace certificate template DATA --signature PNG\n"
	"       lms-workspace certificate template DATA --show\n"
	"\n"
	"Changes or shows the wording of the academy's certificates. FILE\n"
	"is JSON as PUT /api/v1/certificate-template takes it, each member\n"
	"optional:\n"
	"\n"
	"  {\"title\": {\"de\": \"Teilnahmebescheinigung\", \"en\": \"...\"},\n"
	"   \"body\": {\"de\": \"{{learner}} hat die Schulung {{course}} am\n"
	"            {{issued}} erfolgreich abgeschlossen.\", \"en\": ...},\n"
	"   \"signer\": \"Dr. Anna Beispiel\\nLeitung der Akademie\",\n"
	"   \"signature\": true}\n"
	"\n"
	"A text is a string for both languages or {\"de\", \"en\"}; null\n"
	"returns it to the built-in one. Placeholders: {{learner}},\n"
	"{{course}}, {{issued}}, {{expires}}, {{number}}, {{academy}},\n"
	"{{revision}}. The title is one line, the body up to 12 lines and\n"
	"must name {{learner}} and {{course}}, the signer up to 2 lines\n"
	"under the signature. \"signature\": true needs a stored image or\n"
	"--signature; false removes the image.\n"
	"\n"
	"  --signature PNG  the signature image: a PNG of at most 512 KiB\n"
	"  --show           print the template (the built-in texts where\n"
	"                   none is set) as JSON\n"
	"\n"
	"A refused text or image exits 1 with the reason; nothing changes.\n";

static int certtpl_cli_fail(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static int certtpl_cli_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("lms-workspace: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CERTTPL_CLI_FAIL;
}

static int certtpl_cli_usage(const char *what)
{
	fprintf(stderr, "lms-workspace: %s\n"
			"Try 'lms-workspace certificate --help'.\n", what);
	return CERTTPL_CLI_USAGE;
}

/* What one `certificate template` asks for. */
struct certtpl_cli_args {
	const char *data, *file, *signature;
	int show;
};

/* Reads the file at path (at most max bytes) into out. */
static int certtpl_cli_read(const char *path, size_t max, const char *what,
			    struct buf *out)
{
	int rc = fs_read_file(path, max, out);

	if (rc == -EFBIG)
		return certtpl_cli_fail("%s %s is larger than %zu KiB", what,
					path, max / 1024);
	if (rc)
		return certtpl_cli_fail("cannot read %s %s: %s", what, path,
					strerror(-rc));
	return 0;
}

/* The change of the args into c: the JSON (kept in *json for the texts
 * c borrows) and the image (in png). */
static int certtpl_cli_change(const struct certtpl_cli_args *a,
			      struct certtpl_change *c, cJSON **json,
			      struct buf *png)
{
	char why[CERTTPL_WHY_MAX];
	struct buf text;
	int rc;

	memset(c, 0, sizeof(*c));
	buf_init(&text);
	if (a->file && (rc = certtpl_cli_read(a->file, CERTTPL_CLI_FILE_MAX,
					      "the template", &text)))
		return rc;
	if (a->file && !(*json = cJSON_ParseWithLength(buf_cstr(&text),
						       text.len))) {
		buf_release(&text);
		return certtpl_cli_fail("%s is not JSON", a->file);
	}
	buf_release(&text);
	if (*json && certtpl_parse(*json, c, why, sizeof(why)))
		return certtpl_cli_fail("%s: %s", a->file, why);
	if (!a->signature)
		return 0;
	if ((rc = certtpl_cli_read(a->signature, CERTTPL_SIGNATURE_MAX,
				   "the signature image", png)))
		return rc;
	if (certtpl_signature_check(png->data, png->len, why, sizeof(why)))
		return certtpl_cli_fail("%s: %s", a->signature, why);
	c->image = png->data;
	c->image_len = png->len;
	return 0;
}

/* Opens DATA's workspace.db. */
static int certtpl_cli_open(const char *data, sqlite3 **db)
{
	char *path = fs_join(data, STORE_FILE);
	int rc;

	if (!path || !fs_exists(path)) {
		free(path);
		return certtpl_cli_fail("%s is not a workspace (no %s)", data,
					STORE_FILE);
	}
	rc = store_open(path, db);
	free(path);
	return rc ? certtpl_cli_fail("cannot open the database of %s", data) :
		    0;
}

static int certtpl_cli_show(sqlite3 *db)
{
	cJSON *o;
	char *text;
	int rc = certtpl_json(db, &o);

	if (rc)
		return certtpl_cli_fail("cannot read the template: %s",
					certtpl_strerror(rc));
	text = cJSON_Print(o);
	cJSON_Delete(o);
	if (!text)
		return certtpl_cli_fail("out of memory");
	printf("%s\n", text);
	free(text);
	return CERTTPL_CLI_OK;
}

static int certtpl_cli_store(sqlite3 *db, const struct certtpl_cli_args *a)
{
	struct certtpl_change c;
	char why[CERTTPL_WHY_MAX];
	struct lms_clock clock;
	struct audit_actor cli = { 0, "cli" };
	cJSON *json = NULL;
	struct buf png;
	int rc;

	buf_init(&png);
	if (clock_init(&clock))
		rc = certtpl_cli_fail("LMS_FAKE_NOW is not a valid time");
	else
		rc = certtpl_cli_change(a, &c, &json, &png);
	if (!rc) {
		rc = certtpl_apply_audited(db, &cli, &c, clock_now(&clock),
					   c.image ? "texts and signature" :
						     "texts",
					   why, sizeof(why));
		if (rc == CERTTPL_EINVAL)
			rc = certtpl_cli_fail("%s", why);
		else if (rc)
			rc = certtpl_cli_fail("cannot store the template: %s",
					      certtpl_strerror(rc));
	}
	cJSON_Delete(json);
	buf_release(&png);
	return rc;
}

/* The options and operands of `certificate template` into a. */
static int certtpl_cli_parse(int argc, char **argv,
			     struct certtpl_cli_args *a)
{
	static const struct option opts[] = {
		{ "signature", required_argument, NULL, 's' },
		{ "show", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(a, 0, sizeof(*a));
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 's')
			a->signature = optarg;
		else if (c == 'S')
			a->show = 1;
		else if (c == 'h')
			return fputs(certtpl_cli_help, stdout), -1;
		else
			return certtpl_cli_usage("unknown or incomplete "
						 "option");
	}
	if (optind < argc)
		a->data = argv[optind++];
	if (optind < argc)
		a->file = argv[optind++];
	if (!a->data || optind < argc)
		return certtpl_cli_usage("certificate template needs DATA "
					 "and at most one FILE.json");
	if (a->show && (a->file || a->signature))
		return certtpl_cli_usage("--show takes no FILE or "
					 "--signature");
	if (!a->show && !a->file && !a->signature)
		return certtpl_cli_usage("certificate template needs "
					 "FILE.json, --signature or --show");
	return 0;
}

static int certtpl_cli_template(int argc, char **argv)
{
	struct certtpl_cli_args a;
	sqlite3 *db;
	int rc = certtpl_cli_parse(argc, argv, &a);

	if (rc)
		return rc < 0 ? CERTTPL_CLI_OK : rc;
	if ((rc = certtpl_cli_open(a.data, &db)))
		return rc;
	rc = a.show ? certtpl_cli_show(db) : certtpl_cli_store(db, &a);
	sqlite3_close_v2(db);
	return rc;
}

int certtpl_cli(int argc, char **argv)
{
	if (argc < 2)
		return certtpl_cli_usage("certificate needs template");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(certtpl_cli_help, stdout);
		return CERTTPL_CLI_OK;
	}
	if (!strcmp(argv[1], "template"))
		return certtpl_cli_template(argc - 1, argv + 1);
	return certtpl_cli_usage("unknown certificate command");
}
