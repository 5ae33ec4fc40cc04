/*
 * The learner's certificates (#/certificates): each with its number,
 * course, dates of issue and expiry and a status badge, a link to the
 * PDF and one to the public verification page. Also the badges that
 * name a status in words and colour (a certificate's, a course's
 * compliance status, a mail's state), which the trainings page and the
 * admin's pages use too.
 */

import { api } from './api.js';
import { dateEl, h, heading, replace } from './dom.js';
import { lang, t } from './i18n.js';

/* The colour of a status: ok (green), warn (orange), error (red) or
 * muted (grey); the text always says the status too. */
const TONE = {
	valid: 'ok',
	completed: 'ok',
	sent: 'ok',
	expiring_soon: 'warn',
	retrying: 'warn',
	expired: 'error',
	overdue: 'error',
	revoked: 'error',
};

/*
 * A badge with the name of status: kind "cert" (valid, expired,
 * revoked), "compliance" (not_started ... completed) or "mail"
 * (queued, retrying, sent). data-status keeps the status for styles.
 */
export function statusBadge(kind, status) {
	return h('span', { class: `badge status badge-${TONE[status] ??
						       'muted'}`,
			   'data-status': status },
		 t(`${kind}.status.${status}`));
}

/* The titles of the workspace's courses by id; an empty map when the
 * catalog cannot be read. */
export async function courseTitles() {
	const catalog = await api('GET', '/api/v1/catalog').catch(() => []);

	return new Map(catalog.map((c) => [c.id, c.title ?? c.id]));
}

export function pdfHref(id) {
	return `/api/v1/certificates/${encodeURIComponent(id)}/pdf`;
}

/* A term and its description for a <dl class="facts">. */
export function fact(term, ...value) {
	return [h('dt', {}, term), h('dd', {}, ...value)];
}

/* The date of expiry, or that the certificate does not expire. */
export function expiresText(iso) {
	return iso ? dateEl(iso, lang()) : t('cert.noExpiry');
}

function certificateCard(c, titles) {
	const head = `cert-${c.id}`;
	const about = `${head} cert-number-${c.id}`;

	return h('li', {},
		 h('article', { 'aria-labelledby': head },
		   h('h2', { id: head }, titles.get(c.course) ?? c.course),
		   h('p', {}, statusBadge('cert', c.status)),
		   h('dl', { class: 'facts' },
		     fact(t('cert.number'),
			  h('span', { id: `cert-number-${c.id}` }, c.number)),
		     fact(t('cert.issued'), dateEl(c.issued, lang())),
		     fact(t('cert.expires'), expiresText(c.expires))),
		   h('p', { class: 'actions buttons' },
		     h('a', { href: pdfHref(c.id), class: 'button primary',
			      'aria-describedby': about },
		       t('cert.pdf')),
		     c.verify_url ?
			h('a', { href: c.verify_url, class: 'button',
				 'aria-describedby': about },
			  t('cert.verify')) : null)));
}

export async function certificatesPage(ctx) {
	const [certs, titles] = await Promise.all([
		api('GET', '/api/v1/certificates'), courseTitles()]);

	if (!ctx.current())
		return;
	/* the newest first: the one a learner looks for */
	const list = [...certs].reverse();

	ctx.title(t('cert.title'));
	replace(ctx.main, heading(t('cert.title')),
		list.length ?
			[h('p', {}, t('cert.intro')),
			 h('ul', { class: 'cards' }, list.map((c) =>
				certificateCard(c, titles)))] :
			h('p', { class: 'msg msg-info' }, t('cert.empty')));
}
