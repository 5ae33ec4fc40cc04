/*
 * The periodic jobs of serve: see workspace/periodic.h. One uv_work_t
 * per job, reused; the timer's repeat keeps the rhythm, and a run that
 * outlasts a tick simply skips that tick.
 */
#include "workspace/periodic.h"

static void periodic_tick(uv_timer_t *t);

static void periodic_closed(uv_handle_t *h)
{
	struct periodic *p = h->data;

	p->closed(p->arg);
}

static void periodic_work(uv_work_t *w)
{
	struct periodic *p = w->data;

	p->run(p->arg);
}

static void periodic_done(uv_work_t *w, int status)
{
	struct periodic *p = w->data;

	p->running = 0;
	if (p->after)
		p->after(p->arg, status);
	if (p->stopping) {
		uv_close((uv_handle_t *)&p->timer, periodic_closed);
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

	if (p->running || p->stopping)
		return;
	p->work.data = p;
	if (uv_queue_work(p->loop, &p->work, periodic_work,
			  periodic_done) == 0)
		p->running = 1;
}

void periodic_start(struct periodic *p, uv_loop_t *loop, uint64_t tick_ms)
{
	p->loop = loop;
	p->tick_ms = tick_ms;
	uv_timer_init(loop, &p->timer);
	p->timer.data = p;
	uv_timer_start(&p->timer, periodic_tick, 0, tick_ms);
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
		uv_close((uv_handle_t *)&p->timer, periodic_closed);
}
