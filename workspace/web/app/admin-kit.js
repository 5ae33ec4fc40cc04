/*
 * Pieces the admin's pages share (and the manager's compliance pages):
 * the sub-navigation and frame of a page, forms named by their
 * heading, tables that stack on narrow screens, running a request with
 * its button disabled, roles, rows of key and value (attributes of a
 * user, conditions of a group's rule) and a delete button that asks
 * once more in the page before it acts.
 */

import { errorText, field, h, heading, replace, say, uid } from './dom.js';
import { t } from './i18n.js';

const PAGES = [
	['users', 'admin.users'],
	['groups', 'admin.groups'],
	['assignments', 'admin.assignments'],
	['enrollment', 'admin.enrollment'],
	['import', 'admin.import'],
	['branding', 'admin.branding'],
	['compliance', 'admin.compliance'],
	['reports', 'admin.reports'],
	['mail', 'admin.mail'],
	['settings', 'admin.settings'],
];

function subnav(at) {
	return h('nav', { class: 'subnav', 'aria-label': t('admin.nav') },
		 h('ul', {}, PAGES.map(([id, key]) => h('li', {},
			h('a', { href: `#/admin/${id}`,
				 'aria-current': id === at ? 'page' : null },
			  t(key))))));
}

/* The frame of an admin page: sub-navigation (for admins; a manager
 * reaches only the compliance and report pages), heading, then
 * parts. */
export function frame(ctx, at, title, ...parts) {
	ctx.title(title);
	replace(ctx.main, ctx.user?.role === 'admin' ? subnav(at) : null,
		heading(title), ...parts);
}

/* A form with a heading of its own, named by it; the heading takes
 * focus when the form is opened for someone who asked for it. */
export function namedForm(title, ...parts) {
	const id = uid('form');

	return h('form', { class: 'panel', 'aria-labelledby': id },
		 h('h2', { id, tabindex: '-1' }, title), ...parts);
}

/* A table: columns [[label, cell(row) -> node|text]], stacked on narrow
 * screens with the column name before each cell. rowId(row), when
 * given, names each row's id. */
export function table(caption, columns, rows, rowId) {
	return h('div', { class: 'table-wrap' },
		 h('table', { class: 'data stack' },
		   h('caption', { class: 'visually-hidden' }, caption),
		   h('thead', {}, h('tr', {}, columns.map(([label]) =>
			h('th', { scope: 'col' }, label)))),
		   h('tbody', {}, rows.map((r) => h('tr', {
			id: rowId ? rowId(r) : null },
			columns.map(([label, cell]) =>
				h('td', { 'data-label': label },
				  cell(r))))))));
}

/* Runs fn with the form's submit button disabled (focus stays where it
 * was); errors go to out. Resolves to true when fn succeeded. */
export async function submitting(form, out, fn) {
	const button = form.querySelector('button[type="submit"]');
	const focused = document.activeElement;
	let ok = false;

	if (button)
		button.disabled = true;
	try {
		await fn();
		ok = true;
	} catch (err) {
		say(out, errorText(err), 'error');
	} finally {
		if (button)
			button.disabled = false;
		if (focused?.isConnected &&
		    document.activeElement === document.body)
			focused.focus();
	}
	return ok;
}

export function roleName(role) {
	return t(`role.${role}`);
}

export function roleSelect(value) {
	const select = h('select', { name: 'role' },
			 ['learner', 'manager', 'admin'].map((r) =>
				h('option', { value: r }, roleName(r))));

	if (value)
		select.value = value;
	return select;
}

/*
 * A row of two text fields, key and value, with a button that removes
 * the row (focus then goes to the first field left in rows, else to
 * after, an element to land on). labels: { key, value, remove } texts.
 * row.pair() gives [key, value], trimmed.
 */
export function pairRow(rows, labels, key = '', value = '', after = null) {
	const k = h('input', { type: 'text', autocomplete: 'off',
			       value: key });
	const v = h('input', { type: 'text', autocomplete: 'off', value });
	const row = h('div', { class: 'rule-row' },
		      field(labels.key, k), field(labels.value, v));
	const remove = h('button', { type: 'button', class: 'remove' },
			 labels.remove);

	remove.addEventListener('click', () => {
		row.remove();
		(rows.querySelector('input') ?? after)?.focus();
	});
	row.append(remove);
	row.pair = () => [k.value.trim(), v.value.trim()];
	return row;
}

/*
 * A fieldset of pairRows with an add button below: items the [key,
 * value] pairs to start with (one empty row when there are none).
 * The fieldset's pairs() gives the rows not left empty, in order.
 */
export function pairList(legend, hint, labels, addLabel, items) {
	const rows = h('div', { class: 'rules' });
	const add = h('button', { type: 'button' }, addLabel);
	const set = h('fieldset', {}, h('legend', {}, legend),
		      hint ? h('p', { class: 'hint' }, hint) : null, rows, add);

	for (const [k, v] of items.length ? items : [['', '']])
		rows.append(pairRow(rows, labels, k, v, add));
	add.addEventListener('click', () => {
		const row = pairRow(rows, labels, '', '', add);
		rows.append(row);
		row.querySelector('input').focus();
	});
	set.pairs = () => [...rows.children].map((r) => r.pair())
		.filter(([k, v]) => k || v);
	return set;
}

/*
 * A delete button that turns into "Confirm delete" and "Cancel" in
 * place, with question in out; onConfirm runs on the confirmation
 * (errors go to out). describedBy: the ids of what names the thing.
 */
export function deleteButton(label, describedBy, out, question,
			     onConfirm) {
	const slot = h('span', { class: 'confirm-slot' });
	const ask = h('button', { type: 'button', class: 'danger',
				  'aria-describedby': describedBy }, label);
	const yes = h('button', { type: 'button', class: 'danger',
				  'aria-describedby': describedBy },
		      t('admin.confirmDelete'));
	const no = h('button', { type: 'button' }, t('admin.cancel'));

	ask.addEventListener('click', () => {
		replace(slot, yes, ' ', no);
		say(out, question, 'info');
		yes.focus();
	});
	no.addEventListener('click', () => {
		replace(slot, ask);
		say(out, '', 'info');
		ask.focus();
	});
	yes.addEventListener('click', async () => {
		yes.disabled = true;
		try {
			await onConfirm();
		} catch (err) {
			yes.disabled = false;
			say(out, errorText(err), 'error');
		}
	});
	return replace(slot, ask);
}
