/*
 * The admin's view of the outbox (#/admin/mail): how many mails wait,
 * are being retried or went out, a filter by state (the route's
 * ?state=), and the mails newest first, 50 at a time, with "Show older
 * mails" to page on. A mail being retried says why its last attempt
 * failed. Read only: the workspace sends and retries by itself.
 */

import { api } from './api.js';
import { field, h, liveRegion, replace, say, timeEl } from './dom.js';
import { lang, t } from './i18n.js';
import { frame, submitting, table } from './admin-kit.js';
import { statusBadge } from './certificates.js';

const STATES = ['queued', 'retrying', 'sent'];

/* GET /api/v1/mail/outbox with the state (may be "") and before (an
 * id, or null for the newest). */
function loadOutbox(state, before) {
	const q = new URLSearchParams();

	if (state)
		q.set('state', state);
	if (before !== null && before !== undefined)
		q.set('before', before);
	const s = q.toString();
	return api('GET', `/api/v1/mail/outbox${s ? `?${s}` : ''}`);
}

/* The name of a kind of mail, or the kind itself for one without. */
function kindName(kind) {
	const key = `mail.kind.${kind}`;
	const text = t(key);

	return text === key ? kind : text;
}

function countsList(counts) {
	const all = STATES.reduce((n, s) => n + (counts?.[s] ?? 0), 0);

	return h('ul', { class: 'counts', 'aria-label': t('mail.counts') },
		 h('li', {}, h('a', { href: '#/admin/mail' },
			       h('span', { class: 'count' }, String(all)),
			       h('span', {}, t('mail.all')))),
		 STATES.map((s) => h('li', { 'data-status': s },
			h('a', { href: `#/admin/mail?state=${s}` },
			  h('span', { class: 'count' },
			    String(counts?.[s] ?? 0)),
			  statusBadge('mail', s)))));
}

function stateForm(state) {
	const select = h('select', { name: 'state' },
			 h('option', { value: '' }, t('mail.allStates')),
			 STATES.map((s) => h('option', { value: s },
					     t(`mail.status.${s}`))));
	const form = h('form', { class: 'panel filters', role: 'search',
				 'aria-label': t('mail.filter') },
		       h('div', { class: 'row' },
			 field(t('mail.state'), select),
			 h('button', { type: 'submit', class: 'primary' },
			   t('comp.show'))));

	select.value = state;
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		location.hash = select.value ?
			`#/admin/mail?state=${select.value}` : '#/admin/mail';
	});
	return form;
}

/* When the next attempt is, or when the mail went out. */
function whenCell(m) {
	if (m.sent)
		return [t('mail.sentAt'), ' ', timeEl(m.sent, lang())];
	if (m.next_attempt)
		return [t('mail.nextAt'), ' ', timeEl(m.next_attempt, lang())];
	return '–';
}

function mailTable(mails) {
	return table(t('mail.list'), [
		[t('mail.created'), (m) => timeEl(m.created, lang())],
		[t('mail.to'), (m) => m.to],
		[t('mail.kind'), (m) => kindName(m.kind)],
		[t('mail.subject'), (m) => m.subject],
		[t('mail.state'), (m) => [statusBadge('mail', m.state),
			m.last_error && !m.sent ?
				h('div', { class: 'mail-error' },
				  `${t('mail.lastError')}: ${m.last_error}`) :
				null]],
		[t('mail.attempts'), (m) => String(m.attempts ?? 0)],
		[t('mail.when'), whenCell],
	], mails, (m) => `mail-${m.id}`);
}

/*
 * The list with its "Show older mails" button: each press loads the
 * next 50 and adds them below; focus goes to the first new row.
 */
function mailList(state, first) {
	const slot = h('div', { class: 'mail-list' });
	const out = liveRegion();
	const more = h('form', { class: 'older' },
		       h('button', { type: 'submit' }, t('mail.older')));
	let mails = [...first.mails];
	let before = first.next_before;

	const draw = () => {
		replace(slot, mails.length ? mailTable(mails) :
			h('p', { class: 'msg msg-info' }, t(state ?
				'mail.noMatch' : 'mail.empty')),
			before !== null && before !== undefined ? more : null,
			out);
	};
	more.addEventListener('submit', (ev) => {
		ev.preventDefault();
		submitting(more, out, async () => {
			const page = await loadOutbox(state, before);
			const firstNew = page.mails[0];

			mails = mails.concat(page.mails);
			before = page.next_before;
			draw();
			say(out, t('mail.moreShown', { n: page.mails.length }),
			    'info');
			const row = firstNew &&
				document.getElementById(`mail-${firstNew.id}`);
			if (row) {
				row.tabIndex = -1;
				row.focus();
			}
		});
	});
	draw();
	return slot;
}

export async function adminMailPage(ctx) {
	const asked = ctx.query.get('state') ?? '';
	const state = STATES.includes(asked) ? asked : '';
	const first = await loadOutbox(state, null);

	if (!ctx.current())
		return;
	frame(ctx, 'mail', t('admin.mail'),
	      h('p', {}, t('mail.intro')),
	      countsList(first.counts),
	      stateForm(state),
	      h('h2', {}, t('mail.list')),
	      mailList(state, first));
}
