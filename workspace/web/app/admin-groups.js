/*
 * The admin's groups page: the tree of groups with their member counts,
 * a form per group to change its name, parent and rule (members follow
 * at once) with its members, where people are added and removed by
 * hand (members by the rule are marked so and cannot be removed), the
 * deletion of a group, and a form for a new group.
 */

import { api } from './api.js';
import { errorText, field, flash, h, liveRegion, replace, say,
	 setFlash } from './dom.js';
import { t } from './i18n.js';
import { deleteButton, frame, namedForm, pairList, submitting,
	 table } from './admin-kit.js';

const RULE_LABELS = () => ({
	key: t('groups.attribute'), value: t('groups.value'),
	remove: t('groups.removeCondition'),
});

/* The rule of a pairList: {} when it has no rows. */
function ruleOf(list) {
	const rule = {};

	for (const [k, v] of list.pairs())
		rule[k] = v;
	return rule;
}

/* A parent <select>: the top level, then every group but those in
 * skip; value the current parent. */
function parentSelect(groups, value, skip = new Set()) {
	const select = h('select', {},
			 h('option', { value: '' }, t('groups.noParent')),
			 groups.filter((g) => !skip.has(g.id)).map((g) =>
				h('option', { value: g.id }, g.name)));

	select.value = value ? String(value) : '';
	return select;
}

/* Group id with every group below it. */
function subtree(groups, id) {
	const out = new Set([id]);

	for (let grew = true; grew;) {
		grew = false;
		for (const g of groups) {
			if (g.parent !== null && out.has(g.parent) &&
			    !out.has(g.id)) {
				out.add(g.id);
				grew = true;
			}
		}
	}
	return out;
}

/* ---- the tree ---- */

function groupTree(groups, onEdit) {
	const kids = new Map();
	const known = new Set(groups.map((g) => g.id));

	for (const g of groups) {
		/* groups whose parent is unknown show at the top */
		const p = known.has(g.parent) ? g.parent : null;
		if (!kids.has(p))
			kids.set(p, []);
		kids.get(p).push(g);
	}
	const branch = (parent) => h('ul', { class: parent === null ?
					     'tree' : null },
		(kids.get(parent) ?? []).map((g) => h('li', {},
			h('span', { class: 'group-line' },
			  h('span', { id: `group-name-${g.id}`,
				      class: 'group-name' }, g.name),
			  ' ',
			  h('span', { class: 'meta' },
			    t(g.member_count === 1 ? 'groups.member1' :
			      'groups.members', { n: g.member_count ?? 0 })),
			  ' ',
			  h('button', { type: 'button', class: 'edit',
					'aria-describedby':
						`group-name-${g.id}`,
					onclick: () => onEdit(g) },
			    t('groups.edit'))),
			kids.has(g.id) ? branch(g.id) : null)));

	return branch(null);
}

/* ---- members ---- */

function membersTable(members, onRemove) {
	if (!members.length)
		return h('p', {}, t('groups.noMembers'));
	return table(t('groups.memberList'), [
		[t('field.name'), (m) => m.name],
		[t('field.email'), (m) => h('span', {
			id: `member-email-${m.id}` }, m.email)],
		[t('groups.membership'), (m) => m.from_rule ?
			t('groups.byRule') :
			h('button', { type: 'button', class: 'danger',
				      'aria-describedby':
					      `member-email-${m.id}`,
				      onclick: (ev) => onRemove(m, ev.target) },
			  t('groups.removeMember'))],
	], members, (m) => `member-row-${m.id}`);
}

/*
 * The members part of the panel of group id: the list, the form that
 * adds one by email, and messages. changed() runs after each change
 * (the tree's counts).
 */
function membersSection(id, members, changed) {
	const slot = h('div', {});
	const out = liveRegion();
	const email = h('input', { type: 'email', required: true,
				   autocomplete: 'off' });
	const form = h('form', { class: 'add-member' },
		       field(t('groups.memberEmail'), email),
		       h('button', { type: 'submit' }, t('groups.addMember')));
	const headingId = `members-h-${id}`;
	const reload = async () => {
		const g = await api('GET', `/api/v1/groups/${id}`);
		draw(g.members ?? []);
		await changed();
	};
	const remove = (m, button) => {
		button.disabled = true;
		submitting(form, out, async () => {
			await api('DELETE', `/api/v1/groups/${id}/members/${
				m.id}`);
			await reload();
			say(out, t('groups.removed', { email: m.email }),
			    'ok');
			email.focus();
		}).then((ok) => {
			if (!ok && button.isConnected)
				button.disabled = false;
		});
	};
	const draw = (list) => replace(slot, membersTable(list, remove));

	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		submitting(form, out, async () => {
			const who = email.value.trim();
			const m = await api('POST',
					    `/api/v1/groups/${id}/members`,
					    { user: who });
			email.value = '';
			await reload();
			say(out, t('groups.added', { email: m?.email ?? who }),
			    'ok');
		});
	});
	draw(members);
	const section = h('section', { class: 'panel',
				       'aria-labelledby': headingId },
			  h('h2', { id: headingId }, t('groups.memberList')),
			  slot, form, out);

	section.draw = draw;
	return section;
}

/* ---- changing a group ---- */

/*
 * Opens the panel of group g: the form that changes it, its members and
 * its deletion. groups: all of them (for the parent); changed() draws
 * the tree again; ctx for redrawing the page after a deletion.
 */
async function editGroup(ctx, g, groups, panel, changed) {
	const out = liveRegion();

	panel.className = 'panel-slot';
	replace(panel, out);
	let full;
	try {
		full = await api('GET', `/api/v1/groups/${g.id}`);
	} catch (err) {
		say(out, errorText(err), 'error');
		return;
	}
	const name = h('input', { type: 'text', required: true,
				  autocomplete: 'off', value: full.name });
	const parent = parentSelect(groups, full.parent,
				    subtree(groups, g.id));
	const rule = pairList(t('groups.rule'), t('groups.ruleHint'),
			      RULE_LABELS(), t('groups.addCondition'),
			      Object.entries(full.rule ?? {}));
	const members = membersSection(g.id, full.members ?? [], changed);
	const close = h('button', { type: 'button' }, t('admin.close'));
	const delOut = liveRegion();
	const title = h('p', { class: 'meta', id: `group-title-${g.id}` },
			full.name);
	const form = namedForm(t('groups.editTitle'), title,
			       field(t('field.name'), name),
			       field(t('groups.parent'), parent),
			       rule,
			       h('div', { class: 'buttons' },
				 h('button', { type: 'submit',
					       class: 'primary' },
				   t('groups.save')), close),
			       out);
	const remove = deleteButton(t('groups.delete'), title.id, delOut,
				    t('groups.reallyDelete',
				      { name: full.name }), async () => {
		await api('DELETE', `/api/v1/groups/${g.id}`);
		setFlash(t('groups.deleted', { name: full.name }));
		ctx.rerender();
	});

	close.addEventListener('click', () => {
		replace(panel);
		document.getElementById(`group-name-${g.id}`)
			?.parentElement?.querySelector('button.edit')?.focus();
	});
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		submitting(form, out, async () => {
			const r = await api('PATCH', `/api/v1/groups/${g.id}`, {
				name: name.value.trim(),
				parent: parent.value ? Number(parent.value) :
					null,
				rule: ruleOf(rule),
			});
			members.draw(r.members ?? []);
			title.textContent = r.name;
			say(out, t('groups.saved', { name: r.name,
				n: (r.members ?? []).length }), 'ok');
			await changed();
		});
	});
	replace(panel, form, members,
		h('div', { class: 'panel' }, h('div', { class: 'buttons' },
						remove), delOut));
	form.querySelector('h2').focus();
}

/* ---- a new group ---- */

function newGroupForm(ctx, groups) {
	const name = h('input', { type: 'text', required: true,
				  autocomplete: 'off' });
	const parent = parentSelect(groups, null);
	const rule = pairList(t('groups.rule'), t('groups.ruleHint'),
			      RULE_LABELS(), t('groups.addCondition'), []);
	const out = liveRegion();
	const form = namedForm(t('groups.new'),
			       field(t('field.name'), name),
			       field(t('groups.parent'), parent),
			       rule,
			       h('button', { type: 'submit',
					     class: 'primary' },
				 t('groups.create')),
			       out);

	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		submitting(form, out, async () => {
			await api('POST', '/api/v1/groups', {
				name: name.value.trim(),
				parent: parent.value ? Number(parent.value) :
					null,
				rule: ruleOf(rule),
			});
			setFlash(t('groups.created',
				   { name: name.value.trim() }));
			ctx.rerender();
		});
	});
	return form;
}

/* ---- the page ---- */

export async function adminGroupsPage(ctx) {
	const groups = await api('GET', '/api/v1/groups');

	if (!ctx.current())
		return;
	const panel = h('div', { class: 'panel-slot' });
	const tree = h('div', {});
	const drawTree = (list) => {
		const edit = (g) => editGroup(ctx, g, list, panel, changed);
		replace(tree, list.length ? groupTree(list, edit) :
			h('p', {}, t('groups.empty')));
	};
	const changed = async () => drawTree(await api('GET',
						       '/api/v1/groups'));

	drawTree(groups);
	frame(ctx, 'groups', t('admin.groups'), flash(),
	      h('section', { 'aria-labelledby': 'tree-h' },
		h('h2', { id: 'tree-h' }, t('groups.list')), tree),
	      panel, newGroupForm(ctx, groups));
}
