/*
 * lms-workspace: the command line of a tenant's workspace. Each
 * subcommand parses its own options and calls the module that does the
 * work; this file only dispatches, prints help and turns results into
 * exit codes: 0 success, 1 failure, 2 wrong usage. Errors are one line
 * on stderr, "lms-workspace: ...".
 */
#include "common/clock.h"
#include "common/crypto.h"
#include "common/db.h"
#include "common/fs.h"
#include "common/gitstore.h"
#include "common/http.h"
#include "common/log.h"
#include "common/password.h"
#include "proto/proto.h"
#include "workspace/audit.h"
#include "workspace/catalog.h"
#include "workspace/certtpl.h"
#include "workspace/compliance.h"
#include "workspace/enroll.h"
#include "workspace/import.h"
#include "workspace/mail.h"
#include "workspace/people.h"
#include "workspace/serve.h"
#include "workspace/settings.h"
#include "workspace/store.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAIN_OK 0
#define MAIN_FAIL 1
#define MAIN_USAGE 2
#define MAIN_PROG "lms-workspace"
#define MAIN_STDIN_MAX (64 * 1024) /* bytes of a setting read from stdin */

/* Whom the audit log names for a change made by a command. */
static const struct audit_actor main_cli_actor = { 0, "cli" };

static const char main_help[] =
	"Usage: lms-workspace COMMAND ...\n"
	"\n"
	"The workspace of one tenant: its academy, its own courses and the\n"
	"courses it receives from the mother.\n"
	"\n"
	"Commands:\n"
	"  init DATA --mother ADDR --token TOKEN --mother-key FINGERPRINT\n"
	"       [--listen ADDR]         enroll with the mother, create DATA\n"
	"  serve DATA [--listen ADDR] [--mother ADDR]\n"
	"                               run the workspace\n"
	"  course list DATA [--json]    the courses the workspace holds\n"
	"  course publish DATA DIR [-m MSG]\n"
	"                               publish a course of the tenant's own\n"
	"  user add DATA EMAIL --name NAME [--role R] [--attr K=V]...\n"
	"       [--password-stdin]      add a person\n"
	"  user list DATA [--json]      the people of the workspace\n"
	"  user import DATA FILE [--dry-run]\n"
	"                               add or update people from a CSV file\n"
	"  user invite DATA EMAIL       print a link to set a first password\n"
	"  user reset DATA EMAIL        print a password reset link\n"
	"  token create DATA EMAIL      an API token for scripts\n"
	"  settings set DATA KEY VALUE  change a setting (SMTP, sender, mail\n"
	"                               templates, ...); VALUE - reads stdin\n"
	"  settings get DATA [KEY]      show the settings\n"
	"  mail flush DATA              send the mail that is due, once\n"
	"  mail send-test DATA ADDRESS  queue a test mail and send it\n"
	"  certificate template DATA FILE.json [--signature PNG]\n"
	"                               the wording of the certificates\n"
	"  certificate template DATA --show\n"
	"                               show it\n"
	"  compliance run DATA          open due rounds, queue reminders now\n"
	"  compliance status DATA [--user EMAIL] [--course ID] [--json]\n"
	"                               who has done which mandatory course\n"
	"  audit verify DATA [--head SEQ:HASH]\n"
	"                               check the audit log's hash chain\n"
	"  audit export DATA [--format jsonl|csv] [--from SEQ]\n"
	"                               the audit log with its hashes\n"
	"\n"
	"Run 'lms-workspace COMMAND --help' for more about a command.\n";

static const char main_init_help[] =
	"Usage: lms-workspace init DATA --mother ADDR --token TOKEN\n"
	"                          --mother-key FINGERPRINT [--listen ADDR]\n"
	"\n"
	"Enrolls a new workspace with the mother and creates it in DATA:\n"
	"a key pair (workspace.key), workspace.db and content.git.\n"
	"\n"
	"  --mother ADDR        the mother's sync address, host:port\n"
	"                       (127.0.0.1:8601 on one machine), or\n"
	"                       tls://host:port for a mother serving with\n"
	"                       --sync-tls (workspaces on other hosts)\n"
	"  --token TOKEN        the one-time token from `lms-mother tenant "
	"add`\n"
	"  --mother-key FP      the mother's key fingerprint (64 hex digits)"
	"\n"
	"  --listen ADDR        HTTP address of the workspace\n"
	"                       (default 127.0.0.1:8610)\n"
	"\n"
	"Refuses a DATA that is already a workspace. On failure nothing is\n"
	"left behind, so the command can be run again.\n";

static const char main_serve_help[] =
	"Usage: lms-workspace serve DATA [--listen ADDR] [--mother ADDR]\n"
	"                              [--web DIR] [--trusted-proxy IP]\n"
	"\n"
	"Runs the workspace: its HTTP API and the sync with the mother.\n"
	"SIGTERM or SIGINT stop it cleanly; logs go to stderr.\n"
	"\n"
	"  --listen ADDR        HTTP address (default: the one given at init)"
	"\n"
	"  --mother ADDR        the mother's sync address for this run,\n"
	"                       host:port or tls://host:port\n"
	"                       (default: the one given at init)\n"
	"  --web DIR            the web pages' directory (default:\n"
	"                       $LMS_WEB_DIR, else the one built in)\n"
	"  --trusted-proxy IP   the reverse proxy in front (e.g. 127.0.0.1):\n"
	"                       for its requests the client is the last\n"
	"                       address of X-Forwarded-For (login throttle)\n";

static const char main_course_help[] =
	"Usage: lms-workspace course list DATA [--json]\n"
	"       lms-workspace course publish DATA DIR [-m MSG]\n"
	"\n"
	"  list      the courses the workspace holds: ID, ORIGIN (mother or\n"
	"            local), REVISION and TITLE; --json prints an array of\n"
	"            {\"id\", \"title\", \"origin\", \"revision\"}\n"
	"  publish   validates the course in DIR and publishes it as a new\n"
	"            revision of the tenant's own course; prints the\n"
	"            revision. -m MSG sets the revision's message.\n";

static const char main_list_help[] =
	"Usage: lms-workspace course list DATA [--json]\n"
	"\n"
	"Lists the courses the workspace in DATA holds, sorted by id, as a\n"
	"table (ID, ORIGIN, REVISION, TITLE) or with --json as an array of\n"
	"{\"id\", \"title\", \"origin\", \"revision\"}. Works while serve "
	"runs.\n";

static const char main_publish_help[] =
	"Usage: lms-workspace course publish DATA DIR [-m MSG]\n"
	"\n"
	"Validates the course in DIR (course.json, lessons, quizzes, media)\n"
	"and publishes it as the next revision of a course of the tenant's\n"
	"own. Prints the new revision id. An id used by a mother course is\n"
	"refused. Works whether or not serve runs.\n"
	"\n"
	"  -m, --message MSG    the revision's message\n";

static int main_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static int main_error(const char *fmt, ...)
{
	va_list ap;

	fputs(MAIN_PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return MAIN_FAIL;
}

/* A usage error: the reason and where to read on. */
static int main_usage(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int main_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs(MAIN_PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '" MAIN_PROG "%s%s --help'.\n", *cmd ? " " : "",
		cmd);
	return MAIN_USAGE;
}

/* Reports what getopt_long did not accept. */
static int main_bad_option(const char *cmd, int c, char **argv)
{
	const char *arg = argv[optind - 1];

	if (c == ':')
		return main_usage(cmd, "option '%s' needs a value", arg);
	if (optopt && optopt != '?')
		return main_usage(cmd, "unknown option '-%c'", optopt);
	return main_usage(cmd, "unknown option '%s'", arg);
}

/* ---- init ---- */

static int main_init(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mother", required_argument, NULL, 'M' },
		{ "token", required_argument, NULL, 'T' },
		{ "mother-key", required_argument, NULL, 'K' },
		{ "listen", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct enroll_opts o = { 0 };
	struct sockaddr_storage addr;
	uint8_t raw[CRYPTO_SHA256_LEN];
	char tenant[IDS_MAX + 1], err[512];
	int c;

	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'M': o.mother = optarg; break;
		case 'T': o.token = optarg; break;
		case 'K': o.fingerprint = optarg; break;
		case 'L': o.listen = optarg; break;
		case 'h': fputs(main_init_help, stdout); return MAIN_OK;
		default: return main_bad_option("init", c, argv);
		}
	}
	if (argc - optind != 1)
		return main_usage("init", "init needs exactly one DATA "
				  "directory");
	if (!o.mother || !o.token || !o.fingerprint)
		return main_usage("init", "init needs --mother, --token and "
				  "--mother-key");
	if (crypto_unhex(o.fingerprint, raw, sizeof(raw)))
		return main_usage("init", "--mother-key must be 64 hex "
				  "digits");
	if (!*o.token || strlen(o.token) > PROTO_MAX_TOKEN)
		return main_usage("init", "--token must be 1 to %d "
				  "characters", PROTO_MAX_TOKEN);
	if (o.listen && http_parse_addr(o.listen, &addr))
		return main_usage("init", "--listen must be host:port, e.g. "
				  "127.0.0.1:8610");
	o.data_dir = argv[optind];

	if (enroll_run(&o, tenant, err, sizeof(err)))
		return main_error("%s", err);
	printf("enrolled as tenant %s\n", tenant);
	return MAIN_OK;
}

/* ---- serve ---- */

/* 1 when s is an IPv4 or IPv6 address as text. */
static int main_is_ip(const char *s)
{
	unsigned char bin[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, bin) == 1 ||
	       inet_pton(AF_INET6, s, bin) == 1;
}

static int main_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'L' },
		{ "mother", required_argument, NULL, 'M' },
		{ "web", required_argument, NULL, 'W' },
		{ "trusted-proxy", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct serve_opts o = { 0 };
	char err[512];
	int c;

	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'L': o.listen = optarg; break;
		case 'M': o.mother = optarg; break;
		case 'W': o.web_dir = optarg; break;
		case 'P': o.trusted_proxy = optarg; break;
		case 'h': fputs(main_serve_help, stdout); return MAIN_OK;
		default: return main_bad_option("serve", c, argv);
		}
	}
	if (argc - optind != 1)
		return main_usage("serve", "serve needs exactly one DATA "
				  "directory");
	o.data_dir = argv[optind];
	if (o.trusted_proxy && !main_is_ip(o.trusted_proxy))
		return main_usage("serve", "--trusted-proxy needs an IP "
				  "address, e.g. 127.0.0.1");
	log_init(MAIN_PROG, LOG_INFO);
	if (serve_run(&o, err, sizeof(err)))
		return main_error("%s", err);
	return MAIN_OK;
}

/* ---- course list, course publish ---- */

/* Opens DATA's database for reading the catalog. */
static int main_open_workspace(const char *data, sqlite3 **db)
{
	char *path = fs_join(data, STORE_FILE);
	int rc = MAIN_OK;

	if (!path)
		return main_error("out of memory");
	if (!fs_exists(path))
		rc = main_error("%s is not a workspace (no %s)", data,
				STORE_FILE);
	else if (store_open(path, db))
		rc = main_error("cannot open %s", path);
	free(path);
	return rc;
}

static int main_course_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	sqlite3 *db = NULL;
	char *json;
	int c, as_json = 0, rc;

	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': as_json = 1; break;
		case 'h': fputs(main_list_help, stdout); return MAIN_OK;
		default: return main_bad_option("course list", c, argv);
		}
	}
	if (argc - optind != 1)
		return main_usage("course list", "course list needs exactly "
				  "one DATA directory");
	rc = main_open_workspace(argv[optind], &db);
	if (rc)
		return rc;
	if (!as_json) {
		rc = catalog_print_table(db, stdout) ? MAIN_FAIL : MAIN_OK;
	} else if (catalog_json(db, &json) == 0) {
		printf("%s\n", json);
		cJSON_free(json);
	} else {
		rc = MAIN_FAIL;
	}
	sqlite3_close_v2(db);
	if (rc)
		return main_error("cannot read the course list");
	return MAIN_OK;
}

static int main_course_publish(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "message", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char id[IDS_MAX + 1], rev[IDS_REVISION_LEN + 1], err[600];
	const char *message = NULL;
	int c;

	while ((c = getopt_long(argc, argv, ":hm:", opts, NULL)) != -1) {
		switch (c) {
		case 'm': message = optarg; break;
		case 'h': fputs(main_publish_help, stdout); return MAIN_OK;
		default: return main_bad_option("course publish", c, argv);
		}
	}
	if (argc - optind != 2)
		return main_usage("course publish", "course publish needs "
				  "DATA and DIR");
	if (catalog_publish(argv[optind], argv[optind + 1], message, id, rev,
			    err, sizeof(err)))
		return main_error("%s", err);
	printf("%s\n", rev);
	return MAIN_OK;
}

static int main_course(int argc, char **argv)
{
	if (argc < 2)
		return main_usage("course", "course needs list or publish");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(main_course_help, stdout);
		return MAIN_OK;
	}
	if (!strcmp(argv[1], "list"))
		return main_course_list(argc - 1, argv + 1);
	if (!strcmp(argv[1], "publish"))
		return main_course_publish(argc - 1, argv + 1);
	return main_usage("course", "unknown course command '%s'", argv[1]);
}

/* ---- user add, user list, token create ---- */

#define MAIN_MAX_ATTRS 32

static const char main_user_help[] =
	"Usage: lms-workspace user add DATA EMAIL --name NAME [--role R]\n"
	"                              [--attr K=V]... [--password-stdin]\n"
	"       lms-workspace user list DATA [--json]\n"
	"       lms-workspace user invite DATA EMAIL\n"
	"       lms-workspace user reset DATA EMAIL\n"
	"       lms-workspace user import DATA FILE [--dry-run]\n"
	"\n"
	"  add    adds a person; prints the new user's id\n"
	"  invite prints a link that lets a person set a first password\n"
	"  reset  prints a link that lets a person set a new password\n"
	"  list   the people of the workspace\n"
	"  import adds or updates people from a CSV file\n";

static const char main_user_add_help[] =
	"Usage: lms-workspace user add DATA EMAIL --name NAME [--role R]\n"
	"                              [--attr K=V]... [--password-stdin]\n"
	"\n"
	"Adds a person to the workspace in DATA and prints the new user's id.\n"
	"The email is stored lower-case and must not be taken yet.\n"
	"\n"
	"  --name NAME          the person's name, as shown to others\n"
	"  --role R             admin, manager or learner (default learner)\n"
	"  --attr K=V           an attribute such as department=Care or\n"
	"                       location=Bonn; keys are a-z, 0-9, '_', '-';\n"
	"                       may be given again for other keys\n"
	"  --password-stdin     read the password from the first line of\n"
	"                       standard input (without it the person cannot\n"
	"                       log in with a password)\n";

static const char main_user_list_help[] =
	"Usage: lms-workspace user list DATA [--json]\n"
	"\n"
	"Lists the people of the workspace in DATA by id as a table (ID,\n"
	"EMAIL, ROLE, NAME) or with --json as an array of {\"id\", \"email\",\n"
	"\"name\", \"role\", \"attributes\", \"created_at\"}.\n";

static const char main_token_help[] =
	"Usage: lms-workspace token create DATA EMAIL\n"
	"\n"
	"Creates an API token for the person with EMAIL and prints it. The\n"
	"token is shown only now; scripts send it as\n"
	"'Authorization: Bearer TOKEN' and act with that person's role.\n";

/* Reads the first line of stdin as a password (without its line end)
 * and hashes it into hash. */
static int main_read_password(char *hash, size_t cap)
{
	char *line = NULL;
	size_t n = 0;
	ssize_t len = getline(&line, &n, stdin);
	int rc;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = 0;
	if (len <= 0)
		rc = main_error("no password on standard input");
	else if (len > PASSWORD_MAX)
		rc = main_error("the password is longer than %d bytes",
				PASSWORD_MAX);
	else if (password_hash(line, (size_t)len, hash, cap))
		rc = main_error("cannot hash the password");
	else
		rc = MAIN_OK;
	if (line)
		explicit_bzero(line, n);
	free(line);
	return rc;
}

/* Splits K=V in place into an attribute. */
static int main_parse_attr(char *arg, struct people_new_user *u,
			   struct people_attr *attrs)
{
	char *eq = strchr(arg, '=');

	if (u->nattrs == MAIN_MAX_ATTRS)
		return main_usage("user add", "at most %d --attr",
				  MAIN_MAX_ATTRS);
	if (!eq)
		return main_usage("user add", "--attr needs KEY=VALUE");
	*eq = 0;
	attrs[u->nattrs] = (struct people_attr){ arg, eq + 1 };
	if (!people_attr_valid(&attrs[u->nattrs]))
		return main_usage("user add", "--attr %s: keys are 1 to %d "
				  "of a-z, 0-9, '_' and '-', values 1 to %d "
				  "bytes without control characters", arg,
				  PEOPLE_ATTR_KEY_MAX, PEOPLE_ATTR_VALUE_MAX);
	for (size_t i = 0; i < u->nattrs; i++)
		if (!strcmp(attrs[i].key, arg))
			return main_usage("user add", "--attr %s given twice",
					  arg);
	u->nattrs++;
	return MAIN_OK;
}

static int main_user_store(const char *data, struct people_new_user *u)
{
	struct lms_clock clock;
	sqlite3 *db = NULL;
	int64_t id;
	int rc;

	if (clock_init(&clock))
		return main_error("LMS_FAKE_NOW is not a valid time");
	u->created_at = clock_now(&clock);
	rc = main_open_workspace(data, &db);
	if (rc)
		return rc;
	rc = people_user_add_audited(db, &main_cli_actor, u, &id);
	sqlite3_close_v2(db);
	if (rc == PEOPLE_EEXISTS)
		return main_error("a user with the email %s exists already",
				  u->email);
	if (rc == STORE_EINVAL)
		return main_error("the user was refused: invalid values");
	if (rc)
		return main_error("cannot add the user: %s",
				  store_strerror(rc));
	printf("%lld\n", (long long)id);
	return MAIN_OK;
}

static int main_user_add(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "role", required_argument, NULL, 'r' },
		{ "attr", required_argument, NULL, 'a' },
		{ "password-stdin", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct people_attr attrs[MAIN_MAX_ATTRS];
	struct people_new_user u = { .role = PEOPLE_ROLE_LEARNER,
				     .attrs = attrs };
	char email[PEOPLE_EMAIL_MAX + 1], hash[PASSWORD_HASH_MAX];
	const char *role = NULL;
	int c, rc, with_password = 0;

	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'n': u.name = optarg; break;
		case 'r': role = optarg; break;
		case 'a':
			rc = main_parse_attr(optarg, &u, attrs);
			if (rc)
				return rc;
			break;
		case 'p': with_password = 1; break;
		case 'h': fputs(main_user_add_help, stdout); return MAIN_OK;
		default: return main_bad_option("user add", c, argv);
		}
	}
	if (argc - optind != 2)
		return main_usage("user add", "user add needs DATA and EMAIL");
	if (!u.name)
		return main_usage("user add", "user add needs --name");
	if (role && people_role_parse(role, &u.role))
		return main_usage("user add", "--role must be admin, manager "
				  "or learner");
	if (!people_name_valid(u.name))
		return main_usage("user add", "--name must be 1 to %d bytes "
				  "without control characters",
				  PEOPLE_NAME_MAX);
	if (people_email_normalize(argv[optind + 1], email, sizeof(email)))
		return main_error("'%s' is not a valid email address",
				  argv[optind + 1]);
	u.email = email;
	if (with_password) {
		rc = main_read_password(hash, sizeof(hash));
		if (rc)
			return rc;
		u.password_hash = hash;
	}
	return main_user_store(argv[optind], &u);
}

static int main_user_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	sqlite3 *db = NULL;
	cJSON *list;
	char *text;
	int c, as_json = 0, rc;

	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': as_json = 1; break;
		case 'h': fputs(main_user_list_help, stdout); return MAIN_OK;
		default: return main_bad_option("user list", c, argv);
		}
	}
	if (argc - optind != 1)
		return main_usage("user list", "user list needs exactly one "
				  "DATA directory");
	rc = main_open_workspace(argv[optind], &db);
	if (rc)
		return rc;
	if (!as_json) {
		rc = people_users_print_table(db, stdout);
	} else if ((rc = people_users_json(db, &list)) == 0) {
		text = cJSON_PrintUnformatted(list);
		cJSON_Delete(list);
		if (text)
			printf("%s\n", text);
		else
			rc = STORE_ENOMEM;
		cJSON_free(text);
	}
	sqlite3_close_v2(db);
	if (rc)
		return main_error("cannot read the user list");
	return MAIN_OK;
}

static const char main_user_import_help[] =
	"Usage: lms-workspace user import DATA FILE [--dry-run]\n"
	"\n"
	"Adds or updates the people of the CSV file FILE in the workspace in\n"
	"DATA, all or none: UTF-8, separated by ',' or ';', a first line\n"
	"naming the columns email, name, role (optional) and attribute keys\n"
	"(department, location ...). People are matched by email; an empty\n"
	"attribute cell removes the attribute, an empty role keeps it. New\n"
	"people get no password (send them an invitation). Prints how many\n"
	"were created, updated and unchanged, or every bad line as\n"
	"FILE:LINE: message on stderr (then nothing changed, exit 1).\n"
	"Works while serve runs.\n"
	"\n"
	"  --dry-run            check and count, change nothing\n";

#define MAIN_IMPORT_MAX (16u << 20) /* bytes of a CSV file */

/* Prints the outcome of an import: counts, or the errors of the file. */
static int main_import_print(const char *file, int rc, const cJSON *report)
{
	const cJSON *e, *errors = cJSON_GetObjectItem(report, "errors");

	if (rc == 0) {
		printf("%s%d created, %d updated, %d unchanged\n",
		       cJSON_IsTrue(cJSON_GetObjectItem(report, "dry_run")) ?
		       "dry run, nothing changed: " : "",
		       cJSON_GetObjectItem(report, "created")->valueint,
		       cJSON_GetObjectItem(report, "updated")->valueint,
		       cJSON_GetObjectItem(report, "unchanged")->valueint);
		return MAIN_OK;
	}
	cJSON_ArrayForEach(e, errors)
		fprintf(stderr, "%s:%d: %s\n", file,
			cJSON_GetObjectItem(e, "line")->valueint,
			cJSON_GetObjectItem(e, "message")->valuestring);
	return main_error("%s has errors; nothing was imported", file);
}

static int main_user_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct buf text = { 0 };
	struct lms_clock clock;
	cJSON *report = NULL;
	sqlite3 *db = NULL;
	int c, rc, dry_run = 0;

	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'n': dry_run = 1; break;
		case 'h': fputs(main_user_import_help, stdout); return MAIN_OK;
		default: return main_bad_option("user import", c, argv);
		}
	}
	if (argc - optind != 2)
		return main_usage("user import", "user import needs DATA and "
				  "FILE");
	if (clock_init(&clock))
		return main_error("LMS_FAKE_NOW is not a valid time");
	if (fs_read_file(argv[optind + 1], MAIN_IMPORT_MAX, &text))
		return main_error("cannot read %s (at most %u bytes)",
				  argv[optind + 1], MAIN_IMPORT_MAX);
	rc = main_open_workspace(argv[optind], &db);
	if (!rc) {
		rc = import_csv(db, (const char *)text.data, text.len,
				dry_run, clock_now(&clock), &report);
		rc = rc && rc != IMPORT_EFILE ?
			     main_error("cannot import: %s",
					store_strerror(rc)) :
			     main_import_print(argv[optind + 1], rc, report);
	}
	sqlite3_close_v2(db);
	cJSON_Delete(report);
	buf_release(&text);
	return rc;
}

static const char main_user_invite_help[] =
	"Usage: lms-workspace user invite DATA EMAIL [--mail]\n"
	"\n"
	"Makes an invitation for the person with EMAIL in the workspace in\n"
	"DATA and prints the path of its link, /#/password?token=... Opened\n"
	"at the workspace's web address, the link lets the person set a\n"
	"password and signs them in. It works once and for 7 days; a newer\n"
	"invitation for the person replaces it. Works while serve runs.\n"
	"With --mail the link is also mailed to the person (queued in the\n"
	"outbox; serve or `mail flush` sends it).\n";

static const char main_user_reset_help[] =
	"Usage: lms-workspace user reset DATA EMAIL [--mail]\n"
	"\n"
	"Makes a password reset link for the person with EMAIL in the\n"
	"workspace in DATA and prints its path, /#/password?token=...\n"
	"Opened at the workspace's web address, the link lets the person set\n"
	"a new password, ends their other sessions and signs them in. It\n"
	"works once and for 1 hour; a newer reset link replaces it. Works\n"
	"while serve runs. With --mail the link is also mailed to the\n"
	"person (queued in the outbox; serve or `mail flush` sends it).\n";

/* Queues the mail of a link just made for the person with email. */
static int main_user_link_mail(sqlite3 *db, const char *email,
			       enum people_link_kind kind, const char *url,
			       int64_t now)
{
	struct people_user u;
	int rc = people_user_by_email(db, email, &u, NULL, 0);

	if (!rc)
		rc = mail_queue_link(db, u.email, u.name, u.language,
				     kind == PEOPLE_LINK_INVITE ?
					     MAIL_LINK_INVITE :
					     MAIL_LINK_RESET, url, now);
	return rc ? STORE_EDB : 0;
}

/* user invite, user reset: a password link of kind. */
static int main_user_link(int argc, char **argv, enum people_link_kind kind)
{
	static const struct option opts[] = {
		{ "mail", no_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *cmd = kind == PEOPLE_LINK_INVITE ? "user invite" :
						       "user reset";
	char url[PEOPLE_LINK_URL_MAX];
	struct lms_clock clock;
	sqlite3 *db = NULL;
	int64_t expires;
	int c, rc, mail = 0;

	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'm': mail = 1; break;
		case 'h':
			fputs(kind == PEOPLE_LINK_INVITE ?
				      main_user_invite_help :
				      main_user_reset_help, stdout);
			return MAIN_OK;
		default: return main_bad_option(cmd, c, argv);
		}
	}
	if (argc - optind != 2)
		return main_usage(cmd, "%s needs DATA and EMAIL", cmd);
	if (clock_init(&clock))
		return main_error("LMS_FAKE_NOW is not a valid time");
	rc = main_open_workspace(argv[optind], &db);
	if (rc)
		return rc;
	rc = people_link_create_by_email(db, argv[optind + 1], kind,
					 clock_now(&clock), url, &expires);
	if (!rc && mail)
		rc = main_user_link_mail(db, argv[optind + 1], kind, url,
					 clock_now(&clock));
	sqlite3_close_v2(db);
	if (rc == STORE_ENOTFOUND)
		return main_error("no user with the email %s",
				  argv[optind + 1]);
	if (rc)
		return main_error("cannot make the link: %s",
				  store_strerror(rc));
	printf("%s\n", url);
	explicit_bzero(url, sizeof(url));
	return MAIN_OK;
}

static int main_user(int argc, char **argv)
{
	if (argc < 2)
		return main_usage("user", "user needs add or list");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(main_user_help, stdout);
		return MAIN_OK;
	}
	if (!strcmp(argv[1], "add"))
		return main_user_add(argc - 1, argv + 1);
	if (!strcmp(argv[1], "list"))
		return main_user_list(argc - 1, argv + 1);
	if (!strcmp(argv[1], "import"))
		return main_user_import(argc - 1, argv + 1);
	if (!strcmp(argv[1], "invite"))
		return main_user_link(argc - 1, argv + 1, PEOPLE_LINK_INVITE);
	if (!strcmp(argv[1], "reset"))
		return main_user_link(argc - 1, argv + 1, PEOPLE_LINK_RESET);
	return main_usage("user", "unknown user command '%s'", argv[1]);
}

/* A token of user u and its audit entry "token.create" (never the
 * token) in one transaction. */
static int main_token_store(sqlite3 *db, const struct people_user *u,
			    int64_t now, char *token)
{
	char object[32];
	int own = audit_begin(db), rc;

	if (own < 0)
		return STORE_EDB;
	rc = people_token_create(db, u->id, now, token);
	if (!rc)
		rc = audit_append(db, now, &main_cli_actor, "token.create",
				  audit_object(object, sizeof(object), "user",
					       u->id),
				  NULL);
	return audit_end(db, own, rc);
}

static int main_token_create(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char token[PEOPLE_SECRET_LEN + 1];
	struct people_user u;
	struct lms_clock clock;
	sqlite3 *db = NULL;
	int c, rc;

	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h': fputs(main_token_help, stdout); return MAIN_OK;
		default: return main_bad_option("token create", c, argv);
		}
	}
	if (argc - optind != 2)
		return main_usage("token create", "token create needs DATA "
				  "and EMAIL");
	if (clock_init(&clock))
		return main_error("LMS_FAKE_NOW is not a valid time");
	rc = main_open_workspace(argv[optind], &db);
	if (rc)
		return rc;
	rc = people_user_by_email(db, argv[optind + 1], &u, NULL, 0);
	if (!rc)
		rc = main_token_store(db, &u, clock_now(&clock), token);
	sqlite3_close_v2(db);
	if (rc == STORE_ENOTFOUND)
		return main_error("no user with the email %s",
				  argv[optind + 1]);
	if (rc)
		return main_error("cannot create a token: %s",
				  store_strerror(rc));
	printf("%s\n", token);
	return MAIN_OK;
}

static int main_token(int argc, char **argv)
{
	if (argc < 2)
		return main_usage("token", "token needs create");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(main_token_help, stdout);
		return MAIN_OK;
	}
	if (!strcmp(argv[1], "create"))
		return main_token_create(argc - 1, argv + 1);
	return main_usage("token", "unknown token command '%s'", argv[1]);
}

/* ---- settings set|get, mail flush|send-test ---- */

static const char main_settings_help[] =
	"Usage: lms-workspace settings set DATA KEY VALUE\n"
	"       lms-workspace settings set DATA KEY - < FILE\n"
	"       lms-workspace settings get DATA [KEY]\n"
	"\n"
	"Changes or shows the settings of the workspace in DATA; works\n"
	"while serve runs. An empty VALUE unsets KEY; VALUE - reads it from\n"
	"standard input (for a mail body of several lines; a single line\n"
	"loses its line end). get prints\n"
	"KEY=VALUE lines, all keys when KEY is left out (a mail body the\n"
	"tenant set as its count of lines); the password shows as (set).\n"
	"Keys:\n"
	"\n"
	"  smtp.url            smtp://HOST:PORT (STARTTLS when offered,\n"
	"                      required with a password unless HOST is\n"
	"                      this machine) or smtps://HOST:PORT\n"
	"  smtp.user           the SMTP user name\n"
	"  smtp.password       the SMTP password\n"
	"  mail.from           the sender: user@example.com or\n"
	"                      Name <user@example.com>\n"
	"  web.url             the academy's address, https://HOST[:PORT],\n"
	"                      for the links in mails\n"
	"  reminders.schedule  comma-separated: -N (N days before due), 0\n"
	"                      (on the due date), +N (N days overdue, also\n"
	"                      to the manager), expiry-N (N days before a\n"
	"                      certificate expires); N 1 to 365; default\n"
	"                      " SETTINGS_REMINDERS_DEFAULT "\n"
	"  mail.template.KIND.LANG.subject, mail.template.KIND.LANG.body\n"
	"                      the tenant's text of a mail, LANG de or en;\n"
	"                      unset: the built-in text. {{NAME}} is\n"
	"                      replaced; each KIND offers its own NAMEs:\n"
	"                        invite, reset: learner url academy\n"
	"                        reminder, overdue: learner course due days\n"
	"                          url academy\n"
	"                        overdue_manager: manager and the same\n"
	"                        overdue_digest: manager count list url\n"
	"                          academy\n"
	"                        expiry: learner course expires days number\n"
	"                          url academy\n"
	"                      A subject is one line of at most 200 bytes.\n"
	"\n"
	"An unknown KEY exits 2, a VALUE the key does not take (a template\n"
	"with an unknown {{NAME}} or an unclosed {{) exits 1 with the\n"
	"reason; in both cases nothing is stored.\n";

static const char main_mail_help[] =
	"Usage: lms-workspace mail flush DATA\n"
	"       lms-workspace mail send-test DATA ADDRESS\n"
	"\n"
	"  flush       sends every mail of the outbox that is due now, once,\n"
	"              through the SMTP server of the settings, and prints\n"
	"              how many were sent and how many failed; a failed\n"
	"              mail stays queued for a later attempt (serve retries\n"
	"              by itself). Exits 1 when one failed.\n"
	"  send-test   queues a test mail to ADDRESS and flushes: checks the\n"
	"              SMTP settings.\n";

static int main_settings_set(const char *data, const char *key,
			     const char *value)
{
	char why[SETTINGS_WHY_MAX];
	struct lms_clock clock;
	sqlite3 *db = NULL;
	size_t bad;
	int rc;

	if (clock_init(&clock))
		return main_error("LMS_FAKE_NOW is not a valid time");
	rc = settings_check(key, value, why);
	if (rc == SETTINGS_EKEY)
		return main_usage("settings", "%s", why);
	if (rc)
		return main_error("%s", why);
	rc = main_open_workspace(data, &db);
	if (rc)
		return rc;
	rc = settings_put_audited(db, &main_cli_actor, clock_now(&clock),
				  &key, &value, 1, &bad, why);
	sqlite3_close_v2(db);
	if (rc)
		return main_error("cannot store %s", key);
	return MAIN_OK;
}

/* settings set DATA KEY -: the value is standard input, without the
 * line end at its end when it is one line. */
static int main_settings_set_stdin(const char *data, const char *key)
{
	struct buf value;
	char chunk[4096];
	size_t n;
	int rc;

	buf_init(&value);
	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		if (value.len + n > MAIN_STDIN_MAX ||
		    buf_append(&value, chunk, n)) {
			buf_release(&value);
			return main_error("the value on stdin is larger than "
					  "%d bytes", MAIN_STDIN_MAX);
		}
	if (ferror(stdin) || memchr(buf_cstr(&value), 0, value.len)) {
		buf_release(&value);
		return main_error("cannot read a text value from stdin");
	}
	if (value.len && value.data[value.len - 1] == '\n' &&
	    !memchr(value.data, '\n', value.len - 1))
		value.data[--value.len] = 0;
	rc = main_settings_set(data, key, buf_cstr(&value));
	buf_release(&value);
	return rc;
}

static int main_settings_get(const char *data, const char *key)
{
	sqlite3 *db = NULL;
	int rc;

	if (key && !settings_known(key))
		return main_usage("settings", "unknown setting '%s'", key);
	rc = main_open_workspace(data, &db);
	if (rc)
		return rc;
	rc = settings_print(db, key, stdout);
	sqlite3_close_v2(db);
	if (rc && rc != SETTINGS_ENOTSET)
		return main_error("cannot read the settings");
	return MAIN_OK;
}

static int main_settings(int argc, char **argv)
{
	if (argc < 2)
		return main_usage("settings", "settings needs set or get");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(main_settings_help, stdout);
		return MAIN_OK;
	}
	for (int i = 2; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(main_settings_help, stdout);
			return MAIN_OK;
		}
	if (!strcmp(argv[1], "set")) {
		if (argc != 5)
			return main_usage("settings", "settings set needs "
					  "DATA, KEY and VALUE");
		if (!strcmp(argv[4], "-"))
			return main_settings_set_stdin(argv[2], argv[3]);
		return main_settings_set(argv[2], argv[3], argv[4]);
	}
	if (!strcmp(argv[1], "get")) {
		if (argc != 3 && argc != 4)
			return main_usage("settings", "settings get needs DATA"
					  " and at most one KEY");
		return main_settings_get(argv[2], argc == 4 ? argv[3] : NULL);
	}
	return main_usage("settings", "unknown settings command '%s'",
			  argv[1]);
}

/* Queues a test mail to address in its own transaction. */
static int main_mail_queue_test(sqlite3 *db, const char *address,
				int64_t now)
{
	char key[64];
	uint8_t rnd[8];
	char hex[17];
	int rc;

	if (crypto_random(rnd, sizeof(rnd)))
		return MAIL_ENOMEM;
	crypto_hex(rnd, sizeof(rnd), hex);
	snprintf(key, sizeof(key), "test:%s", hex);
	if (db_begin(db))
		return MAIL_EDB;
	rc = mail_enqueue(db, address, "Test mail of the learning platform",
			  "This mail checks the SMTP settings of the "
			  "workspace.\n", "test", key, now);
	if (!rc && db_commit(db))
		rc = MAIL_EDB;
	if (rc)
		db_rollback(db);
	return rc;
}

static int main_mail_run(const char *data, const char *address)
{
	struct lms_clock clock;
	sqlite3 *db = NULL;
	int rc, sent, failed;

	if (clock_init(&clock))
		return main_error("LMS_FAKE_NOW is not a valid time");
	rc = main_open_workspace(data, &db);
	if (rc)
		return rc;
	if (address)
		rc = main_mail_queue_test(db, address, clock_now(&clock));
	if (!rc)
		rc = mail_flush(db, clock_now(&clock), &sent, &failed);
	sqlite3_close_v2(db);
	if (rc == MAIL_EINVAL)
		return main_error("'%s' is not a mail address", address);
	if (rc)
		return main_error("cannot send mail: %s", mail_strerror(rc));
	printf("sent %d, failed %d\n", sent, failed);
	return failed ? main_error("%d mail%s not sent; see the log above",
				   failed, failed == 1 ? "" : "s") :
			MAIN_OK;
}

static int main_mail(int argc, char **argv)
{
	if (argc < 2)
		return main_usage("mail", "mail needs flush or send-test");
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(main_mail_help, stdout);
			return MAIN_OK;
		}
	if (!strcmp(argv[1], "flush")) {
		if (argc != 3)
			return main_usage("mail", "mail flush needs DATA");
		return main_mail_run(argv[2], NULL);
	}
	if (!strcmp(argv[1], "send-test")) {
		if (argc != 4)
			return main_usage("mail", "mail send-test needs DATA "
					  "and ADDRESS");
		return main_mail_run(argv[2], argv[3]);
	}
	return main_usage("mail", "unknown mail command '%s'", argv[1]);
}

/* ---- dispatch ---- */

struct main_command {
	const char *name;
	int (*run)(int argc, char **argv);
};

static const struct main_command main_commands[] = {
	{ "init", main_init },
	{ "serve", main_serve },
	{ "course", main_course },
	{ "user", main_user },
	{ "token", main_token },
	{ "settings", main_settings },
	{ "mail", main_mail },
	{ "compliance", compliance_cli },
	{ "certificate", certtpl_cli },
	{ "audit", audit_cli },
};

int main(int argc, char **argv)
{
	size_t n = sizeof(main_commands) / sizeof(main_commands[0]);
	int rc;

	log_init(MAIN_PROG, LOG_WARN);
	db_library_init();
	if (argc < 2)
		return main_usage("", "a command is needed");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		fputs(main_help, stdout);
		return MAIN_OK;
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(argv[1], main_commands[i].name))
			continue;
		opterr = 0;
		gitstore_global_init();
		rc = main_commands[i].run(argc - 1, argv + 1);
		git_libgit2_shutdown();
		return rc;
	}
	return main_usage("", "unknown command '%s'", argv[1]);
}
