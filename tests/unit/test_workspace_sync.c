/*
 * Unit tests of the workspace's sync client and event applying
 * (workspace/sync.c, workspace/apply.c) against a scripted mother in the
 * same process: a real libuv loop, real TCP on loopback, real signed
 * events with packs built by git from a source repository, and a real
 * workspace.db and content.git.
 *
 * The scripted mother sends CHALLENGE, checks HELLO, answers WELCOME and
 * then sends a fixed list of EVENT frames; it records the ACK and RESUME
 * frames it gets and how the workspace ended each session. A refused
 * event shows as a session the workspace closed without acknowledging.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../workspace/store.c"
#include "../../workspace/apply.c"
#include "../../workspace/sync.c"

#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>

#define TENANT "sonnenhof"
#define COURSE "demo"

struct mother {
	uv_tcp_t server;
	int port;
	struct crypto_key *key;
	uint8_t pub[CRYPTO_PUBKEY_LEN];
	uint8_t nonce[PROTO_NONCE_LEN];
	uint8_t workspace_pub[CRYPTO_PUBKEY_LEN];
	struct proto_conn *conn;
	struct buf script; /* EVENT frames sent after each WELCOME */
	uint64_t head;

	/* what the workspace did */
	int hellos, bad_hellos;
	uint64_t hello_seq;
	uint64_t acks[16];
	size_t nacks;
	uint64_t resumes[16];
	size_t nresumes;
	int sessions_ended;

	uv_loop_t *loop;
	int (*done)(struct mother *m);
};

struct ctx {
	char dir[64];
	char *src_path, *work_path, *course_dir;
	git_repository *src;
	char rev[3][41]; /* three revisions of the course, in a line */

	uv_loop_t loop;
	uv_timer_t deadline;
	int timed_out;
	struct mother m;

	struct lms_clock clock;
	struct crypto_key *workspace_key;
	struct apply_ctx apply;
	struct sync_client *sync;
};

/* ---- the course at the "mother": three revisions ---- */

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void write_course(struct ctx *t, const char *id, const char *title,
			 const char *lesson)
{
	char json[512], lessons[512];

	snprintf(json, sizeof(json),
		 "{\"format\": 1, \"id\": \"%s\", \"title\": \"%s\","
		 " \"language\": \"en\", \"duration_minutes\": 20,"
		 " \"lessons\": [{\"id\": \"intro\", \"title\": \"Intro\","
		 " \"file\": \"lessons/intro.md\"}]}\n", id, title);
	snprintf(lessons, sizeof(lessons), "%s/lessons", t->course_dir);
	mkdir(lessons, 0700);
	write_file(t->course_dir, "course.json", json);
	write_file(t->course_dir, "lessons/intro.md", lesson);
}

static void make_revisions(struct ctx *t)
{
	assert_int_equal(gitstore_open(t->src_path, 1, &t->src), 0);
	mkdir(t->course_dir, 0700);
	write_course(t, COURSE, "Demo", "# Intro\n\nFirst.\n");
	assert_int_equal(gitstore_commit_dir(t->src, "refs/heads/main",
					     t->course_dir, "one", "author",
					     t->rev[0]), 0);
	write_course(t, COURSE, "Demo 2", "# Intro\n\nSecond.\n");
	assert_int_equal(gitstore_commit_dir(t->src, "refs/heads/main",
					     t->course_dir, "two", "author",
					     t->rev[1]), 0);
	write_course(t, COURSE, "Demo 3", "# Intro\n\nThird.\n");
	assert_int_equal(gitstore_commit_dir(t->src, "refs/heads/main",
					     t->course_dir, "three", "author",
					     t->rev[2]), 0);
}

/* ---- the scripted mother ---- */

static void mother_check(struct mother *m)
{
	if (m->done && m->done(m))
		uv_stop(m->loop);
}

static void mother_send(struct mother *m, struct buf *b)
{
	assert_int_equal(proto_conn_send(m->conn, b), 0);
}

static void mother_on_hello(struct mother *m, const struct proto_frame *f)
{
	struct proto_welcome w = { .head_seq = m->head };
	struct proto_hello h;
	struct buf b = { 0 };

	m->hellos++;
	if (proto_read_hello(f->payload, f->len, &h) ||
	    strcmp(h.tenant, TENANT) ||
	    proto_hello_verify(&h, m->nonce, m->workspace_pub)) {
		m->bad_hellos++;
		proto_conn_close(m->conn, 0);
		return;
	}
	m->hello_seq = h.last_seq;
	assert_int_equal(proto_write_welcome(&b, &w), 0);
	mother_send(m, &b);
	if (m->script.len) {
		assert_int_equal(buf_append(&b, m->script.data,
					    m->script.len), 0);
		mother_send(m, &b);
	}
}

static void mother_on_frame(struct proto_conn *c, const struct proto_frame *f)
{
	struct mother *m = proto_conn_data(c);
	struct proto_seq s;

	switch (f->type) {
	case PROTO_HELLO:
		mother_on_hello(m, f);
		break;
	case PROTO_ACK:
		assert_int_equal(proto_read_seq(f->payload, f->len, &s), 0);
		assert_true(m->nacks < 16);
		m->acks[m->nacks++] = s.seq;
		break;
	case PROTO_RESUME:
		assert_int_equal(proto_read_seq(f->payload, f->len, &s), 0);
		assert_true(m->nresumes < 16);
		m->resumes[m->nresumes++] = s.seq;
		break;
	default:
		fail_msg("unexpected frame type %u", f->type);
	}
	mother_check(m);
}

static void mother_on_close(struct proto_conn *c, int reason)
{
	struct mother *m = proto_conn_data(c);

	(void)reason;
	if (m->conn == c)
		m->conn = NULL;
	m->sessions_ended++;
	mother_check(m);
}

static const struct proto_conn_ops mother_ops = {
	.on_frame = mother_on_frame,
	.on_close = mother_on_close,
};

static void mother_on_connection(uv_stream_t *server, int status)
{
	struct mother *m = server->data;
	struct proto_challenge ch = { .version = PROTO_VERSION };
	struct buf b = { 0 };

	assert_int_equal(status, 0);
	assert_null(m->conn);
	assert_int_equal(proto_conn_accept(server, &mother_ops, NULL, m,
					   &m->conn), 0);
	assert_int_equal(crypto_random(m->nonce, sizeof(m->nonce)), 0);
	memcpy(ch.nonce, m->nonce, sizeof(ch.nonce));
	memcpy(ch.mother_pub, m->pub, sizeof(ch.mother_pub));
	assert_int_equal(proto_write_challenge(&b, &ch), 0);
	mother_send(m, &b);
}

static void mother_listen(struct ctx *t)
{
	struct mother *m = &t->m;
	struct sockaddr_in sa;
	struct sockaddr_storage bound;
	int len = sizeof(bound);

	m->loop = &t->loop;
	uv_tcp_init(&t->loop, &m->server);
	m->server.data = m;
	uv_ip4_addr("127.0.0.1", 0, &sa);
	assert_int_equal(uv_tcp_bind(&m->server, (struct sockaddr *)&sa, 0),
			 0);
	assert_int_equal(uv_listen((uv_stream_t *)&m->server, 8,
				   mother_on_connection), 0);
	uv_tcp_getsockname(&m->server, (struct sockaddr *)&bound, &len);
	m->port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
}

/* Appends one EVENT frame to the script. */
struct event_spec {
	uint64_t seq;
	const char *tenant; /* NULL: TENANT */
	const char *course; /* NULL: COURSE */
	const char *prev;   /* "" for none */
	const char *next;
	const char *pack_from; /* NULL: prev */
	int64_t expiry_in;     /* seconds from now; 0: an hour */
	struct crypto_key *signer; /* NULL: the mother */
	int corrupt_hash;
};

static void script_event(struct ctx *t, const struct event_spec *e)
{
	struct proto_event ev = { .version = PROTO_VERSION };
	uint8_t sig[CRYPTO_SIG_LEN];
	struct buf pack = { 0 };
	int64_t now = clock_now(&t->clock);

	assert_int_equal(gitstore_build_pack(t->src_path,
					     e->pack_from ? e->pack_from :
							    e->prev,
					     e->next, &pack), 0);
	snprintf(ev.tenant, sizeof(ev.tenant), "%s",
		 e->tenant ? e->tenant : TENANT);
	snprintf(ev.course, sizeof(ev.course), "%s",
		 e->course ? e->course : COURSE);
	snprintf(ev.prev_rev, sizeof(ev.prev_rev), "%s", e->prev);
	snprintf(ev.new_rev, sizeof(ev.new_rev), "%s", e->next);
	ev.seq = e->seq;
	ev.kind = PROTO_KIND_REVISION;
	ev.time = now;
	ev.expiry = now + (e->expiry_in ? e->expiry_in : 3600);
	ev.pack_len = pack.len;
	crypto_sha256(pack.data, pack.len, ev.pack_sha256);
	if (e->corrupt_hash)
		ev.pack_sha256[0] ^= 1;
	assert_int_equal(proto_event_sign(&ev, e->signer ? e->signer :
							   t->m.key,
					  sig), 0);
	assert_int_equal(proto_write_event(&t->m.script, &ev, sig, pack.data,
					   pack.len), 0);
	if (e->seq > t->m.head)
		t->m.head = e->seq;
	buf_release(&pack);
}

/* ---- the workspace ---- */

static void workspace_create(struct ctx *t)
{
	char *db_path = fs_join(t->work_path, STORE_FILE);
	char *repo_path = fs_join(t->work_path, APPLY_REPO_DIR);
	char *key_path = fs_join(t->work_path, "workspace.key");
	git_repository *repo;
	sqlite3 *db;

	assert_int_equal(fs_mkdir_p(t->work_path, 0700), 0);
	assert_int_equal(store_open(db_path, &db), 0);
	sqlite3_close_v2(db);
	assert_int_equal(gitstore_open(repo_path, 1, &repo), 0);
	git_repository_free(repo);
	assert_int_equal(crypto_key_generate(key_path, &t->workspace_key), 0);
	crypto_key_public(t->workspace_key, t->m.workspace_pub);
	assert_int_equal(apply_open(&t->apply, t->work_path), 0);
	free(db_path);
	free(repo_path);
	free(key_path);
}

static void workspace_start(struct ctx *t)
{
	struct sync_config cfg = {
		.tenant = TENANT,
		.key = t->workspace_key,
		.apply = &t->apply,
		.clock = &t->clock,
	};
	char addr[32];

	snprintf(addr, sizeof(addr), "127.0.0.1:%d", t->m.port);
	cfg.mother_addr = addr;
	memcpy(cfg.mother_pub, t->m.pub, CRYPTO_PUBKEY_LEN);
	assert_int_equal(store_applied_seq(t->apply.db, &cfg.applied_seq), 0);
	assert_int_equal(sync_start(&t->loop, &cfg, &t->sync), 0);
}

static void on_deadline(uv_timer_t *timer)
{
	struct ctx *t = timer->data;

	t->timed_out = 1;
	uv_stop(&t->loop);
}

/* Runs the loop until done says so; fails after 10 s. */
static void run_until(struct ctx *t, int (*done)(struct mother *m))
{
	t->m.done = done;
	if (done(&t->m))
		return;
	uv_timer_start(&t->deadline, on_deadline, 10000, 0);
	uv_run(&t->loop, UV_RUN_DEFAULT);
	uv_timer_stop(&t->deadline);
	t->m.done = NULL;
	assert_false(t->timed_out);
}

static uint64_t applied(struct ctx *t)
{
	uint64_t seq = 999;

	assert_int_equal(store_applied_seq(t->apply.db, &seq), 0);
	return seq;
}

/* The revision of the course in the database and on its ref, which
 * must agree; "" when the course is not held. */
static void assert_holds(struct ctx *t, const char *rev)
{
	char ref_rev[41] = "";
	struct store_course c;
	int rc;

	rc = gitstore_ref_revision(t->apply.repo, "refs/courses/" COURSE,
				   ref_rev);
	if (!*rev) {
		assert_int_equal(store_course_get(t->apply.db, COURSE, &c),
				 STORE_ENOTFOUND);
		assert_int_equal(rc, 1);
		return;
	}
	assert_int_equal(store_course_get(t->apply.db, COURSE, &c), 0);
	assert_string_equal(c.revision, rev);
	store_course_release(&c);
	assert_int_equal(rc, 0);
	assert_string_equal(ref_rev, rev);
}

static int setup(void **state)
{
	struct ctx *t = calloc(1, sizeof(*t));
	char *mother_key;

	assert_non_null(t);
	strcpy(t->dir, "/tmp/test_workspace_sync.XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	t->src_path = fs_join(t->dir, "src.git");
	t->work_path = fs_join(t->dir, "work");
	t->course_dir = fs_join(t->dir, "course");
	mother_key = fs_join(t->dir, "mother.key");
	assert_int_equal(clock_init(&t->clock), 0);
	assert_int_equal(uv_loop_init(&t->loop), 0);
	uv_timer_init(&t->loop, &t->deadline);
	t->deadline.data = t;

	make_revisions(t);
	assert_int_equal(crypto_key_generate(mother_key, &t->m.key), 0);
	crypto_key_public(t->m.key, t->m.pub);
	free(mother_key);
	mother_listen(t);
	workspace_create(t);
	*state = t;
	return 0;
}

static void on_closed(uv_handle_t *h)
{
	(void)h;
}

static int teardown(void **state)
{
	struct ctx *t = *state;

	if (t->sync)
		sync_stop(t->sync, NULL, NULL);
	if (t->m.conn)
		proto_conn_close(t->m.conn, 0);
	uv_close((uv_handle_t *)&t->m.server, on_closed);
	uv_close((uv_handle_t *)&t->deadline, on_closed);
	uv_run(&t->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&t->loop), 0);

	apply_close(&t->apply);
	git_repository_free(t->src);
	crypto_key_free(t->m.key);
	crypto_key_free(t->workspace_key);
	buf_release(&t->m.script);
	fs_remove_tree(t->dir);
	free(t->src_path);
	free(t->work_path);
	free(t->course_dir);
	free(t);
	return 0;
}

/* ---- stop conditions ---- */

static int two_acks(struct mother *m)
{
	return m->nacks >= 2;
}

static int three_acks(struct mother *m)
{
	return m->nacks >= 3;
}

static int one_session_ended(struct mother *m)
{
	return m->sessions_ended >= 1;
}

static int second_hello(struct mother *m)
{
	return m->hellos >= 2;
}

/* ---- tests ---- */

static void test_applies_events_in_order(void **state)
{
	struct ctx *t = *state;

	script_event(t, &(struct event_spec){ .seq = 1, .prev = "",
					      .next = t->rev[0] });
	script_event(t, &(struct event_spec){ .seq = 2, .prev = t->rev[0],
					      .next = t->rev[1] });
	workspace_start(t);
	run_until(t, two_acks);

	assert_int_equal(t->m.hello_seq, 0);
	assert_int_equal(t->m.bad_hellos, 0);
	assert_int_equal(t->m.acks[0], 1);
	assert_int_equal(t->m.acks[1], 2);
	assert_int_equal(applied(t), 2);
	assert_holds(t, t->rev[1]);
	assert_true(sync_connected(t->sync));
	assert_int_equal(sync_applied_seq(t->sync), 2);
}

static void test_duplicate_is_acked_and_ignored(void **state)
{
	struct ctx *t = *state;

	script_event(t, &(struct event_spec){ .seq = 1, .prev = "",
					      .next = t->rev[0] });
	script_event(t, &(struct event_spec){ .seq = 2, .prev = t->rev[0],
					      .next = t->rev[1] });
	script_event(t, &(struct event_spec){ .seq = 1, .prev = "",
					      .next = t->rev[0] });
	workspace_start(t);
	run_until(t, three_acks);

	assert_int_equal(t->m.acks[2], 2); /* ACK(applied), not ACK(1) */
	assert_int_equal(applied(t), 2);
	assert_holds(t, t->rev[1]);
	assert_int_equal(t->m.sessions_ended, 0);
}

static void test_gap_asks_to_resume(void **state)
{
	struct ctx *t = *state;

	/* 2 arrives first: RESUME(0); 3 is dropped; then 1, 2 apply */
	script_event(t, &(struct event_spec){ .seq = 2, .prev = t->rev[0],
					      .next = t->rev[1] });
	script_event(t, &(struct event_spec){ .seq = 3, .prev = t->rev[1],
					      .next = t->rev[2] });
	script_event(t, &(struct event_spec){ .seq = 1, .prev = "",
					      .next = t->rev[0] });
	script_event(t, &(struct event_spec){ .seq = 2, .prev = t->rev[0],
					      .next = t->rev[1] });
	workspace_start(t);
	run_until(t, two_acks);

	assert_int_equal(t->m.nresumes, 1);
	assert_int_equal(t->m.resumes[0], 0);
	assert_int_equal(t->m.acks[0], 1);
	assert_int_equal(t->m.acks[1], 2);
	assert_int_equal(applied(t), 2);
	assert_holds(t, t->rev[1]);
}

/* Runs one event that must be refused: the workspace ends the session
 * without an ACK and keeps what it had. */
static void expect_refused(struct ctx *t, const struct event_spec *e,
			   uint64_t applied_before, const char *held)
{
	script_event(t, e);
	workspace_start(t);
	run_until(t, one_session_ended);
	assert_int_equal(t->m.nacks, 0);
	assert_int_equal(t->m.hellos, 1);
	assert_int_equal(applied(t), applied_before);
	assert_holds(t, held);
}

static void test_refuses_bad_signature(void **state)
{
	struct ctx *t = *state;
	char *path = fs_join(t->dir, "impostor.key");
	struct crypto_key *impostor;

	assert_int_equal(crypto_key_generate(path, &impostor), 0);
	expect_refused(t, &(struct event_spec){ .seq = 1, .prev = "",
						.next = t->rev[0],
						.signer = impostor },
		       0, "");
	crypto_key_free(impostor);
	free(path);
}

static void test_refuses_other_tenant(void **state)
{
	struct ctx *t = *state;

	expect_refused(t, &(struct event_spec){ .seq = 1, .prev = "",
						.next = t->rev[0],
						.tenant = "neighbour" },
		       0, "");
}

static void test_refuses_expired_event(void **state)
{
	struct ctx *t = *state;

	expect_refused(t, &(struct event_spec){ .seq = 1, .prev = "",
						.next = t->rev[0],
						.expiry_in = -60 },
		       0, "");
}

static void test_refuses_pack_with_wrong_hash(void **state)
{
	struct ctx *t = *state;

	expect_refused(t, &(struct event_spec){ .seq = 1, .prev = "",
						.next = t->rev[0],
						.corrupt_hash = 1 },
		       0, "");
}

static void test_refuses_pack_of_another_course(void **state)
{
	struct ctx *t = *state;
	struct store_course c;

	expect_refused(t, &(struct event_spec){ .seq = 1, .prev = "",
						.next = t->rev[0],
						.course = "another" },
		       0, "");
	assert_int_equal(store_course_get(t->apply.db, "another", &c),
			 STORE_ENOTFOUND);
}

static void test_refuses_rollback(void **state)
{
	struct ctx *t = *state;

	/* apply 1 and 2 directly, as a previous session would have */
	script_event(t, &(struct event_spec){ .seq = 1, .prev = "",
					      .next = t->rev[0] });
	script_event(t, &(struct event_spec){ .seq = 2, .prev = t->rev[0],
					      .next = t->rev[1] });
	workspace_start(t);
	run_until(t, two_acks);
	sync_stop(t->sync, NULL, NULL);
	t->sync = NULL;
	run_until(t, one_session_ended);

	/* now an event taking the course back to its first revision */
	buf_reset(&t->m.script);
	t->m.nacks = 0;
	t->m.hellos = 0;
	t->m.sessions_ended = 0;
	expect_refused(t, &(struct event_spec){ .seq = 3, .prev = t->rev[1],
						.next = t->rev[0],
						.pack_from = "" },
		       2, t->rev[1]);
}

static void test_refuses_wrong_start_revision(void **state)
{
	struct ctx *t = *state;

	/* the workspace holds nothing, the event starts from rev 1 */
	expect_refused(t, &(struct event_spec){ .seq = 1, .prev = t->rev[0],
						.next = t->rev[1],
						.pack_from = "" },
		       0, "");
}

static void test_refuses_local_course_id(void **state)
{
	struct ctx *t = *state;
	struct store_course local = { .id = COURSE, .title = "Ours" };
	struct store_course c;

	memcpy(local.revision, t->rev[2], sizeof(local.revision));
	assert_int_equal(store_publish_local(t->apply.db, &local, ""), 0);
	script_event(t, &(struct event_spec){ .seq = 1, .prev = "",
					      .next = t->rev[0] });
	workspace_start(t);
	run_until(t, one_session_ended);
	assert_int_equal(t->m.nacks, 0);
	assert_int_equal(applied(t), 0);
	assert_int_equal(store_course_get(t->apply.db, COURSE, &c), 0);
	assert_int_equal(c.origin, STORE_ORIGIN_LOCAL);
	assert_string_equal(c.revision, t->rev[2]);
	store_course_release(&c);
}

static void test_reconnects_after_refusal(void **state)
{
	struct ctx *t = *state;

	script_event(t, &(struct event_spec){ .seq = 1, .prev = "",
					      .next = t->rev[0],
					      .corrupt_hash = 1 });
	workspace_start(t);
	run_until(t, second_hello);
	assert_int_equal(t->m.nacks, 0);
	assert_int_equal(t->m.hello_seq, 0);
}

static void test_wrong_mother_key_gets_no_hello(void **state)
{
	struct ctx *t = *state;
	char *path = fs_join(t->dir, "impostor.key");
	struct crypto_key *impostor;

	/* the "mother" presents another key than the pinned one */
	assert_int_equal(crypto_key_generate(path, &impostor), 0);
	workspace_start(t);
	crypto_key_public(impostor, t->m.pub);
	run_until(t, one_session_ended);
	assert_int_equal(t->m.hellos, 0);
	assert_false(sync_connected(t->sync));
	crypto_key_free(impostor);
	free(path);
}

static void test_reconcile_moves_refs_to_database(void **state)
{
	struct ctx *t = *state;
	struct buf pack = { 0 };
	struct store_event e = {
		.seq = 1,
		.course = COURSE,
		.prev_rev = "",
		.new_rev = t->rev[1],
		.title = "Demo 2",
	};

	/* as after a crash between the commit and the ref update */
	assert_int_equal(gitstore_build_pack(t->src_path, "", t->rev[1],
					     &pack), 0);
	assert_int_equal(gitstore_index_pack(t->apply.repo, pack.data,
					     pack.len), 0);
	assert_int_equal(gitstore_set_ref(t->apply.repo,
					  "refs/courses/" COURSE, t->rev[0],
					  "stale"), 0);
	assert_int_equal(store_apply_event(t->apply.db, &e), 0);
	assert_int_equal(apply_reconcile(&t->apply), 0);
	assert_holds(t, t->rev[1]);
	buf_release(&pack);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_applies_events_in_order),
		T(test_duplicate_is_acked_and_ignored),
		T(test_gap_asks_to_resume),
		T(test_refuses_bad_signature),
		T(test_refuses_other_tenant),
		T(test_refuses_expired_event),
		T(test_refuses_pack_with_wrong_hash),
		T(test_refuses_pack_of_another_course),
		T(test_refuses_rollback),
		T(test_refuses_wrong_start_revision),
		T(test_refuses_local_course_id),
		T(test_reconnects_after_refusal),
		T(test_wrong_mother_key_gets_no_hello),
		T(test_reconcile_moves_refs_to_database),
	};
#undef T

	signal(SIGPIPE, SIG_IGN);
	log_init("test_workspace_sync", LOG_ERROR);
	gitstore_global_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
