/*
 * The admin's pages: users (with invitation links), groups (a tree with
 * rules and members), assignments, the CSV import of users and the
 * academy's branding. Each page loads what it shows from the API and
 * reloads after a change; errors are shown in the page.
 */

import { api } from './api.js';
import { applyBrand, brand } from './brand.js';
import { dateEl, errorBox, errorText, field, flash, h, heading,
	 liveRegion, replace, say, setFlash, uid } from './dom.js';
import { lang, t } from './i18n.js';

const PAGES = [
	['users', 'admin.users'],
	['groups', 'admin.groups'],
	['assignments', 'admin.assignments'],
	['enrollment', 'admin.enrollment'],
	['import', 'admin.import'],
	['branding', 'admin.branding'],
];

function subnav(at) {
	return h('nav', { class: 'subnav', 'aria-label': t('admin.nav') },
		 h('ul', {}, PAGES.map(([id, key]) => h('li', {},
			h('a', { href: `#/admin/${id}`,
				 'aria-current': id === at ? 'page' : null },
			  t(key))))));
}

/* The frame of an admin page: sub-navigation, heading, then parts. */
function frame(ctx, at, title, ...parts) {
	ctx.title(title);
	replace(ctx.main, subnav(at), heading(title), ...parts);
}

/* A form with a heading of its own, named by it. */
function namedForm(title, ...parts) {
	const id = uid('form');

	return h('form', { class: 'panel', 'aria-labelledby': id },
		 h('h2', { id }, title), ...parts);
}

/* A table: columns [[label, cell(row) -> node|text]], stacked on narrow
 * screens with the column name before each cell. */
function table(caption, columns, rows) {
	return h('div', { class: 'table-wrap' },
		 h('table', { class: 'data stack' },
		   h('caption', { class: 'visually-hidden' }, caption),
		   h('thead', {}, h('tr', {}, columns.map(([label]) =>
			h('th', { scope: 'col' }, label)))),
		   h('tbody', {}, rows.map((r) => h('tr', {},
			columns.map(([label, cell]) =>
				h('td', { 'data-label': label },
				  cell(r))))))));
}

/* Runs fn with the submit button disabled (focus stays where it was);
 * errors go to out. */
async function submitting(form, out, fn) {
	const button = form.querySelector('button[type="submit"]');
	const focused = document.activeElement;

	if (button)
		button.disabled = true;
	try {
		await fn();
	} catch (err) {
		say(out, errorText(err), 'error');
	} finally {
		if (button)
			button.disabled = false;
		if (focused?.isConnected &&
		    document.activeElement === document.body)
			focused.focus();
	}
}

function roleName(role) {
	return t(`role.${role}`);
}

function roleSelect() {
	return h('select', { name: 'role' },
		 ['learner', 'manager', 'admin'].map((r) =>
			h('option', { value: r }, roleName(r))));
}

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

/* ---- users ---- */

/* The button's name is "Invite"; the row's email describes it. */
function inviteCell(u, panel) {
	return h('button', { type: 'button',
			     'aria-describedby': `user-email-${u.id}`,
			     onclick: () => invite(u, panel) },
		 t('users.invite'));
}

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

export async function adminUsersPage(ctx) {
	let users, groups = [], failure = null;

	try {
		[users, groups] = await Promise.all([
			api('GET', '/api/v1/users'),
			api('GET', '/api/v1/groups').catch(() => []),
		]);
	} catch (err) {
		failure = err;
	}
	if (!ctx.current())
		return;
	const names = new Map(groups.map((g) => [g.id, g.name]));
	const panel = h('div', { class: 'panel-slot' });
	const attrText = (u) => Object.entries(u.attributes ?? {})
		.map(([k, v]) => `${k}=${v}`).join(', ');

	frame(ctx, 'users', t('admin.users'), flash(),
	      failure ? errorBox(failure) :
		table(t('admin.users'), [
			[t('field.name'), (u) => u.name],
			[t('field.email'), (u) => h('span', {
				id: `user-email-${u.id}` }, u.email)],
			[t('field.role'), (u) => roleName(u.role)],
			[t('users.attributes'), attrText],
			[t('admin.groups'), (u) => (u.groups ?? [])
				.map((g) => names.get(g) ?? g).join(', ')],
			[t('users.actions'), (u) => inviteCell(u, panel)],
		], users),
	      panel, newUserForm(ctx));
}

/* ---- groups ---- */

function groupTree(groups, onOpen) {
	const kids = new Map();

	for (const g of groups) {
		const p = g.parent ?? null;
		if (!kids.has(p))
			kids.set(p, []);
		kids.get(p).push(g);
	}
	const known = new Set(groups.map((g) => g.id));
	const branch = (parent) => h('ul', { class: parent === null ?
					     'tree' : null },
		(kids.get(parent) ?? []).map((g) => h('li', {},
			h('button', { type: 'button', class: 'link',
				      onclick: () => onOpen(g) }, g.name),
			' ',
			h('span', { class: 'meta' },
			  t(g.member_count === 1 ? 'groups.member1' :
			    'groups.members', { n: g.member_count ?? 0 })),
			kids.has(g.id) ? branch(g.id) : null)));

	/* groups whose parent is unknown show at the top */
	for (const g of groups)
		if (g.parent !== null && g.parent !== undefined &&
		    !known.has(g.parent))
			kids.get(null)?.push(g) ?? kids.set(null, [g]);
	return branch(null);
}

function ruleRow(rows) {
	const key = h('input', { type: 'text', autocomplete: 'off' });
	const value = h('input', { type: 'text', autocomplete: 'off' });
	const row = h('div', { class: 'rule-row' },
		      field(t('groups.attribute'), key),
		      field(t('groups.value'), value));
	const remove = h('button', { type: 'button', class: 'remove' },
			 t('groups.removeCondition'));

	remove.addEventListener('click', () => {
		row.remove();
		rows.querySelector('input')?.focus();
	});

	row.append(remove);
	row.ruleValue = () => [key.value.trim(), value.value.trim()];
	return row;
}

function newGroupForm(ctx, groups) {
	const name = h('input', { type: 'text', required: true,
				  autocomplete: 'off' });
	const parent = h('select', {},
			 h('option', { value: '' }, t('groups.noParent')),
			 groups.map((g) => h('option', { value: g.id },
					     g.name)));
	const rows = h('div', { class: 'rules' });
	const add = h('button', { type: 'button' }, t('groups.addCondition'));
	const out = liveRegion();
	const form = namedForm(t('groups.new'),
			       field(t('field.name'), name),
			       field(t('groups.parent'), parent),
			       h('fieldset', {},
				 h('legend', {}, t('groups.rule')),
				 h('p', { class: 'hint' },
				   t('groups.ruleHint')),
				 rows, add),
			       h('button', { type: 'submit',
					     class: 'primary' },
				 t('groups.create')),
			       out);

	rows.append(ruleRow(rows));
	add.addEventListener('click', () => {
		const row = ruleRow(rows);
		rows.append(row);
		row.querySelector('input').focus();
	});
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		const rule = {};

		for (const row of rows.children) {
			const [k, v] = row.ruleValue();
			if (k)
				rule[k] = v;
		}
		submitting(form, out, async () => {
			await api('POST', '/api/v1/groups', {
				name: name.value.trim(),
				parent: parent.value ? Number(parent.value) :
					null,
				rule,
			});
			setFlash(t('groups.created',
				   { name: name.value.trim() }));
			ctx.rerender();
		});
	});
	return form;
}

async function groupMembers(id) {
	try {
		const g = await api('GET', `/api/v1/groups/${id}`);
		return { group: g, members: g.members ?? [] };
	} catch (err) {
		if (err.status !== 404 && err.status !== 405)
			throw err;
	}
	return { group: null,
		 members: await api('GET', `/api/v1/groups/${id}/members`) };
}

async function openGroup(ctx, g, panel) {
	const out = liveRegion();

	panel.className = 'panel';
	replace(panel, h('h2', { tabindex: '-1' }, g.name), out);
	panel.querySelector('h2').focus();
	let data;
	try {
		data = await groupMembers(g.id);
	} catch (err) {
		say(out, errorText(err), 'error');
		return;
	}
	const rule = Object.entries(g.rule ?? data.group?.rule ?? {});
	const who = h('input', { type: 'text', required: true,
				 autocomplete: 'off' });
	const addForm = h('form', {},
			  field(t('groups.addWho'), who),
			  h('button', { type: 'submit' },
			    t('groups.addMember')));
	const reopen = () => openGroup(ctx, g, panel);

	addForm.addEventListener('submit', (ev) => {
		ev.preventDefault();
		submitting(addForm, out, async () => {
			const v = who.value.trim();
			await api('POST', `/api/v1/groups/${g.id}/members`,
				  { user: /^\d+$/.test(v) ? Number(v) : v });
			await reopen();
		});
	});
	const remove = (m) => m.from_rule === false ?
		h('button', { type: 'button', class: 'danger',
			      'aria-label': `${t('groups.removeMember')}: ${
				      m.email}`,
			      onclick: () => submitting(addForm, out,
				async () => {
					await api('DELETE', `/api/v1/groups/${
						g.id}/members/${m.id}`);
					await reopen();
				}) }, t('groups.removeMember')) :
		t('groups.byRule');
	const del = h('button', { type: 'button', class: 'danger' },
		      t('groups.delete'));

	del.addEventListener('click', () => {
		if (!confirm(t('groups.confirmDelete', { name: g.name })))
			return;
		submitting(addForm, out, async () => {
			await api('DELETE', `/api/v1/groups/${g.id}`);
			ctx.rerender();
		});
	});
	replace(panel, h('h2', { tabindex: '-1' }, g.name),
		h('p', {}, rule.length ?
		  `${t('groups.rule')}: ${rule.map(([k, v]) =>
			`${k} = ${v}`).join(', ')}` : t('groups.noRule')),
		table(t('groups.memberList'), [
			[t('field.name'), (m) => m.name],
			[t('field.email'), (m) => m.email],
			[t('users.actions'), remove],
		], data.members),
		addForm, h('div', { class: 'buttons' }, del), out);
	panel.querySelector('h2').focus();
}

export async function adminGroupsPage(ctx) {
	const groups = await api('GET', '/api/v1/groups');

	if (!ctx.current())
		return;
	const panel = h('section', { class: 'panel-slot' });

	frame(ctx, 'groups', t('admin.groups'), flash(),
	      h('section', { 'aria-labelledby': 'tree-h' },
		h('h2', { id: 'tree-h' }, t('groups.list')),
		groups.length ? groupTree(groups,
					  (g) => openGroup(ctx, g, panel)) :
			h('p', {}, t('groups.empty'))),
	      panel, newGroupForm(ctx, groups));
}

/* ---- assignments ---- */

function assignForm(ctx, courses, groups) {
	const course = h('select', { required: true },
			 courses.map((c) => h('option', { value: c.id },
					      c.title ?? c.id)));
	const group = h('select', {},
			h('option', { value: '' }, t('assign.noGroup')),
			groups.map((g) => h('option', { value: g.id },
					    g.name)));
	const user = h('input', { type: 'text', autocomplete: 'off' });
	const due = h('input', { type: 'date', required: true });
	const out = liveRegion();
	const form = namedForm(t('assign.new'),
			       field(t('assign.course'), course),
			       h('div', { class: 'row' },
				 field(t('assign.group'), group),
				 field(t('assign.user'), user,
				       t('assign.userHint'))),
			       field(t('assign.due'), due),
			       h('button', { type: 'submit',
					     class: 'primary' },
				 t('assign.submit')),
			       out);

	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		const body = { course: course.value, due: due.value };
		const who = user.value.trim();

		if (!group.value === !who) {
			say(out, t('assign.oneOf'), 'error');
			return;
		}
		if (group.value)
			body.group = Number(group.value);
		else
			body.user = /^\d+$/.test(who) ? Number(who) : who;
		submitting(form, out, async () => {
			await api('POST', '/api/v1/assignments', body);
			setFlash(t('assign.done'));
			ctx.rerender();
		});
	});
	return form;
}

/* Checkboxes that open courses for self-enrollment in the catalog. */
function openCourses(catalog) {
	const out = liveRegion();
	const boxes = catalog.map((c) => {
		const box = h('input', { type: 'checkbox', id: uid('open'),
					 checked: Boolean(c.open) });

		box.addEventListener('change', async () => {
			try {
				const r = await api('PUT', `/api/v1/catalog/${
					encodeURIComponent(c.id)}/open`,
					{ open: box.checked });
				box.checked = Boolean(r?.open ?? box.checked);
				say(out, t(box.checked ? 'assign.opened' :
					   'assign.closed',
					   { title: c.title ?? c.id }), 'ok');
			} catch (err) {
				box.checked = !box.checked;
				say(out, errorText(err), 'error');
			}
		});
		return h('div', { class: 'check' }, box,
			 h('label', { for: box.id }, c.title ?? c.id));
	});

	return h('fieldset', {}, h('legend', {}, t('assign.openLegend')),
		 h('p', { class: 'hint' }, t('assign.openHint')), boxes, out);
}

export async function adminAssignmentsPage(ctx) {
	const [list, catalog, groups, users] = await Promise.all([
		api('GET', '/api/v1/assignments'),
		api('GET', '/api/v1/catalog'),
		api('GET', '/api/v1/groups').catch(() => []),
		api('GET', '/api/v1/users').catch(() => []),
	]);

	if (!ctx.current())
		return;
	const courseName = new Map(catalog.map((c) => [c.id, c.title]));
	const groupName = new Map(groups.map((g) => [g.id, g.name]));
	const userName = new Map(users.map((u) => [u.id, u.email]));

	frame(ctx, 'assignments', t('admin.assignments'), flash(),
	      assignForm(ctx, catalog, groups),
	      h('h2', {}, t('assign.list')),
	      list.length ? table(t('assign.list'), [
		      [t('assign.course'), (a) => courseName.get(a.course) ??
		       a.course],
		      [t('assign.to'), (a) => a.group !== null &&
		       a.group !== undefined ?
			      `${t('assign.group')}: ${groupName.get(a.group) ??
						     a.group}` :
			      `${t('assign.user')}: ${userName.get(a.user) ??
						    a.user}`],
		      [t('assign.due'), (a) => dateEl(a.due, lang())],
	      ], list) : h('p', {}, t('assign.empty')));
}

/* Courses open for self-enrollment; its own page, since the course
 * titles label its checkboxes. */
export async function adminEnrollmentPage(ctx) {
	const catalog = await api('GET', '/api/v1/catalog');

	if (!ctx.current())
		return;
	frame(ctx, 'enrollment', t('admin.enrollment'),
	      catalog.length ? openCourses(catalog) :
		      h('p', {}, t('enrollment.none')));
}

/* ---- CSV import ---- */

function importResult(r) {
	const counts = h('p', {}, t('import.counts', {
		created: r.created ?? 0, updated: r.updated ?? 0,
		unchanged: r.unchanged ?? 0 }));

	if (!r.errors?.length)
		return [h('p', { class: 'result' }, r.dry_run ?
			  t('import.dryOk') : t('import.done')), counts];
	return [h('p', { class: 'result' },
		  t('import.failed', { n: r.errors.length })),
		h('ul', { class: 'errors' }, r.errors.map((e) =>
			h('li', {}, t('import.line', { n: e.line }), ': ',
			  e.message)))];
}

export async function adminImportPage(ctx) {
	const file = h('input', { type: 'file', accept: '.csv,text/csv',
				  required: true });
	const dry = h('input', { type: 'checkbox', id: uid('dry'),
				 checked: true });
	const out = h('div', { class: 'import-result', role: 'status',
			       'aria-live': 'polite' });
	const form = h('form', { class: 'panel' },
		       field(t('import.file'), file, t('import.hint')),
		       h('div', { class: 'check' }, dry,
			 h('label', { for: dry.id }, t('import.dry'))),
		       h('button', { type: 'submit', class: 'primary' },
			 t('import.submit')));

	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		const f = file.files?.[0];

		if (!f) {
			say(out, t('import.noFile'), 'error');
			return;
		}
		replace(out);
		out.className = 'import-result';
		submitting(form, out, async () => {
			const text = await f.text();
			let r;
			try {
				r = await api('POST', '/api/v1/users/import' +
					      (dry.checked ? '?dry_run=1' : ''),
					      text, { type: 'text/csv' });
			} catch (err) {
				if (err.status !== 422)
					throw err;
				r = err.json ?? { errors: [] };
			}
			out.className = `import-result msg ${
				r.errors?.length ? 'msg-error' : 'msg-ok'}`;
			replace(out, importResult(r));
		});
	});
	frame(ctx, 'import', t('admin.import'),
	      h('p', {}, t('import.intro')), form, out);
}

/* ---- branding ---- */

async function currentCss() {
	if (!brand.css_url)
		return '';
	try {
		const res = await fetch(brand.css_url,
					{ credentials: 'same-origin' });
		return res.ok ? await res.text() : '';
	} catch {
		return '';
	}
}

function brandingForm(ctx, css) {
	const name = h('input', { type: 'text', required: true,
				  maxlength: 100, value: brand.name });
	const primary = h('input', { type: 'color',
				     value: brand.primary_color });
	const accent = h('input', { type: 'color',
				    value: brand.accent_color });
	const language = h('select', {},
			   h('option', { value: 'de' }, 'Deutsch'),
			   h('option', { value: 'en' }, 'English'));
	const logo = h('input', { type: 'file',
				  accept: 'image/png,image/jpeg,image/webp' });
	const text = h('textarea', { rows: 10, spellcheck: 'false' });
	const out = liveRegion();
	const removeLogo = brand.logo_url ?
		h('button', { type: 'button', class: 'danger' },
		  t('branding.removeLogo')) : null;
	const form = h('form', { class: 'panel' },
		       field(t('branding.name'), name),
		       h('div', { class: 'row' },
			 field(t('branding.primary'), primary),
			 field(t('branding.accent'), accent)),
		       field(t('branding.language'), language),
		       brand.logo_url ? h('img', { src: brand.logo_url,
						   alt: t('branding.current'),
						   class: 'logo-preview' }) :
			       null,
		       field(t('branding.logo'), logo, t('branding.logoHint')),
		       removeLogo,
		       field(t('branding.css'), text, t('branding.cssHint')),
		       h('button', { type: 'submit', class: 'primary' },
			 t('branding.save')),
		       out);

	language.value = brand.default_language ?? 'de';
	text.value = css;
	removeLogo?.addEventListener('click', () => {
		submitting(form, out, async () => {
			Object.assign(brand, await api('DELETE',
				'/api/v1/branding/logo'));
			applyBrand();
			setFlash(t('branding.saved'));
			ctx.rerender();
		});
	});
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		submitting(form, out, async () => {
			const f = logo.files?.[0];
			let b = await api('PUT', '/api/v1/branding', {
				name: name.value.trim(),
				primary_color: primary.value,
				accent_color: accent.value,
				default_language: language.value,
				css: text.value,
			});
			if (f)
				b = await api('PUT', '/api/v1/branding/logo', f,
					      { type: f.type ||
						'application/octet-stream' });
			Object.assign(brand, b);
			applyBrand();
			setFlash(t('branding.saved'));
			ctx.rerender();
		});
	});
	return form;
}

export async function adminBrandingPage(ctx) {
	try {
		Object.assign(brand, await api('GET', '/api/v1/branding'));
	} catch {
		/* the form shows what the app started with */
	}
	const css = await currentCss();

	if (!ctx.current())
		return;
	frame(ctx, 'branding', t('admin.branding'), flash(),
	      brandingForm(ctx, css));
}
