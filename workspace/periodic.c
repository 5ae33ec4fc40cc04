/*
 * The periodic jobs of serve: see workspace/periodic.h. The timer's
 * repeat keeps the rhythm, and a run that outlasts a tick simply skips
 * that tick. The run's thread tells the loop it is done through a
 * uv_async_t; the loop joins it, then calls after().
 */
#include "workspace/periodic.h"

#include "common/log.h"

static void periodic_tick(uv_timer_t *t);

static void periodic_handle_closed(uv_handle_t *h)
{
	struct periodic *p = h->data;

	if (--p->open_handles == 0)
		p->closed(p->arg);
}

static void periodic_close(struct periodic *p)
{
	uv_close((uv_handle_t *)&p->timer, periodic_handle_closed);
	uv_close((uv_handle_t *)&p->ended, periodic_handle_closed);
}

static void periodic_thread(void *arg)
{
	struct periodic *p = arg;

	p->run(p->arg);
	uv_async_send(&p->ended);
}

/* On the loop: the run's thread is done. */
static void periodic_ended(uv_async_t *a)
{
	struct periodic *p = a->data;

	if (!p->running)
		return;
	uv_thread_join(&p->thread);
	/* still running for after(): a stop or poke from there is
	 * handled just below */
	if (p->after)
		p->after(p->arg, 0);
	p->running = 0;
	if (p->stopping) {
		periodic_close(p);
		return;
	}
	if (p->again) {
		p->again = 0;
		uv_timer_start(&p->timer, periodic_tick, 0, p->tick_ms);
	}
}

static void periodic_tick(uv_timer_t *t)
{
	struct periodic *p = t->data;
	int rc;

	if (p->running || p->stopping)
		return;
	rc = uv_thread_create(&p->thread, periodic_thread, p);
	if (rc)
		log_error("msg=\"cannot start a periodic job's thread\" "
			  "error=\"%s\"", uv_strerror(rc));
	else
		p->running = 1;
}

int periodic_start(struct periodic *p, uv_loop_t *loop, uint64_t tick_ms)
{
	int rc = uv_async_init(loop, &p->ended, periodic_ended);

	if (rc)
		return rc;
	p->loop = loop;
	p->tick_ms = tick_ms;
	p->ended.data = p;
	uv_timer_init(loop, &p->timer);
	p->timer.data = p;
	p->open_handles = 2;
	uv_timer_start(&p->timer, periodic_tick, 0, tick_ms);
	return 0;
}

void periodic_poke(struct periodic *p, uint64_t delay_ms)
{
	if (p->stopping)
		return;
	if (p->running)
		p->again = 1;
	else
		uv_timer_start(&p->timer, periodic_tick, delay_ms, p->tick_ms);
}

void periodic_stop(struct periodic *p)
{
	if (p->stopping)
		return;
	p->stopping = 1;
	uv_timer_stop(&p->timer);
	if (!p->running)
		periodic_close(p);
}
