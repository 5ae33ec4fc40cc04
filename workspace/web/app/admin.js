/*
 * The admin's pages: assignments (with changing a due date and deleting
 * one), which courses are open for self-enrollment, the CSV import of
 * users and the academy's branding; the users and groups pages live in
 * admin-users.js and admin-groups.js. Each page loads what it shows
 * from the API; errors are shown in the page.
 */

import { api } from './api.js';
import { applyBrand, brand } from './brand.js';
import { dateEl, errorText, field, flash, h, liveRegion, replace, say,
	 setFlash, uid } from './dom.js';
import { lang, t } from './i18n.js';
import { deleteButton, frame, namedForm, submitting,
	 table } from './admin-kit.js';

export { adminUsersPage } from './admin-users.js';
export { adminGroupsPage } from './admin-groups.js';

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

/* The names of an assignment's row: its course and to whom. */
function assignmentNames(catalog, groups, users) {
	const courseName = new Map(catalog.map((c) => [c.id, c.title]));
	const groupName = new Map(groups.map((g) => [g.id, g.name]));
	const userName = new Map(users.map((u) => [u.id, u.email]));

	return {
		course: (a) => courseName.get(a.course) ?? a.course,
		to: (a) => a.group !== null && a.group !== undefined ?
			`${t('assign.group')}: ${groupName.get(a.group) ??
					       a.group}` :
			`${t('assign.user')}: ${userName.get(a.user) ??
					      a.user}`,
	};
}

/*
 * The actions of an assignment's row: "Change due date" opens a small
 * form in place, "Delete" asks once more. out takes the messages;
 * gone(a) runs once the assignment is deleted.
 */
function assignmentActions(a, names, out, gone) {
	const about = `assign-course-${a.id} assign-to-${a.id}`;
	const cell = h('div', { class: 'buttons' });
	const change = h('button', { type: 'button', class: 'change-due',
				     'aria-describedby': about },
			 t('assign.changeDue'));
	const question = t('assign.reallyDelete', { course: names.course(a),
						    to: names.to(a) });
	const del = deleteButton(t('assign.delete'), about, out, question,
				 async () => {
		await api('DELETE', `/api/v1/assignments/${a.id}`);
		say(out, t('assign.deleted', { course: names.course(a),
					       to: names.to(a) }), 'ok');
		gone(a);
	});
	const open = () => {
		const due = h('input', { type: 'date', required: true,
					 value: a.due });
		const cancel = h('button', { type: 'button' },
				 t('admin.cancel'));
		const form = h('form', { class: 'due-form',
					 'aria-describedby': about },
			       field(t('assign.newDue'), due),
			       h('div', { class: 'buttons' },
				 h('button', { type: 'submit',
					       class: 'primary' },
				   t('assign.saveDue')), cancel));
		const shut = () => {
			replace(cell, change, del);
			change.focus();
		};

		cancel.addEventListener('click', shut);
		form.addEventListener('submit', (ev) => {
			ev.preventDefault();
			submitting(form, out, async () => {
				const r = await api('PATCH',
					`/api/v1/assignments/${a.id}`,
					{ due: due.value });
				a.due = r.due;
				replace(document.getElementById(
					`assign-due-${a.id}`),
					dateEl(r.due, lang()));
				shut();
				say(out, t('assign.dueSaved', {
					course: names.course(a),
					to: names.to(a),
					due: dateEl(r.due, lang())
						.textContent }), 'ok');
			});
		});
		replace(cell, form);
		due.focus();
	};

	change.addEventListener('click', open);
	return replace(cell, change, del);
}

/* The list of assignments with their actions, or a line saying there
 * are none; listHeading takes focus after a deletion. */
function assignmentList(list, names, out, listHeading) {
	const slot = h('div', {});
	const gone = (a) => {
		list = list.filter((x) => x !== a);
		document.getElementById(`assign-row-${a.id}`)?.remove();
		if (!list.length)
			replace(slot, h('p', {}, t('assign.empty')));
		listHeading.focus();
	};

	replace(slot, list.length ? table(t('assign.list'), [
		[t('assign.course'), (a) => h('span', {
			id: `assign-course-${a.id}` }, names.course(a))],
		[t('assign.to'), (a) => h('span', {
			id: `assign-to-${a.id}` }, names.to(a))],
		[t('assign.due'), (a) => h('span', {
			id: `assign-due-${a.id}` }, dateEl(a.due, lang()))],
		[t('users.actions'), (a) => assignmentActions(a, names, out,
							      gone)],
	], list, (a) => `assign-row-${a.id}`) :
		h('p', {}, t('assign.empty')));
	return slot;
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
	const names = assignmentNames(catalog, groups, users);
	const out = liveRegion();
	const listHeading = h('h2', { tabindex: '-1' }, t('assign.list'));

	frame(ctx, 'assignments', t('admin.assignments'), flash(),
	      assignForm(ctx, catalog, groups),
	      listHeading, out,
	      assignmentList(list, names, out, listHeading));
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
			/* the file's bytes as they are: File.text() would
			 * turn bytes that are not UTF-8 into U+FFFD, and the
			 * server names such lines only when it sees them */
			let r;
			try {
				r = await api('POST', '/api/v1/users/import' +
					      (dry.checked ? '?dry_run=1' : ''),
					      f, { type: 'text/csv' });
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
