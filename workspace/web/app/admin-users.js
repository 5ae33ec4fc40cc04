/*
 * The admin's users page: the list of users with their groups, an
 * invitation link for each, a form to change a user's name, role and
 * attributes (their rule groups follow at once and are shown after
 * saving), and a form for a new user.
 */

import { api } from './api.js';
import { errorBox, errorText, field, flash, h, liveRegion, replace, say,
	 setFlash } from './dom.js';
import { lang, t } from './i18n.js';
import { frame, namedForm, pairList, roleName, roleSelect, submitting,
	 table } from './admin-kit.js';

/* "key=value" lines into an object; throws on a line without "=". */
function parseAttributes(text) {
	const out = {};

	for (const line of text.split('\n').map((l) => l.trim())) {
		if (!line)
			continue;
		const at = line.indexOf('=');
		if (at < 1)
			throw new Error(t('users.attrLine', { line }));
		out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
	}
	return out;
}

/* The names of group ids, in the order given. */
function groupNames(ids, names) {
	return (ids ?? []).map((g) => names.get(g) ?? String(g));
}

async function loadGroupNames() {
	const groups = await api('GET', '/api/v1/groups').catch(() => []);

	return new Map(groups.map((g) => [g.id, g.name]));
}

/* ---- invitation ---- */

async function invite(u, panel) {
	const out = liveRegion();

	panel.className = 'panel';
	replace(panel, out);
	try {
		const r = await api('POST', `/api/v1/users/${u.id}/invitation`);
		const link = new URL(r.url, location.origin).href;
		const input = h('input', { type: 'text', readonly: true,
					   value: link });
		const copy = h('button', { type: 'button' }, t('users.copy'));

		copy.addEventListener('click', async () => {
			input.select();
			try {
				await navigator.clipboard.writeText(link);
				say(out, t('users.copied'), 'ok');
			} catch {
				say(out, t('users.copyByHand'), 'info');
			}
		});
		replace(panel,
			h('h2', {}, t('users.inviteFor', { email: u.email })),
			field(t('users.inviteLink'), input,
			      r.expires ? t('users.expires', {
				      when: new Date(r.expires)
					      .toLocaleString(lang()) }) :
				      null),
			h('div', { class: 'copy-link' }, copy), out);
		input.focus();
		input.select();
	} catch (err) {
		say(out, errorText(err), 'error');
	}
}

/* ---- changing a user ---- */

/* The body of PATCH /api/v1/users/{id}: attributes set from the rows,
 * those no longer there removed (null). Throws on a row without a key
 * or without a value. */
function userChange(name, role, list, before) {
	const attributes = {};

	for (const [k, v] of list.pairs()) {
		if (!k || !v)
			throw new Error(t('users.attrIncomplete',
					  { key: k || v }));
		attributes[k] = v;
	}
	for (const k of Object.keys(before))
		if (!(k in attributes))
			attributes[k] = null;
	const body = { name: name.value.trim(), role: role.value };

	if (Object.keys(attributes).length)
		body.attributes = attributes;
	return body;
}

/* Where focus goes when the form closes: the user's Edit button. */
function focusEditButton(u) {
	document.getElementById(`user-row-${u.id}`)
		?.querySelector('button.edit')?.focus();
}

/*
 * Opens the form that changes user u in panel; names maps group ids to
 * names; redraw() draws the list again after a change.
 */
function editUser(u, names, panel, redraw) {
	let before = u.attributes ?? {};
	const name = h('input', { type: 'text', required: true,
				  maxlength: 200, autocomplete: 'off',
				  value: u.name });
	const role = roleSelect(u.role);
	const list = pairList(t('users.attributes'), t('users.attrHint'), {
		key: t('users.attribute'), value: t('users.value'),
		remove: t('users.removeAttribute'),
	}, t('users.addAttribute'), Object.entries(before));
	const groups = h('p', { class: 'user-groups' });
	const showGroups = (ids) => {
		const shown = groupNames(ids, names);
		replace(groups, h('strong', {}, `${t('admin.groups')}: `),
			shown.length ? shown.join(', ') : t('users.noGroups'));
	};
	const out = liveRegion();
	const close = h('button', { type: 'button' }, t('admin.close'));
	const form = namedForm(t('users.editTitle'),
			       h('p', { class: 'meta' }, u.email),
			       h('div', { class: 'row' },
				 field(t('field.name'), name),
				 field(t('field.role'), role)),
			       list, groups,
			       h('div', { class: 'buttons' },
				 h('button', { type: 'submit',
					       class: 'primary' },
				   t('users.save')), close),
			       out);

	showGroups(u.groups);
	close.addEventListener('click', () => {
		replace(panel);
		panel.className = 'panel-slot';
		focusEditButton(u);
	});
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		submitting(form, out, async () => {
			const body = userChange(name, role, list, before);
			const r = await api('PATCH', `/api/v1/users/${u.id}`,
					    body);

			before = r.attributes ?? {};
			names = await loadGroupNames();
			showGroups(r.groups);
			const now = groupNames(r.groups, names);

			say(out, t('users.saved', { email: u.email,
				groups: now.length ? now.join(', ') :
					t('users.noGroups') }), 'ok');
			await redraw();
		});
	});
	panel.className = 'panel-slot';
	replace(panel, form);
	form.querySelector('h2').focus();
}

/* ---- a new user ---- */

function newUserForm(ctx) {
	const email = h('input', { type: 'email', required: true,
				   autocomplete: 'off' });
	const name = h('input', { type: 'text', required: true,
				  maxlength: 200, autocomplete: 'off' });
	const role = roleSelect();
	const attrs = h('textarea', { rows: 3 });
	const out = liveRegion();
	const form = namedForm(t('users.new'),
			       h('div', { class: 'row' },
				 field(t('field.email'), email),
				 field(t('field.name'), name),
				 field(t('field.role'), role)),
			       field(t('users.attributes'), attrs,
				     t('users.attributesHint')),
			       h('button', { type: 'submit',
					     class: 'primary' },
				 t('users.create')),
			       out);

	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		submitting(form, out, async () => {
			const body = { email: email.value.trim(),
				       name: name.value.trim(),
				       role: role.value };
			const a = parseAttributes(attrs.value);

			if (Object.keys(a).length)
				body.attributes = a;
			const u = await api('POST', '/api/v1/users', body);
			setFlash(t('users.created',
				   { email: u.email ?? body.email }));
			ctx.rerender();
		});
	});
	return form;
}

/* ---- the page ---- */

/* The table of users; actions open their forms in panel. */
function usersTable(users, names, panel, redraw) {
	const attrText = (u) => Object.entries(u.attributes ?? {})
		.map(([k, v]) => `${k}=${v}`).join(', ');
	const actions = (u) => h('div', { class: 'buttons' },
		h('button', { type: 'button',
			      'aria-describedby': `user-email-${u.id}`,
			      onclick: () => invite(u, panel) },
		  t('users.invite')),
		h('button', { type: 'button', class: 'edit',
			      'aria-describedby': `user-email-${u.id}`,
			      onclick: () => editUser(u, names, panel,
						      redraw) },
		  t('users.edit')));

	return table(t('admin.users'), [
		[t('field.name'), (u) => u.name],
		[t('field.email'), (u) => h('span', {
			id: `user-email-${u.id}` }, u.email)],
		[t('field.role'), (u) => roleName(u.role)],
		[t('users.attributes'), attrText],
		[t('admin.groups'), (u) => groupNames(u.groups, names)
			.join(', ')],
		[t('users.actions'), actions],
	], users, (u) => `user-row-${u.id}`);
}

export async function adminUsersPage(ctx) {
	let users, names, failure = null;

	try {
		[users, names] = await Promise.all([
			api('GET', '/api/v1/users'), loadGroupNames()]);
	} catch (err) {
		failure = err;
	}
	if (!ctx.current())
		return;
	const panel = h('div', { class: 'panel-slot' });
	const slot = h('div', { class: 'users-list' });
	const redraw = async () => {
		const [list, n] = await Promise.all([
			api('GET', '/api/v1/users'), loadGroupNames()]);
		replace(slot, usersTable(list, n, panel, redraw));
	};

	if (!failure)
		replace(slot, usersTable(users, names, panel, redraw));
	frame(ctx, 'users', t('admin.users'), flash(),
	      failure ? errorBox(failure) : slot, panel, newUserForm(ctx));
}
