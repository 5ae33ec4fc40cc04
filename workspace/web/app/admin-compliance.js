/*
 * Compliance for admins and managers: who has done their mandatory
 * training and who has not. The overview (#/admin/compliance) counts
 * the rows per status, filters them by course and status (the route's
 * ?course= and ?status=, passed on to GET /api/v1/compliance) and lists
 * person, course, status, due date and certificate. A person's page
 * (#/admin/compliance/user/ID) shows for each of their courses the
 * round, the certificate and every reminder sent, which is what an
 * auditor asks for, with every certificate and its PDF. Managers see
 * the people of their groups; only admins may revoke a certificate.
 */

import { api } from './api.js';
import { dateEl, field, flash, h, liveRegion, replace, setFlash,
	 timeEl } from './dom.js';
import { lang, t } from './i18n.js';
import { frame, roleName, submitting, table } from './admin-kit.js';
import { courseTitles, expiresText, fact, pdfHref,
	 statusBadge } from './certificates.js';

/* The statuses in the order of urgency. */
const STATUSES = ['overdue', 'expired', 'expiring_soon', 'in_progress',
		  'not_started', 'completed'];

/* "?course=a&status=b" of the values given, "" for none. */
function queryString(values) {
	const q = new URLSearchParams();

	for (const [k, v] of Object.entries(values))
		if (v)
			q.set(k, v);
	const s = q.toString();
	return s ? `?${s}` : '';
}

function personHref(id) {
	return `#/admin/compliance/user/${encodeURIComponent(id)}`;
}

/* A certificate in one line: its number and until when it is valid. */
function certificateLine(c) {
	if (!c)
		return '–';
	return h('span', {}, c.number, ' · ',
		 c.expires ? [t('comp.until'), ' ', dateEl(c.expires, lang())] :
			 t('cert.noExpiry'),
		 c.renewal_required ?
			h('strong', {}, ` (${t('comp.renewal')})`) : null);
}

/* ---- the overview ---- */

/* The number of rows per status, each a link that filters by it. */
function counts(rows, course) {
	const n = new Map();

	for (const r of rows)
		n.set(r.status, (n.get(r.status) ?? 0) + 1);
	return h('ul', { class: 'counts', 'aria-label': t('comp.counts') },
		 h('li', {}, h('a', { href: `#/admin/compliance${
			queryString({ course })}` },
			h('span', { class: 'count' }, String(rows.length)),
			h('span', {}, t('comp.all')))),
		 STATUSES.map((s) => h('li', { 'data-status': s },
			h('a', { href: `#/admin/compliance${
				queryString({ course, status: s })}` },
			  h('span', { class: 'count' }, String(n.get(s) ?? 0)),
			  statusBadge('compliance', s)))));
}

/* Course and status; showing them changes the route. */
function filterForm(courses, course, status) {
	const courseSel = h('select', { name: 'course' },
		h('option', { value: '' }, t('comp.allCourses')),
		[...courses].map(([id, title]) => h('option', { value: id },
						       title)));
	const statusSel = h('select', { name: 'status' },
		h('option', { value: '' }, t('comp.allStatuses')),
		STATUSES.map((s) => h('option', { value: s },
				      t(`compliance.status.${s}`))));
	const form = h('form', { class: 'panel filters', role: 'search',
				 'aria-label': t('comp.filter') },
		       h('div', { class: 'row' },
			 field(t('comp.course'), courseSel),
			 field(t('comp.status'), statusSel),
			 h('button', { type: 'submit', class: 'primary' },
			   t('comp.show'))));

	courseSel.value = course;
	statusSel.value = status;
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		location.hash = `#/admin/compliance${queryString({
			course: courseSel.value, status: statusSel.value })}`;
	});
	return form;
}

function overviewTable(rows) {
	return table(t('comp.table'), [
		[t('comp.person'), (r) => [
			h('a', { href: personHref(r.user) }, r.name || r.email),
			r.name ? h('div', { class: 'meta' }, r.email) : null]],
		[t('comp.course'), (r) => r.title ?? r.course],
		[t('comp.status'), (r) => statusBadge('compliance', r.status)],
		[t('comp.due'), (r) => r.due ? dateEl(r.due, lang()) : '–'],
		[t('comp.certificate'), (r) => certificateLine(r.certificate)],
	], rows, (r) => `comp-${r.user}-${r.course}`);
}

export async function adminCompliancePage(ctx) {
	const course = ctx.query.get('course') ?? '';
	const asked = ctx.query.get('status') ?? '';
	const status = STATUSES.includes(asked) ? asked : '';
	const path = '/api/v1/compliance';
	const [rows, all, titles] = await Promise.all([
		api('GET', path + queryString({ course, status })),
		status ? api('GET', path + queryString({ course })) : null,
		courseTitles(),
	]);

	if (!ctx.current())
		return;
	for (const r of all ?? rows)
		titles.set(r.course, r.title ?? r.course);
	frame(ctx, 'compliance', t('admin.compliance'),
	      h('p', {}, t(ctx.user.role === 'admin' ? 'comp.introAdmin' :
			   'comp.introManager')),
	      counts(all ?? rows, course),
	      filterForm(titles, course, status),
	      h('h2', {}, t('comp.table')),
	      rows.length ? overviewTable(rows) :
		      h('p', { class: 'msg msg-info' }, t(course || status ?
			      'comp.noMatch' : 'comp.empty')));
}

/* ---- a person ---- */

/* A reminder's entry of the schedule in words: "-14", "0", "+7",
 * "expiry-30". */
function entryText(entry) {
	let m;

	if ((m = /^-(\d+)$/.exec(entry)))
		return t('rem.before', { n: m[1] });
	if (entry === '0')
		return t('rem.onDue');
	if ((m = /^\+(\d+)$/.exec(entry)))
		return t('rem.after', { n: m[1] });
	if ((m = /^expiry-(\d+)$/.exec(entry)))
		return t('rem.expiry', { n: m[1] });
	return entry;
}

function remindersTable(list) {
	if (!list?.length)
		return h('p', {}, t('rem.none'));
	return table(t('rem.title'), [
		[t('rem.entry'), (r) => [h('code', {}, r.entry), ' ',
					 h('span', { class: 'meta' },
					   entryText(r.entry))]],
		[t('rem.role'), (r) => roleName(r.role)],
		[t('rem.to'), (r) => r.to],
		[t('rem.queued'), (r) => timeEl(r.queued, lang())],
		[t('rem.sent'), (r) => r.sent ? timeEl(r.sent, lang()) :
			t('rem.waiting')],
	], list);
}

/*
 * "Revoke certificate" opens a reason field and a confirmation in
 * place; the page is drawn again once it is revoked. describedBy names
 * the certificate; out takes the errors.
 */
function revokeControl(ctx, cert, describedBy, out) {
	const slot = h('div', { class: 'revoke' });
	const ask = h('button', { type: 'button', class: 'danger',
				  'aria-describedby': describedBy },
		      t('cert.revoke'));
	const open = () => {
		const reason = h('textarea', { rows: 2, required: true,
					       maxlength: 500 });
		const cancel = h('button', { type: 'button' },
				 t('admin.cancel'));
		const form = h('form', { 'aria-describedby': describedBy },
			       field(t('cert.reason'), reason,
				     t('cert.reasonHint')),
			       h('div', { class: 'buttons' },
				 h('button', { type: 'submit',
					       class: 'danger' },
				   t('cert.confirmRevoke')), cancel));

		cancel.addEventListener('click', () => {
			replace(slot, ask);
			ask.focus();
		});
		form.addEventListener('submit', (ev) => {
			ev.preventDefault();
			submitting(form, out, async () => {
				await api('POST', `/api/v1/certificates/${
					cert.id}/revoke`,
					{ reason: reason.value.trim() });
				setFlash(t('cert.revokedMsg',
					   { number: cert.number }));
				ctx.rerender();
			});
		});
		replace(slot, form);
		reason.focus();
	};

	ask.addEventListener('click', open);
	return replace(slot, ask);
}

const REASONS = { assigned: 'round.assigned', recur: 'round.recur',
		  retrain: 'round.retrain' };

/* One course of the person: round, certificate, reminders. */
function courseSection(ctx, r, admin) {
	const head = `course-${r.course}`;
	const c = r.certificate;
	const out = liveRegion('alert');
	const about = `${head} cert-no-${r.course}`;

	return h('section', { class: 'panel', 'aria-labelledby': head },
		 h('h2', { id: head }, r.title ?? r.course),
		 h('p', {}, statusBadge('compliance', r.status)),
		 h('h3', {}, t('round.title')),
		 h('dl', { class: 'facts' },
		   fact(t('round.reason'), t(REASONS[r.round?.reason] ??
					     'round.assigned')),
		   r.round?.opened ?
			fact(t('round.opened'), dateEl(r.round.opened,
						       lang())) : null,
		   fact(t('comp.due'), r.due ? dateEl(r.due, lang()) : '–')),
		 h('h3', {}, t('comp.certificate')),
		 c ? h('dl', { class: 'facts' },
		       fact(t('cert.number'), h('span', {
			       id: `cert-no-${r.course}` }, c.number)),
		       fact(t('cert.issued'), dateEl(c.issued, lang())),
		       fact(t('cert.expires'), expiresText(c.expires)),
		       c.renewal_required ?
			       fact(t('comp.renewal'), t('comp.renewalHint')) :
			       null) :
			h('p', {}, t('comp.noCertificate')),
		 c ? h('div', { class: 'buttons' },
		       h('a', { href: pdfHref(c.id), class: 'button',
				'aria-describedby': about }, t('cert.pdf')),
		       admin ? revokeControl(ctx, c, about, out) : null) :
			null,
		 out,
		 h('h3', {}, t('rem.title')),
		 remindersTable(r.reminders));
}

/* Every certificate of the person, revoked and expired ones too. */
function allCertificates(certs, titles) {
	return h('section', { 'aria-labelledby': 'all-certs' },
		 h('h2', { id: 'all-certs' }, t('comp.allCerts')),
		 certs.length ? table(t('comp.allCerts'), [
			[t('cert.number'), (c) => c.number],
			[t('comp.course'), (c) => titles.get(c.course) ??
				c.course],
			[t('cert.issued'), (c) => dateEl(c.issued, lang())],
			[t('cert.expires'), (c) => expiresText(c.expires)],
			[t('comp.status'), (c) => statusBadge('cert',
							      c.status)],
			['PDF', (c) => h('a', { href: pdfHref(c.id) },
					 t('cert.pdf'))],
		 ], certs) : h('p', {}, t('cert.none')));
}

/* The person's name and email: from their rows, else from the users
 * API (a person without mandatory training). */
async function personOf(id, rows) {
	if (rows.length)
		return { name: rows[0].name, email: rows[0].email };
	return api('GET', `/api/v1/users/${id}`).catch(() => ({}));
}

export async function adminComplianceUserPage(ctx) {
	const id = ctx.params.id;
	const admin = ctx.user.role === 'admin';

	if (!/^\d+$/.test(id)) {
		location.replace('#/admin/compliance');
		return;
	}
	const [rows, certs, titles] = await Promise.all([
		api('GET', `/api/v1/compliance?user=${id}`),
		api('GET', `/api/v1/certificates?user=${id}`),
		courseTitles(),
	]);
	const who = await personOf(id, rows);

	if (!ctx.current())
		return;
	frame(ctx, 'compliance', who.name || who.email ||
	      t('comp.person'),
	      who.name && who.email ? h('p', { class: 'meta' }, who.email) :
		      null,
	      h('p', { class: 'buttons' },
		h('a', { href: '#/admin/compliance' }, `← ${t('comp.back')}`),
		h('a', { href: `#/admin/reports/transcript/${id}` },
		  t('comp.transcript'))),
	      flash(),
	      rows.length ? rows.map((r) => courseSection(ctx, r, admin)) :
		      h('p', { class: 'msg msg-info' }, t('comp.personEmpty')),
	      certs ? allCertificates(certs, titles) : null);
}
