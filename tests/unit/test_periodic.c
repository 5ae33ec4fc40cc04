/*
 * Unit tests of workspace/periodic.c on a real libuv loop: the first
 * run comes at once and on a thread other than the loop's, a poke
 * during a run makes exactly one more run after it, pokes in a row
 * before a run make one, and stopping during a run waits for it before
 * closed() is called, once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../workspace/periodic.c"

#include <stdatomic.h>
#include <string.h>

#define HOUR_MS 3600000

struct job {
	struct periodic p;
	uv_thread_t loop_thread;
	atomic_int runs;
	atomic_int off_loop; /* runs on another thread than the loop's */
	uv_sem_t started;    /* posted by each run as it starts */
	uv_sem_t go_on;	     /* each run waits for it when hold is set */
	int hold;
	int afters;
	int closed;
	void (*on_after)(struct job *j);
};

static void job_run(void *arg)
{
	struct job *j = arg;
	uv_thread_t self = uv_thread_self();

	if (!uv_thread_equal(&self, &j->loop_thread))
		atomic_fetch_add(&j->off_loop, 1);
	atomic_fetch_add(&j->runs, 1);
	uv_sem_post(&j->started);
	if (j->hold)
		uv_sem_wait(&j->go_on);
}

static void job_after(void *arg, int status)
{
	struct job *j = arg;

	assert_int_equal(status, 0);
	j->afters++;
	if (j->on_after)
		j->on_after(j);
}

static void job_closed(void *arg)
{
	struct job *j = arg;

	j->closed++;
}

static void job_init(struct job *j, uv_loop_t *loop)
{
	memset(j, 0, sizeof(*j));
	j->loop_thread = uv_thread_self();
	assert_int_equal(uv_sem_init(&j->started, 0), 0);
	assert_int_equal(uv_sem_init(&j->go_on, 0), 0);
	j->p.run = job_run;
	j->p.after = job_after;
	j->p.closed = job_closed;
	j->p.arg = j;
	assert_int_equal(periodic_start(&j->p, loop, HOUR_MS), 0);
}

static void job_destroy(struct job *j)
{
	uv_sem_destroy(&j->started);
	uv_sem_destroy(&j->go_on);
}

/* Turns the loop until a run has started. */
static void until_started(uv_loop_t *loop, struct job *j)
{
	while (uv_sem_trywait(&j->started) != 0)
		uv_run(loop, UV_RUN_NOWAIT);
}

/* Turns the loop until the job has closed, then checks that it ran
 * runs times, each followed by after(), and closed once. */
static void job_end(uv_loop_t *loop, struct job *j, int runs)
{
	assert_int_equal(uv_run(loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(atomic_load(&j->runs), runs);
	assert_int_equal(j->afters, runs);
	assert_int_equal(j->closed, 1);
	assert_int_equal(uv_loop_close(loop), 0);
	job_destroy(j);
}

static void stop_after_first(struct job *j)
{
	periodic_stop(&j->p);
}

/* The first run at once, off the loop; stop after it: closed once. */
static void test_periodic_first_run(void **state)
{
	uv_loop_t loop;
	struct job j;

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	job_init(&j, &loop);
	j.on_after = stop_after_first;
	job_end(&loop, &j, 1);
	assert_int_equal(atomic_load(&j.off_loop), 1);
}

static void stop_after_second(struct job *j)
{
	if (j->afters == 2)
		periodic_stop(&j->p);
}

/* Pokes while a run is held make one more run, not three. */
static void test_periodic_poke_during_run(void **state)
{
	uv_loop_t loop;
	struct job j;

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	job_init(&j, &loop);
	j.hold = 1;
	j.on_after = stop_after_second;
	until_started(&loop, &j);
	periodic_poke(&j.p, 0);
	periodic_poke(&j.p, 0);
	periodic_poke(&j.p, 0);
	j.hold = 0;
	uv_sem_post(&j.go_on);
	job_end(&loop, &j, 2);
}

/* Stopped while a run is held: closed() only after the run ended. */
static void test_periodic_stop_during_run(void **state)
{
	uv_loop_t loop;
	struct job j;

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	job_init(&j, &loop);
	j.hold = 1;
	until_started(&loop, &j);
	periodic_stop(&j.p);
	periodic_poke(&j.p, 0); /* nothing once stopping */
	uv_run(&loop, UV_RUN_NOWAIT);
	assert_int_equal(j.closed, 0);
	j.hold = 0;
	uv_sem_post(&j.go_on);
	job_end(&loop, &j, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_periodic_first_run),
		cmocka_unit_test(test_periodic_poke_during_run),
		cmocka_unit_test(test_periodic_stop_during_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
