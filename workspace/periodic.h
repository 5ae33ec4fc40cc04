/*
 * A job of serve that runs at start, every tick_ms and when poked, one
 * run at a time, each on a thread of its own: the skeleton of the
 * compliance runner and the analytics runner.
 *
 * Not on libuv's thread pool: serve keeps the pool at one thread, which
 * applies the mother's events and checks passwords, and a compliance
 * run of a large tenant takes seconds; a login must not wait for it.
 * A run's thread is started for the run and joined after it (a few
 * tens of microseconds a minute).
 *
 * run() is called on the run's thread; after() on the loop when a run
 * ended (also when the runner is stopping: it may still log, but
 * should hand nothing on); closed() on the loop once the runner has
 * stopped and no run is in flight, where the owner frees what run()
 * used. A poke during a run makes one more run right after it.
 */
#ifndef LMS_WORKSPACE_PERIODIC_H
#define LMS_WORKSPACE_PERIODIC_H

#include <stdint.h>
#include <uv.h>

struct periodic {
	uv_loop_t *loop;
	uv_timer_t timer;
	uv_async_t ended; /* sent by the run's thread when it is done */
	uv_thread_t thread;
	uint64_t tick_ms;
	int running;
	int again; /* poked while a run was in flight */
	int stopping;
	int open_handles;
	void (*run)(void *arg);
	void (*after)(void *arg, int status);
	void (*closed)(void *arg);
	void *arg;
};

/* Sets p up on loop and starts its timer: the first run at once, then
 * every tick_ms. Fill in run, after (may be NULL), closed and arg
 * first. 0, or a libuv error code (nothing to stop then). */
int periodic_start(struct periodic *p, uv_loop_t *loop, uint64_t tick_ms);

/* A run in delay_ms (a poke replaces an earlier one that has not run
 * yet, so pokes in a row make one run), or right after the current
 * one. Nothing once stopping. */
void periodic_poke(struct periodic *p, uint64_t delay_ms);

/* Stops the timer; closed() follows once no run is in flight. */
void periodic_stop(struct periodic *p);

#endif
