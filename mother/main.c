/*
 * lms-mother: the central system of a training provider. One binary:
 * `serve` runs the daemon, the other commands administer a data
 * directory (and tell a running daemon through its control socket).
 * Commands are listed in one table that also drives --help.
 */
#include "common/db.h"
#include "common/log.h"
#include "common/password.h"
#include "mother/control.h"
#include "mother/hook.h"
#include "mother/mother.h"
#include "mother/operator.h"
#include "mother/publish.h"
#include "mother/serve.h"
#include "mother/stats.h"
#include "mother/tenant.h"

#include <cjson/cJSON.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct command {
	const char *group; /* NULL for top-level commands */
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
	const char *help;
};

static const struct command *main_current;

static int main_usage_error(const char *msg)
{
	fprintf(stderr, "lms-mother: %s\nusage: lms-mother %s\n"
			"Try 'lms-mother %s%s%s --help'.\n",
		msg, main_current->usage,
		main_current->group ? main_current->group : "",
		main_current->group ? " " : "", main_current->name);
	return 2;
}

static void main_help(const struct command *c)
{
	printf("usage: lms-mother %s\n\n%s\n", c->usage, c->help);
}

/* Parses the options shared by every command and the ones in extra.
 * Returns the option character, -1 at the end, or 2 after --help or an
 * error (the caller returns it as the exit status). */
static int main_opt(int argc, char **argv, const struct option *extra,
		    const char *shortopts, int *done)
{
	int c = getopt_long(argc, argv, shortopts, extra, NULL);

	*done = 0;
	if (c == 'h') {
		main_help(main_current);
		*done = 1;
		return 0;
	}
	if (c == '?') {
		*done = 1;
		return main_usage_error("unknown or incomplete option");
	}
	return c;
}

static int main_open(struct mother *m, const char *data)
{
	if (mother_open(m, data)) {
		fprintf(stderr, "lms-mother: %s is not a mother data directory"
				" (create one with lms-mother init)\n", data);
		return -1;
	}
	return 0;
}

static int main_print_json(cJSON *json)
{
	char *text = json ? cJSON_Print(json) : NULL;

	if (!text)
		return 1;
	printf("%s\n", text);
	free(text);
	cJSON_Delete(json);
	return 0;
}

/* ---- commands ---- */

static const struct option main_no_opts[] = {
	{ "help", no_argument, NULL, 'h' }, { 0 }
};

/* For commands without options: handles --help and checks that exactly
 * n arguments follow. Returns -1 to go on, or the exit status. */
static int main_args(int argc, char **argv, int n, const char *expected)
{
	int c, done;

	while ((c = main_opt(argc, argv, main_no_opts, "h", &done)) != -1)
		if (done)
			return c;
	if (argc - optind != n)
		return main_usage_error(expected);
	return -1;
}

static int cmd_init(int argc, char **argv)
{
	struct mother m;
	int rc = main_args(argc, argv, 1, "expected DATA");

	if (rc >= 0)
		return rc;
	if (mother_create(&m, argv[optind])) {
		fprintf(stderr, "lms-mother: cannot initialise %s\n",
			argv[optind]);
		mother_close(&m);
		return 1;
	}
	printf("mother key: %s\n", m.fingerprint);
	mother_close(&m);
	return 0;
}

static int cmd_key(int argc, char **argv)
{
	struct mother m;
	int rc = main_args(argc, argv, 1, "expected DATA");

	if (rc >= 0)
		return rc;
	if (main_open(&m, argv[optind]))
		return 1;
	printf("%s\n", m.fingerprint);
	mother_close(&m);
	return 0;
}

static int cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "listen", required_argument, NULL, 'l' },
		{ "sync-listen", required_argument, NULL, 's' },
		{ "sync-tls", no_argument, NULL, 't' },
		{ 0 }
	};
	const char *listen = SERVE_DEFAULT_LISTEN, *sync = SERVE_DEFAULT_SYNC;
	struct mother m;
	int c, done, rc, tls = 0;

	while ((c = main_opt(argc, argv, opts, "h", &done)) != -1) {
		if (done)
			return c;
		if (c == 'l')
			listen = optarg;
		else if (c == 's')
			sync = optarg;
		else if (c == 't')
			tls = 1;
	}
	if (argc - optind != 1)
		return main_usage_error("expected DATA");
	log_init("lms-mother", LOG_INFO);
	if (main_open(&m, argv[optind]))
		return 1;
	rc = serve_run(&m, listen, sync, tls);
	mother_close(&m);
	return rc ? 1 : 0;
}

static int cmd_course_create(int argc, char **argv)
{
	struct mother m;
	char *repo;
	int rc = main_args(argc, argv, 2, "expected DATA ID");

	if (rc >= 0)
		return rc;
	if (main_open(&m, argv[optind]))
		return 1;
	rc = publish_create_course(&m, argv[optind + 1], &repo);
	if (!rc)
		printf("%s\n", repo);
	free(repo);
	mother_close(&m);
	return rc ? 1 : 0;
}

static int cmd_course_publish(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "message", required_argument, NULL, 'm' },
		{ 0 }
	};
	const char *message = NULL;
	struct mother m;
	char rev[41];
	int c, done, rc;

	while ((c = main_opt(argc, argv, opts, "hm:", &done)) != -1) {
		if (done)
			return c;
		if (c == 'm')
			message = optarg;
	}
	if (argc - optind != 2)
		return main_usage_error("expected DATA DIR");
	if (main_open(&m, argv[optind]))
		return 1;
	rc = publish_dir(&m, argv[optind + 1], message, rev);
	if (!rc)
		printf("%s\n", rev);
	else
		fprintf(stderr, "lms-mother: publishing failed\n");
	mother_close(&m);
	return rc ? 1 : 0;
}

static const struct option main_json_opts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "json", no_argument, NULL, 'j' },
	{ 0 }
};

static void main_print_courses(cJSON *list)
{
	cJSON *c;

	printf("%-32s %-40s %s\n", "ID", "REVISION", "TITLE");
	cJSON_ArrayForEach(c, list) {
		cJSON *rev = cJSON_GetObjectItem(c, "revision");
		printf("%-32s %-40s %s\n",
		       cJSON_GetObjectItem(c, "id")->valuestring,
		       cJSON_IsString(rev) ? rev->valuestring : "-",
		       cJSON_GetObjectItem(c, "title")->valuestring);
	}
	cJSON_Delete(list);
}

/* A listing command: DATA [--json]; get builds the JSON, print shows it
 * as a table. */
static int main_list(int argc, char **argv,
		     cJSON *(*get)(struct mother *m), void (*print)(cJSON *))
{
	struct mother m;
	int c, done, json = 0;
	cJSON *list;

	while ((c = main_opt(argc, argv, main_json_opts, "h", &done)) != -1) {
		if (done)
			return c;
		json |= c == 'j';
	}
	if (argc - optind != 1)
		return main_usage_error("expected DATA");
	if (main_open(&m, argv[optind]))
		return 1;
	list = get(&m);
	mother_close(&m);
	if (!list)
		return 1;
	if (json)
		return main_print_json(list);
	print(list);
	return 0;
}

static int cmd_course_list(int argc, char **argv)
{
	return main_list(argc, argv, tenant_course_list_json,
			 main_print_courses);
}

static void main_print_enrollment(const struct mother *m, const char *id,
				  const char *token, int json)
{
	cJSON *o;

	if (json) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", id);
		cJSON_AddStringToObject(o, "token", token);
		cJSON_AddStringToObject(o, "mother_key", m->fingerprint);
		main_print_json(o);
		return;
	}
	printf("tenant: %s\n"
	       "enrollment token (one use, valid %d days): %s\n"
	       "mother key: %s\n\n"
	       "Enroll the tenant's workspace with:\n"
	       "  lms-workspace init DATA --mother HOST:8601 --token %s "
	       "--mother-key %s\n"
	       "(--mother tls://HOST:8601 when serve runs with --sync-tls)\n",
	       id, TENANT_TOKEN_DAYS, token, m->fingerprint, token,
	       m->fingerprint);
}

static int cmd_tenant_add(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "name", required_argument, NULL, 'n' },
		{ "domain", required_argument, NULL, 'd' },
		{ "courses", required_argument, NULL, 'c' },
		{ 0 }
	};
	const char *domains[64];
	struct tenant_new t = { .domains = domains };
	struct mother m;
	char token[65];
	int c, done, json = 0, rc;

	while ((c = main_opt(argc, argv, opts, "h", &done)) != -1) {
		if (done)
			return c;
		if (c == 'j')
			json = 1;
		else if (c == 'n')
			t.name = optarg;
		else if (c == 'c')
			t.courses = optarg;
		else if (c == 'd' && t.domain_count < 64)
			domains[t.domain_count++] = optarg;
	}
	if (argc - optind != 2)
		return main_usage_error("expected DATA ID");
	if (!t.name)
		return main_usage_error("--name is required");
	t.id = argv[optind + 1];
	if (main_open(&m, argv[optind]))
		return 1;
	rc = tenant_add(&m, &t, token);
	if (!rc)
		main_print_enrollment(&m, t.id, token, json);
	mother_close(&m);
	return rc ? 1 : 0;
}

static const char *main_connected(const struct mother *m, struct buf *out)
{
	char *sock = mother_path(m, "mother.sock");

	if (sock && control_request(sock, "connected", out))
		buf_reset(out); /* no daemon: nobody is connected */
	free(sock);
	return buf_cstr(out);
}

static void main_print_tenants(cJSON *list)
{
	cJSON *t, *c;

	printf("%-24s %-9s %-8s %s\n", "ID", "CONNECTED", "SYNCED", "NAME");
	cJSON_ArrayForEach(t, list) {
		int total = 0, synced = 0;
		char count[32];

		cJSON_ArrayForEach(c, cJSON_GetObjectItem(t, "courses")) {
			total++;
			synced += cJSON_IsString(c);
		}
		snprintf(count, sizeof(count), "%d/%d", synced, total);
		printf("%-24s %-9s %-8s %s\n",
		       cJSON_GetObjectItem(t, "id")->valuestring,
		       cJSON_IsTrue(cJSON_GetObjectItem(t, "connected")) ?
			       "yes" : "no",
		       count, cJSON_GetObjectItem(t, "name")->valuestring);
	}
	cJSON_Delete(list);
}

/* Tenants with their connection state, asked of the running daemon. */
static cJSON *main_tenants_json(struct mother *m)
{
	struct buf connected;
	cJSON *list;

	buf_init(&connected);
	list = tenant_list_json(m, main_connected(m, &connected));
	buf_release(&connected);
	return list;
}

static int cmd_tenant_list(int argc, char **argv)
{
	return main_list(argc, argv, main_tenants_json, main_print_tenants);
}

static int cmd_tenant_license(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "courses", required_argument, NULL, 'c' },
		{ 0 }
	};
	const char *courses = NULL;
	struct mother m;
	int c, done, rc;

	while ((c = main_opt(argc, argv, opts, "h", &done)) != -1) {
		if (done)
			return c;
		if (c == 'c')
			courses = optarg;
	}
	if (argc - optind != 2 || !courses)
		return main_usage_error("expected DATA ID --courses LIST");
	if (main_open(&m, argv[optind]))
		return 1;
	rc = tenant_license(&m, argv[optind + 1], courses);
	mother_close(&m);
	return rc ? 1 : 0;
}

static int cmd_tenant_token(int argc, char **argv)
{
	struct mother m;
	char token[65];
	int c, done, json = 0, rc;

	while ((c = main_opt(argc, argv, main_json_opts, "h", &done)) != -1) {
		if (done)
			return c;
		json |= c == 'j';
	}
	if (argc - optind != 2)
		return main_usage_error("expected DATA ID");
	if (main_open(&m, argv[optind]))
		return 1;
	rc = tenant_new_token(&m, argv[optind + 1], token);
	if (!rc)
		main_print_enrollment(&m, argv[optind + 1], token, json);
	mother_close(&m);
	return rc ? 1 : 0;
}

/* ---- operators and usage ---- */

/* The first line of standard input, without its line end, into out:
 * 0, or -1 when it is empty or longer than PASSWORD_MAX. */
static int main_read_password(char out[PASSWORD_MAX + 2])
{
	size_t n;

	if (!fgets(out, PASSWORD_MAX + 2, stdin))
		return -1;
	n = strcspn(out, "\r\n");
	if (n == strlen(out) && n > PASSWORD_MAX)
		return -1;
	out[n] = 0;
	return n > 0 ? 0 : -1;
}

/* A password of 24 random hex digits, for an operator added without
 * --password-stdin. */
static int main_random_password(char out[PASSWORD_MAX + 2])
{
	uint8_t raw[12];

	if (crypto_random(raw, sizeof(raw)))
		return -1;
	crypto_hex(raw, sizeof(raw), out);
	return 0;
}

static int main_operator_store(struct mother *m, const char *email,
			       const char *password)
{
	char hash[PASSWORD_HASH_MAX];
	int64_t id;
	int rc;

	if (password_hash(password, strlen(password), hash, sizeof(hash))) {
		fprintf(stderr, "lms-mother: cannot hash the password\n");
		return 1;
	}
	rc = operator_add(m->db, email, hash, clock_now(&m->clock), &id);
	explicit_bzero(hash, sizeof(hash));
	if (rc > 0)
		fprintf(stderr, "lms-mother: operator %s exists already\n",
			email);
	return rc ? 1 : 0;
}

static int cmd_operator_add(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "password-stdin", no_argument, NULL, 'p' },
		{ 0 }
	};
	char password[PASSWORD_MAX + 2];
	int c, done, from_stdin = 0, rc;
	struct mother m;

	while ((c = main_opt(argc, argv, opts, "h", &done)) != -1) {
		if (done)
			return c;
		from_stdin |= c == 'p';
	}
	if (argc - optind != 2)
		return main_usage_error("expected DATA EMAIL");
	if (!operator_email_valid(argv[optind + 1]))
		return main_usage_error("EMAIL is not an email address");
	if (from_stdin ? main_read_password(password) :
			 main_random_password(password)) {
		fprintf(stderr, "lms-mother: the password must be one line "
				"of 1 to %d bytes\n", PASSWORD_MAX);
		return 1;
	}
	if (main_open(&m, argv[optind]))
		return 1;
	rc = main_operator_store(&m, argv[optind + 1], password);
	mother_close(&m);
	if (!rc && !from_stdin)
		printf("password: %s\n", password);
	explicit_bzero(password, sizeof(password));
	return rc;
}

static int cmd_operator_token(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "name", required_argument, NULL, 'n' },
		{ 0 }
	};
	char token[OPERATOR_SECRET_LEN + 1];
	const char *name = "";
	struct mother m;
	int c, done, rc;

	while ((c = main_opt(argc, argv, opts, "h", &done)) != -1) {
		if (done)
			return c;
		if (c == 'n')
			name = optarg;
	}
	if (argc - optind != 2)
		return main_usage_error("expected DATA EMAIL");
	if (main_open(&m, argv[optind]))
		return 1;
	rc = operator_token_create(m.db, argv[optind + 1], name,
				   clock_now(&m.clock), token);
	mother_close(&m);
	if (rc > 0)
		fprintf(stderr, "lms-mother: no operator %s\n",
			argv[optind + 1]);
	if (rc)
		return 1;
	printf("%s\n", token);
	explicit_bzero(token, sizeof(token));
	return 0;
}

static cJSON *main_operators_json(struct mother *m)
{
	return operator_list_json(m->db);
}

static void main_print_operators(cJSON *list)
{
	cJSON *o;

	printf("%-40s %s\n", "EMAIL", "CREATED");
	cJSON_ArrayForEach(o, list)
		printf("%-40s %s\n",
		       cJSON_GetObjectItem(o, "email")->valuestring,
		       cJSON_GetObjectItem(o, "created_at")->valuestring);
	cJSON_Delete(list);
}

static int cmd_operator_list(int argc, char **argv)
{
	return main_list(argc, argv, main_operators_json,
			 main_print_operators);
}

static void main_print_usage(cJSON *list)
{
	cJSON *o;

	printf("%-24s %-8s %7s %8s %11s  %s\n", "TENANT", "MONTH", "ACTIVE",
	       "COURSES", "COMPLETIONS", "NAME");
	cJSON_ArrayForEach(o, list)
		printf("%-24s %-8s %7.0f %8.0f %11.0f  %s\n",
		       cJSON_GetObjectItem(o, "tenant")->valuestring,
		       cJSON_GetObjectItem(o, "month")->valuestring,
		       cJSON_GetObjectItem(o, "active_learners")->valuedouble,
		       cJSON_GetObjectItem(o, "courses_licensed")->valuedouble,
		       cJSON_GetObjectItem(o, "completions")->valuedouble,
		       cJSON_GetObjectItem(o, "name")->valuestring);
	cJSON_Delete(list);
}

/* Prints the usage of month as CSV, JSON or a table. */
static int main_usage_print(struct mother *m, const char *month,
			    int format)
{
	struct buf csv = { 0 };
	cJSON *list;

	if (format == 'c') {
		if (stats_usage_csv(m->db, month, &csv)) {
			buf_release(&csv);
			return 1;
		}
		fwrite(csv.data, 1, csv.len, stdout);
		buf_release(&csv);
		return 0;
	}
	list = stats_usage_json(m->db, month);
	if (!list)
		return 1;
	if (format == 'j')
		return main_print_json(list);
	main_print_usage(list);
	return 0;
}

static int cmd_usage(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "month", required_argument, NULL, 'm' },
		{ "csv", no_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 }
	};
	const char *month = NULL;
	int c, done, format = 't', rc;
	struct mother m;

	while ((c = main_opt(argc, argv, opts, "h", &done)) != -1) {
		if (done)
			return c;
		if (c == 'm')
			month = optarg;
		else if (c == 'c' || c == 'j')
			format = c;
	}
	if (argc - optind != 1 || !month)
		return main_usage_error("expected DATA --month YYYY-MM");
	if (!stats_month_valid(month))
		return main_usage_error("--month must be YYYY-MM");
	if (main_open(&m, argv[optind]))
		return 1;
	rc = main_usage_print(&m, month, format);
	mother_close(&m);
	return rc;
}

static int cmd_hook(int argc, char **argv)
{
	struct mother m;
	int rc;

	if (argc != 4)
		return main_usage_error("expected HOOK DATA COURSE");
	if (main_open(&m, argv[2]))
		return 1;
	if (!strcmp(argv[1], "pre-receive"))
		rc = hook_pre_receive(&m, argv[3]);
	else if (!strcmp(argv[1], "post-receive"))
		rc = hook_post_receive(&m, argv[3]);
	else
		rc = main_usage_error("unknown hook");
	mother_close(&m);
	return rc;
}

/* ---- dispatch ---- */

static const struct command main_commands[] = {
	{ NULL, "init", cmd_init, "init DATA",
	  "Creates a mother data directory: database, signing key and course\n"
	  "store. Prints the mother key fingerprint that workspaces pin." },
	{ NULL, "serve", cmd_serve,
	  "serve DATA [--listen ADDR] [--sync-listen ADDR] [--sync-tls]",
	  "Runs the daemon: admin HTTP on --listen (default 127.0.0.1:8600)\n"
	  "and the workspace sync port on --sync-listen (default\n"
	  "127.0.0.1:8601). Stops cleanly on SIGTERM or Ctrl-C.\n"
	  "With --sync-tls the sync port speaks only TLS 1.3, with a\n"
	  "certificate made from the mother key (DATA/sync-tls.crt);\n"
	  "workspaces then dial tls://HOST:PORT. Use it for workspaces on\n"
	  "other hosts." },
	{ NULL, "key", cmd_key, "key DATA",
	  "Prints the mother key fingerprint." },
	{ "course", "create", cmd_course_create, "course create DATA ID",
	  "Creates an empty course and prints the path of its git repository.\n"
	  "Authors clone it and publish with `git push origin HEAD:main`;\n"
	  "an invalid course is refused with the file and the reason." },
	{ "course", "publish", cmd_course_publish,
	  "course publish DATA DIR [-m MSG]",
	  "Validates the course in DIR, publishes it as a new revision of its\n"
	  "course (creating the course if it is new) and prints the revision."
	},
	{ "course", "list", cmd_course_list, "course list DATA [--json]",
	  "Lists the courses with their published revision." },
	{ "tenant", "add", cmd_tenant_add,
	  "tenant add DATA ID --name NAME [--domain D]... "
	  "[--courses all|ID,ID] [--json]",
	  "Adds a tenant, licenses courses to it (all: every course, also\n"
	  "future ones) and prints its one-time enrollment token and the\n"
	  "mother key for `lms-workspace init`." },
	{ "tenant", "list", cmd_tenant_list, "tenant list DATA [--json]",
	  "Lists tenants: connected now or not, and per licensed course the\n"
	  "revision the tenant's workspace acknowledged." },
	{ "tenant", "license", cmd_tenant_license,
	  "tenant license DATA ID --courses all|ID,ID",
	  "Licenses further courses to a tenant; they are sent at once." },
	{ "tenant", "token", cmd_tenant_token, "tenant token DATA ID [--json]",
	  "Issues a new one-time enrollment token, e.g. for a reinstalled\n"
	  "workspace." },
	{ "operator", "add", cmd_operator_add,
	  "operator add DATA EMAIL [--password-stdin]",
	  "Adds an operator who may sign in to the admin port (the pages and\n"
	  "the API). With --password-stdin the password is the first line of\n"
	  "standard input; without it a random one is made and printed." },
	{ "operator", "token", cmd_operator_token,
	  "operator token DATA EMAIL [--name NAME]",
	  "Creates a bearer token for scripts and Prometheus, acting as the\n"
	  "operator, and prints it (it is shown only once)." },
	{ "operator", "list", cmd_operator_list,
	  "operator list DATA [--json]", "Lists the operators." },
	{ NULL, "usage", cmd_usage,
	  "usage DATA --month YYYY-MM [--csv|--json]",
	  "Prints per tenant the usage of a month for invoicing: active\n"
	  "learners, courses licensed and completions, as reported by the\n"
	  "workspaces. --csv prints CSV (UTF-8, a header line)." },
	{ NULL, "hook", cmd_hook, "hook pre-receive|post-receive DATA COURSE",
	  "Run by git inside course repositories; not for people." },
};

#define MAIN_NCOMMANDS (sizeof(main_commands) / sizeof(main_commands[0]))

static void main_overview(FILE *out)
{
	fprintf(out, "usage: lms-mother COMMAND ...\n\n"
		     "The mother of the learning platform: course store, "
		     "tenants and sync.\n\nCommands:\n");
	for (size_t i = 0; i < MAIN_NCOMMANDS; i++)
		if (strcmp(main_commands[i].name, "hook"))
			fprintf(out, "  lms-mother %s\n",
				main_commands[i].usage);
	fprintf(out, "\nEach command takes --help.\n");
}

static const struct command *main_find(int argc, char **argv, int *used)
{
	for (size_t i = 0; i < MAIN_NCOMMANDS; i++) {
		const struct command *c = &main_commands[i];

		if (!c->group && !strcmp(argv[1], c->name)) {
			*used = 1;
			return c;
		}
		if (c->group && argc > 2 && !strcmp(argv[1], c->group) &&
		    !strcmp(argv[2], c->name)) {
			*used = 2;
			return c;
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int used = 0;

	log_init("lms-mother", LOG_WARN); /* serve raises it to info */
	db_library_init();
	signal(SIGPIPE, SIG_IGN); /* peers and git children may go away */
	if (argc < 2) {
		main_overview(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		main_overview(stdout);
		return 0;
	}
	main_current = main_find(argc, argv, &used);
	if (!main_current) {
		fprintf(stderr, "lms-mother: unknown command '%s%s%s'\n",
			argv[1], argc > 2 ? " " : "", argc > 2 ? argv[2] : "");
		main_overview(stderr);
		return 2;
	}
	if (!strcmp(main_current->name, "hook"))
		return main_current->run(argc - 1, argv + 1);
	return main_current->run(argc - used, argv + used);
}
