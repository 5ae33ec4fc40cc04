/*
 * The learner's pages: my trainings (the start page, with a badge of
 * each course's compliance status), the catalog of courses open for
 * self-enrollment, a course with its lessons and what changed, and the
 * lesson player (a text lesson or a quiz).
 */

import { api } from './api.js';
import { dateEl, errorBox, errorText, field, h, heading, liveRegion,
	 progressBar, replace, say } from './dom.js';
import { lang, t } from './i18n.js';
import { statusBadge } from './certificates.js';

/* The compliance statuses My trainings shows; the others say no more
 * than the progress bar does. */
const SHOWN_STATUS = new Set(['overdue', 'expiring_soon', 'expired',
			      'completed']);

function courseHref(id) {
	return `#/course/${encodeURIComponent(id)}`;
}

function lessonHref(course, lesson) {
	return `${courseHref(course)}/lesson/${encodeURIComponent(lesson)}`;
}

/* "Due 2027-01-31", or that there is no due date. */
function dueLine(due) {
	if (!due)
		return h('p', { class: 'meta' }, t('course.noDue'));
	return h('p', { class: 'meta due' }, `${t('course.due')} `,
		 dateEl(due, lang()));
}

function trainingCard(c, status) {
	const pct = c.progress?.percent ?? 0;
	const done = c.progress?.completed;

	return h('li', {},
		 h('article', { 'aria-labelledby': `course-${c.id}` },
		   h('h2', { id: `course-${c.id}` },
		     h('a', { href: courseHref(c.id) }, c.title ?? c.id)),
		   dueLine(c.due),
		   SHOWN_STATUS.has(status) ?
			h('p', {}, statusBadge('compliance', status)) : null,
		   progressBar(pct, t('course.progress')),
		   done ? h('p', { class: 'meta' }, t('course.allDone')) : null,
		   h('p', { class: 'actions' },
		     h('a', { href: courseHref(c.id), class: 'button' },
		       t('course.open')))));
}

export async function trainingsPage(ctx) {
	const [courses, rows] = await Promise.all([
		api('GET', '/api/v1/courses'),
		api('GET', `/api/v1/compliance?user=${ctx.user.id}`)
			.catch(() => []),
	]);

	if (!ctx.current())
		return;
	const status = new Map(rows.filter((r) => r.user === ctx.user.id)
		.map((r) => [r.course, r.status]));
	ctx.title(t('trainings.title'));
	replace(ctx.main, heading(t('trainings.title')),
		courses.length ?
			h('ul', { class: 'cards' }, courses.map((c) =>
				trainingCard(c, status.get(c.id)))) :
			h('p', { class: 'msg msg-info' },
			  t('trainings.empty'), ' ',
			  h('a', { href: '#/catalog' }, t('nav.catalog'))));
}

/* ---- catalog ---- */

function catalogCard(c, mine, onEnroll) {
	const out = liveRegion();
	let action;

	if (mine.has(c.id))
		action = h('a', { href: courseHref(c.id), class: 'button' },
			   t('course.open'));
	else
		action = h('button', { type: 'button', class: 'primary',
				       onclick: (ev) => onEnroll(c, ev.target,
								 out) },
			   t('catalog.enroll'));
	return h('li', {},
		 h('article', { 'aria-labelledby': `cat-${c.id}` },
		   h('h2', { id: `cat-${c.id}` }, c.title ?? c.id),
		   c.summary ? h('p', {}, c.summary) : null,
		   c.duration_minutes ?
			h('p', { class: 'meta' },
			  t('catalog.minutes', { n: c.duration_minutes })) :
			null,
		   mine.has(c.id) ?
			h('p', { class: 'meta' }, t('catalog.enrolled')) :
			null,
		   h('p', { class: 'actions' }, action), out));
}

async function enroll(c, button, out) {
	button.disabled = true;
	try {
		await api('POST', `/api/v1/courses/${
			encodeURIComponent(c.id)}/enroll`);
		location.hash = courseHref(c.id);
	} catch (err) {
		button.disabled = false;
		say(out, errorText(err), 'error');
	}
}

export async function catalogPage(ctx) {
	const [catalog, mine] = await Promise.all([
		api('GET', '/api/v1/catalog'),
		api('GET', '/api/v1/courses').catch(() => []),
	]);

	if (!ctx.current())
		return;
	const ids = new Set(mine.map((c) => c.id));
	const open = catalog.filter((c) => c.open);

	ctx.title(t('catalog.title'));
	replace(ctx.main, heading(t('catalog.title')),
		h('p', {}, t('catalog.intro')),
		open.length ?
			h('ul', { class: 'cards' },
			  open.map((c) => catalogCard(c, ids, enroll))) :
			h('p', { class: 'msg msg-info' }, t('catalog.empty')));
}

/* ---- a course ---- */

function lessonItem(course, l) {
	return h('li', {},
		 h('a', { href: lessonHref(course.id, l.id) }, l.title ?? l.id),
		 l.kind === 'quiz' ?
			h('span', { class: 'meta' }, ` (${t('lesson.quiz')})`) :
			null,
		 l.completed ? h('span', { class: 'badge' },
				 h('span', { 'aria-hidden': 'true' }, '✓ '),
				 t('lesson.completed')) : null,
		 l.changed ? h('span', { class: 'badge badge-changed' },
			       t('lesson.changed')) : null);
}

function changesSection(course) {
	const titles = new Map((course.lessons ?? []).map((l) =>
		[l.id, l.title ?? l.id]));

	if (!course.changes?.length)
		return null;
	return h('section', { 'aria-labelledby': 'changes-h' },
		 h('h2', { id: 'changes-h' }, t('course.changes')),
		 h('ul', {}, course.changes.map((c) => h('li', {},
			c.date ? dateEl(c.date, lang()) : null,
			c.date ? ': ' : null,
			/* the subject line; trailers like Retrain: stay out */
			String(c.message ?? '').split('\n')[0],
			c.retrain ? h('strong', {},
				      ` (${t('course.retrain')})`) : null,
			c.lessons?.length ?
				h('span', { class: 'meta' }, ` – ${
					c.lessons.map((id) => titles.get(id) ??
						      id).join(', ')}`) :
				null))));
}

export async function coursePage(ctx) {
	const course = await api('GET', `/api/v1/courses/${
		encodeURIComponent(ctx.params.id)}`);

	if (!ctx.current())
		return;
	const lessons = course.lessons ?? [];
	const next = lessons.find((l) => !l.completed);

	ctx.title(course.title);
	replace(ctx.main,
		h('p', {}, h('a', { href: '#/trainings' },
			     `← ${t('course.back')}`)),
		heading(course.title ?? course.id),
		dueLine(course.due),
		progressBar(course.progress?.percent ?? 0,
			    t('course.progress')),
		next ? h('p', {}, h('a', { href: lessonHref(course.id, next.id),
					   class: 'button primary' },
				    t('course.continue'))) : null,
		h('section', { 'aria-labelledby': 'lessons-h' },
		  h('h2', { id: 'lessons-h' }, t('course.lessons')),
		  h('ol', { class: 'lessons' },
		    lessons.map((l) => lessonItem(course, l)))),
		changesSection(course));
}

/* ---- a lesson ---- */

/*
 * The page's own h1 names the lesson: a first heading of the lesson
 * text that says the same goes, and the others move one level down so
 * that the page has one h1 and an outline without gaps.
 */
function fitHeadings(article, title) {
	const first = article.firstElementChild;

	if (first && /^H[1-6]$/.test(first.tagName) &&
	    first.textContent.trim() === String(title ?? '').trim())
		first.remove();
	if (!article.querySelector('h1'))
		return;
	for (const old of [...article.querySelectorAll('h1, h2, h3, h4, h5')]) {
		const level = Math.min(6, Number(old.tagName[1]) + 1);
		const heading = document.createElement(`h${level}`);

		heading.append(...old.childNodes);
		for (const a of old.attributes)
			heading.setAttribute(a.name, a.value);
		old.replaceWith(heading);
	}
}

function pager(course, index) {
	const lessons = course.lessons ?? [];
	const prev = lessons[index - 1];
	const next = lessons[index + 1];

	return h('nav', { class: 'pager', 'aria-label': t('lesson.pager') },
		 prev ? h('a', { href: lessonHref(course.id, prev.id),
				 rel: 'prev' }, `← ${t('lesson.previous')}`) :
			h('span', {}),
		 h('a', { href: courseHref(course.id) }, t('lesson.overview')),
		 next ? h('a', { href: lessonHref(course.id, next.id),
				 rel: 'next' }, `${t('lesson.next')} →`) :
			h('span', {}));
}

function completeButton(course, lesson, done) {
	const out = liveRegion();
	const button = h('button', { type: 'button', class: 'primary' },
			 t('lesson.markDone'));
	const base = `/api/v1/courses/${encodeURIComponent(course.id)}` +
		     `/lessons/${encodeURIComponent(lesson.id)}`;

	if (done)
		say(out, t('lesson.isDone'), 'ok');
	button.addEventListener('click', async () => {
		/* aria-disabled keeps focus on the button meanwhile */
		if (button.getAttribute('aria-disabled') === 'true')
			return;
		button.setAttribute('aria-disabled', 'true');
		try {
			await api('POST', `${base}/complete`);
			say(out, t('lesson.isDone'), 'ok');
		} catch (err) {
			say(out, errorText(err), 'error');
		} finally {
			button.removeAttribute('aria-disabled');
		}
	});
	return h('div', { class: 'complete' }, button, out);
}

function quizForm(course, lesson, done) {
	const out = liveRegion();
	const base = `/api/v1/courses/${encodeURIComponent(course.id)}` +
		     `/lessons/${encodeURIComponent(lesson.id)}`;
	const sets = (lesson.questions ?? []).map((q, qi) =>
		h('fieldset', {},
		  h('legend', {}, q.text),
		  (q.choices ?? []).map((choice, ci) => {
			const id = `q${qi}-c${ci}`;
			return h('div', { class: 'check' },
				 h('input', { type: 'checkbox', id,
					      name: q.id, value: ci }),
				 h('label', { for: id }, choice));
		  })));
	const form = h('form', {}, sets,
		       h('p', { class: 'hint' },
			 t('quiz.pass', { n: lesson.pass_percent ?? 0 })),
		       h('button', { type: 'submit', class: 'primary' },
			 t('quiz.submit')),
		       out);

	if (done)
		say(out, t('quiz.doneBefore'), 'ok');
	form.addEventListener('submit', async (ev) => {
		const answers = {};

		ev.preventDefault();
		for (const q of lesson.questions ?? [])
			answers[q.id] = [...form.querySelectorAll(
				`input[name="${CSS.escape(q.id)}"]:checked`)]
				.map((i) => Number(i.value));
		const button = form.querySelector('button[type="submit"]');
		if (button.getAttribute('aria-disabled') === 'true')
			return;
		button.setAttribute('aria-disabled', 'true');
		try {
			const r = await api('POST', `${base}/attempts`,
					    { answers });
			out.className = `live msg result msg-${
				r.passed ? 'ok' : 'error'}`;
			replace(out, h('strong', {}, r.passed ?
				       t('quiz.passed') : t('quiz.failed')),
				' – ', h('span', {},
				       t('quiz.score', { n: r.score })));
		} catch (err) {
			say(out, errorText(err), 'error');
		} finally {
			button.removeAttribute('aria-disabled');
		}
	});
	return form;
}

export async function lessonPage(ctx) {
	const cid = encodeURIComponent(ctx.params.id);
	const lid = encodeURIComponent(ctx.params.lesson);
	const [course, lesson] = await Promise.all([
		api('GET', `/api/v1/courses/${cid}`),
		api('GET', `/api/v1/courses/${cid}/lessons/${lid}`),
	]);

	if (!ctx.current())
		return;
	const index = (course.lessons ?? []).findIndex((l) =>
		l.id === ctx.params.lesson);
	const entry = course.lessons?.[index] ?? {};
	let body;

	if (lesson.kind === 'quiz') {
		body = quizForm(course, lesson, entry.completed);
	} else {
		const article = h('article', { class: 'lesson-body' });
		/* safe HTML rendered by the server from Markdown */
		article.innerHTML = lesson.html ?? '';
		fitHeadings(article, lesson.title);
		body = [article, completeButton(course, lesson,
						entry.completed)];
	}
	ctx.title(`${lesson.title ?? lesson.id} – ${course.title}`);
	replace(ctx.main,
		h('p', {}, h('a', { href: courseHref(course.id) },
			     `← ${course.title ?? course.id}`)),
		heading(lesson.title ?? lesson.id),
		entry.changed ? h('p', { class: 'msg msg-info' },
				  t('lesson.changedHint')) : null,
		body, pager(course, index));
}

export { errorBox, field };
