/*
 * Reports for admins and managers (#/admin/reports): filters by course,
 * group and period (the route's ?course=, ?group=, ?from=, ?to=,
 * passed on to GET /api/v1/reports/...), the totals as tiles, the
 * completion rate per course as a bar chart and a table, completions
 * and due work per month over the last year, completion per group,
 * the people overdue and those whose certificate expires soon or has
 * expired. Each report has links to download it as CSV (comma or
 * semicolon, for a German Excel) and JSON. A report with nothing to
 * count shows why instead of a chart. Managers see the people of their
 * groups; the server narrows every report to them.
 */

import { api } from './api.js';
import { dateEl, errorBox, field, h } from './dom.js';
import { lang, t } from './i18n.js';
import { frame, table } from './admin-kit.js';
import { courseTitles, statusBadge } from './certificates.js';
import { rateChart, seriesChart } from './charts.js';

const BASE = '/api/v1/reports/';

/* The counts of a completion row, in the order of the columns. */
const COUNTS = ['assigned', 'not_started', 'in_progress', 'completed',
		'expiring_soon', 'expired', 'overdue'];

/* The address of a report: filters with a value, then format and
 * delimiter when given. */
export function reportHref(kind, filters, format, delimiter) {
	const q = new URLSearchParams();

	for (const [k, v] of Object.entries(filters))
		if (v !== '' && v !== null && v !== undefined)
			q.set(k, v);
	if (format)
		q.set('format', format);
	if (delimiter)
		q.set('delimiter', delimiter);
	const s = q.toString();
	return `${BASE}${kind}${s ? `?${s}` : ''}`;
}

/* Links that download a report as CSV (comma, semicolon) and JSON;
 * describedBy names the report for screen readers. */
export function downloads(kind, filters, describedBy, file) {
	const link = (text, href, name) => h('a', {
		href, download: name ?? true, class: 'button',
		'aria-describedby': describedBy }, text);

	return h('p', { class: 'downloads buttons' },
		 h('span', {}, t('rep.download')),
		 link(t('rep.csv'), reportHref(kind, filters, 'csv')),
		 link(t('rep.csvSemicolon'), reportHref(kind, filters, 'csv',
							 'semicolon')),
		 link(t('rep.json'), reportHref(kind, filters, 'json'),
		      `${file}.json`));
}

/* A rate 0..1 as "50 %". */
export function percent(rate) {
	return `${Math.round((Number(rate) || 0) * 100)} %`;
}

/* The server's reasons for an empty report, in the page's language. */
const REASONS = {
	'the group has no members': 'rep.why.noMembers',
	'nobody here is assigned this course': 'rep.why.notAssignedCourse',
	'nobody here is assigned a course': 'rep.why.notAssigned',
	'no data in this period': 'rep.why.noPeriod',
	'no learner matches': 'rep.why.noLearner',
};

function emptyBox(report) {
	const key = REASONS[report.message];

	return h('p', { class: 'msg msg-info report-empty' },
		 key ? t(key) : report.message || t('rep.why.nothing'));
}

/* Resolves to { value } or { error }: one report that fails leaves the
 * others on the page. */
function settle(promise) {
	return promise.then((value) => ({ value }), (error) => ({ error }));
}

/* A section of the page named by its heading. */
function section(id, title, ...parts) {
	return h('section', { class: 'panel report', 'aria-labelledby': id },
		 h('h2', { id }, title), ...parts);
}

/* ---- filters ---- */

function filtersOf(query) {
	const day = (k) => (/^\d{4}-\d{2}-\d{2}$/.test(query.get(k) ?? '') ?
			    query.get(k) : '');
	const group = query.get('group') ?? '';

	return { course: query.get('course') ?? '',
		 group: /^\d+$/.test(group) ? group : '',
		 from: day('from'), to: day('to') };
}

/* The groups to filter by, [[id, name]]: an admin's from the groups,
 * a manager's from the report per group (which holds theirs). */
async function groupChoices(admin) {
	try {
		if (admin)
			return (await api('GET', '/api/v1/groups')).map(
				(g) => [String(g.id), g.name]);
		const r = await api('GET', reportHref('completion',
						      { by: 'group' }));
		return r.rows.map((g) => [String(g.group), g.name]);
	} catch {
		return [];
	}
}

function select(name, all, choices, value) {
	const el = h('select', { name },
		     h('option', { value: '' }, all),
		     choices.map(([id, text]) => h('option', { value: id },
						   text)));

	el.value = value;
	return el;
}

function filterForm(titles, groups, f) {
	const course = select('course', t('comp.allCourses'), [...titles],
			      f.course);
	const group = select('group', t('rep.allGroups'), groups, f.group);
	const from = h('input', { type: 'date', name: 'from', value: f.from });
	const to = h('input', { type: 'date', name: 'to', value: f.to });
	const form = h('form', { class: 'panel filters', role: 'search',
				 'aria-label': t('comp.filter') },
		       h('div', { class: 'row' },
			 field(t('comp.course'), course),
			 field(t('rep.group'), group),
			 field(t('rep.from'), from),
			 field(t('rep.to'), to),
			 h('button', { type: 'submit', class: 'primary' },
			   t('comp.show'))),
		       h('p', { class: 'hint' }, t('rep.periodHint')));

	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		const q = new URLSearchParams();
		for (const el of [course, group, from, to])
			if (el.value)
				q.set(el.name, el.value);
		const s = q.toString();
		location.hash = `#/admin/reports${s ? `?${s}` : ''}`;
	});
	return form;
}

/* ---- completion ---- */

function tile(key, value, label) {
	return h('li', { 'data-key': key },
		 h('span', { class: 'count' }, value),
		 h('span', {}, label));
}

function countLabel(k) {
	return t(k === 'assigned' ? 'rep.assigned' : `compliance.status.${k}`);
}

/* The totals of the completion report (whose downloads are with the
 * table per course: the CSV ends with the totals). */
function totals(report, f) {
	const tot = report.total ?? {};

	return section('rep-totals', t('rep.totals'),
		h('ul', { class: 'counts tiles' },
		  tile('completion_rate', percent(tot.completion_rate),
		       t('rep.rate')),
		  COUNTS.map((k) => tile(k, String(tot[k] ?? 0),
					 countLabel(k))),
		  f.from || f.to ? tile('completed_in_period',
					String(tot.completed_in_period ?? 0),
					t('rep.inPeriod')) : null));
}

/* The columns of the counts and the rate, for a table of rows; with
 * a period, also the completions in it. */
function countColumns(f) {
	return [
		...COUNTS.map((k) => [countLabel(k),
				      (r) => String(r[k] ?? 0)]),
		f.from || f.to ? [t('rep.inPeriod'), (r) => String(
			r.completed_in_period ?? 0)] : null,
		[t('rep.rate'), (r) => percent(r.completion_rate)],
	].filter(Boolean);
}

function perCourse(report, f) {
	const rows = report.rows ?? [];
	const items = rows.map((r) => ({ id: r.course, label: r.title ??
					 r.course, rate: r.completion_rate,
					 text: percent(r.completion_rate) }));

	return section('rep-courses', t('rep.perCourse'),
		report.empty ? emptyBox(report) : [
			rateChart(t('rep.rateChart'), items.map((i) =>
				`${i.label}: ${i.text}`).join('; '), items),
			table(t('rep.perCourse'), [
				[t('comp.course'), (r) => r.title ?? r.course],
				...countColumns(f),
			], rows, (r) => `rep-course-${r.course}`)],
		downloads('completion', f, 'rep-courses', 'completion'));
}

function perGroup(res, f) {
	const report = res.value;
	const rows = report?.rows ?? [];

	return section('rep-groups', t('rep.perGroup'),
		res.error ? errorBox(res.error) :
		report.empty || !rows.length ? emptyBox(report) :
		table(t('rep.perGroup'), [
			[t('rep.group'), (r) => r.name],
			[t('rep.members'), (r) => String(r.members ?? 0)],
			...countColumns(f),
		], rows, (r) => `rep-group-${r.group}`),
		downloads('completion', { by: 'group', ...f }, 'rep-groups',
			  'completion-groups'));
}

/* ---- over time ---- */

/* A month "YYYY-MM" in words: style "long" (January 2026), "short"
 * (Jan 2026) or "narrow" (J, under a bar of the chart). */
function monthName(ym, style) {
	const [y, m] = ym.split('-').map(Number);
	const options = style === 'narrow' ? { month: 'narrow' } :
		{ month: style, year: 'numeric' };

	return new Intl.DateTimeFormat(lang(), { ...options, timeZone: 'UTC' })
		.format(new Date(Date.UTC(y, m - 1, 1)));
}

/* A table whose rows, stacked on a narrow screen, put their numbers
 * side by side under the first cell rather than one a line. */
function compact(wrap) {
	wrap.querySelector('table').classList.add('compact');
	return wrap;
}

const SERIES = [
	{ key: 'completions', cls: 'done', label: 'rep.completions' },
	{ key: 'due', cls: 'due', label: 'rep.due' },
];

function legend() {
	return h('ul', { class: 'legend', 'aria-hidden': 'true' },
		 SERIES.map((s) => h('li', {},
			h('span', { class: `swatch ${s.cls}` }), t(s.label))));
}

function timeline(res, scope) {
	const months = res.value?.months ?? [];
	const quiet = months.every((m) => !m.completions && !m.due &&
				   !m.certificates_issued && !m.overdue_end);
	const slots = months.map((m) => ({ ...m, id: m.month,
					    label: monthName(m.month,
							     'narrow') }));
	const desc = months.map((m) => t('rep.monthDesc', {
		month: monthName(m.month, 'long'), done: m.completions,
		due: m.due })).join('; ');

	return section('rep-timeline', t('rep.timeline'),
		res.error ? errorBox(res.error) :
		quiet ? h('p', { class: 'msg msg-info report-empty' },
			  t('rep.timelineEmpty')) : [
			seriesChart(t('rep.timelineChart'), desc, slots,
				    SERIES),
			legend(),
			compact(table(t('rep.timeline'), [
				[t('rep.month'), (m) => monthName(m.month,
								  'short')],
				[t('rep.completions'), (m) => String(
					m.completions)],
				[t('rep.issued'), (m) => String(
					m.certificates_issued)],
				[t('rep.due'), (m) => String(m.due)],
				[t('rep.overdueEnd'), (m) => String(
					m.overdue_end)],
			], months))],
		downloads('timeline', { ...scope, months: 12 }, 'rep-timeline',
			  'timeline'));
}

/* ---- people ---- */

export function transcriptHref(id) {
	return `#/admin/reports/transcript/${encodeURIComponent(id)}`;
}

function people(id, title, res, filters) {
	const report = res.value;

	return section(id, title,
		res.error ? errorBox(res.error) :
		report.empty || !report.rows?.length ? emptyBox(report) :
		table(title, [
			[t('comp.person'), (r) => [
				h('a', { href: transcriptHref(r.user) },
				  r.name || r.email),
				r.name ? h('div', { class: 'meta' }, r.email) :
					null]],
			[t('comp.course'), (r) => r.title ?? r.course],
			[t('comp.status'), (r) => statusBadge('compliance',
							      r.status)],
			[t('comp.due'), (r) => r.due ? dateEl(r.due, lang()) :
				'–'],
			[t('comp.certificate'), (r) => r.certificate || '–'],
			[t('cert.expires'), (r) => r.expires ?
				dateEl(r.expires, lang()) : '–'],
		], report.rows, (r) => `${id}-${r.user}-${r.course}`),
		downloads('people', filters, id, `people-${id.slice(4)}`));
}

export async function adminReportsPage(ctx) {
	const f = filtersOf(ctx.query);
	const scope = { course: f.course, group: f.group };
	const overdue = { ...scope, status: 'overdue' };
	const expiring = { ...scope, status: 'expiring_soon,expired' };
	const get = (kind, filters) => settle(api('GET',
						  reportHref(kind, filters)));
	const [completion, groups, late, soon, months, titles, choices] =
		await Promise.all([
			get('completion', f),
			get('completion', { by: 'group', ...f }),
			get('people', overdue),
			get('people', expiring),
			get('timeline', { ...scope, months: 12 }),
			courseTitles(),
			groupChoices(ctx.user.role === 'admin'),
		]);

	if (!ctx.current())
		return;
	for (const r of completion.value?.rows ?? [])
		titles.set(r.course, r.title ?? r.course);
	frame(ctx, 'reports', t('admin.reports'),
	      h('p', {}, t(ctx.user.role === 'admin' ? 'rep.introAdmin' :
			   'rep.introManager')),
	      filterForm(titles, choices, f),
	      completion.error ? errorBox(completion.error) :
		      [totals(completion.value, f),
		       perCourse(completion.value, f)],
	      timeline(months, scope),
	      perGroup(groups, f),
	      people('rep-overdue', t('rep.overdue'), late, overdue),
	      people('rep-expiring', t('rep.expiring'), soon, expiring));
}
