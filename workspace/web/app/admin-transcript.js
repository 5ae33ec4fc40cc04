/*
 * A learner's transcript for admins and managers
 * (#/admin/reports/transcript/ID, from GET
 * /api/v1/reports/transcript?user=ID): the status of each of their
 * courses, every lesson completed, every quiz attempt and every
 * certificate, each with the revision of the course it was made on,
 * which is what an auditor asks for; downloads as CSV and JSON.
 * Managers reach the people of their groups (else the server answers
 * 403 and the page says so).
 */

import { api } from './api.js';
import { dateEl, h, timeEl } from './dom.js';
import { lang, t } from './i18n.js';
import { frame, table } from './admin-kit.js';
import { courseTitles, expiresText, statusBadge } from './certificates.js';
import { downloads, reportHref } from './admin-reports.js';

/* A revision (a commit id) shortened, the whole of it in the title. */
function revision(rev) {
	if (!rev)
		return '–';
	return h('code', { class: 'revision', title: rev,
			   'data-revision': rev }, rev.slice(0, 12));
}

function part(id, title, rows, empty, columns) {
	return h('section', { class: 'report', 'aria-labelledby': id },
		 h('h2', { id }, title),
		 rows?.length ? table(title, columns, rows) :
			 h('p', {}, empty));
}

function courses(list) {
	return part('tr-courses', t('tr.courses'), list, t('tr.noCourses'), [
		[t('comp.course'), (c) => c.title ?? c.course],
		[t('comp.status'), (c) => statusBadge('compliance', c.status)],
		[t('comp.due'), (c) => c.due ? dateEl(c.due, lang()) : '–'],
		[t('comp.certificate'), (c) => c.certificate?.number ?? '–'],
	]);
}

function completions(list, titles) {
	return part('tr-completions', t('tr.completions'), list,
		    t('tr.noCompletions'), [
		[t('comp.course'), (c) => c.title ?? titles.get(c.course) ??
			c.course],
		[t('tr.lesson'), (c) => c.lesson],
		[t('tr.revision'), (c) => revision(c.revision)],
		[t('tr.completedAt'), (c) => timeEl(c.completed_at, lang())],
	]);
}

function attempts(list, titles) {
	return part('tr-attempts', t('tr.attempts'), list, t('tr.noAttempts'), [
		[t('comp.course'), (a) => titles.get(a.course) ?? a.course],
		[t('tr.lesson'), (a) => a.lesson],
		[t('tr.revision'), (a) => revision(a.revision)],
		[t('tr.score'), (a) => `${a.score} %`],
		[t('tr.result'), (a) => h('span', {
			class: `badge status${a.passed ? '' : ' badge-error'}`,
			'data-status': a.passed ? 'passed' : 'failed' },
			t(a.passed ? 'tr.passed' : 'tr.failed'))],
		[t('tr.at'), (a) => timeEl(a.at, lang())],
	]);
}

function certificates(list, titles) {
	return part('tr-certificates', t('comp.allCerts'), list,
		    t('cert.none'), [
		[t('cert.number'), (c) => c.number],
		[t('comp.course'), (c) => titles.get(c.course) ?? c.course],
		[t('tr.revision'), (c) => revision(c.revision)],
		[t('cert.issued'), (c) => dateEl(c.issued, lang())],
		[t('cert.expires'), (c) => expiresText(c.expires)],
		[t('comp.status'), (c) => statusBadge('cert', c.status)],
	]);
}

export async function adminTranscriptPage(ctx) {
	const id = ctx.params.id;

	if (!/^\d+$/.test(id)) {
		location.replace('#/admin/reports');
		return;
	}
	const [tr, titles] = await Promise.all([
		api('GET', reportHref('transcript', { user: id })),
		courseTitles(),
	]);

	if (!ctx.current())
		return;
	for (const c of [...tr.courses ?? [], ...tr.completions ?? []])
		if (c.title)
			titles.set(c.course, c.title);
	const who = tr.user ?? {};

	frame(ctx, 'reports', t('tr.title', { name: who.name || who.email }),
	      who.name && who.email ? h('p', { class: 'meta' }, who.email) :
		      null,
	      h('p', { class: 'buttons' },
		h('a', { href: '#/admin/reports' }, `← ${t('rep.back')}`),
		h('a', { href: `#/admin/compliance/user/${id}` },
		  t('tr.compliance'))),
	      downloads('transcript', { user: id }, 'page-heading',
			`transcript-${id}`),
	      courses(tr.courses),
	      completions(tr.completions, titles),
	      attempts(tr.attempts, titles),
	      certificates(tr.certificates, titles));
}
