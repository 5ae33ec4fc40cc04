/*
 * The admin's settings page (#/admin/settings): the mail server and
 * sender, the academy's public address and the reminder schedule
 * (GET and PUT /api/v1/settings; the SMTP password is write-only: the
 * page only says whether one is set), the texts of the mails per kind
 * and language (GET /api/v1/mail-templates, saved as settings), and
 * the certificate template (admin-cert-template.js). A value the
 * server refuses is shown with its reason next to its form.
 */

import { api } from './api.js';
import { field, flash, h, liveRegion, replace, say, setFlash,
	 uid } from './dom.js';
import { t } from './i18n.js';
import { frame, namedForm, submitting } from './admin-kit.js';
import { certificateTemplateForm } from './admin-cert-template.js';

/* The plain settings: key, input mode, hint key. Text fields all: the
 * server judges the values and says why it refuses one. */
const FIELDS = [
	['smtp.url', 'url', 'set.smtpUrlHint'],
	['smtp.user', 'text', null],
	['mail.from', 'email', 'set.fromHint'],
	['web.url', 'url', 'set.webUrlHint'],
	['reminders.schedule', 'text', 'set.scheduleHint'],
];

/* The password field: empty keeps the stored one; a box removes it. */
function passwordField(isSet) {
	const input = h('input', { type: 'password', name: 'smtp.password',
				   autocomplete: 'new-password' });
	const remove = h('input', { type: 'checkbox', id: uid('nopw') });

	remove.addEventListener('change', () => {
		input.disabled = remove.checked;
	});
	return {
		input, remove,
		parts: [field(t('set.smtp.password'), input,
			      t(isSet ? 'set.passwordSet' :
				'set.passwordUnset')),
			isSet ? h('div', { class: 'check' }, remove,
				  h('label', { for: remove.id },
				    t('set.passwordRemove'))) : null],
	};
}

function settingsForm(ctx, s) {
	const inputs = new Map(FIELDS.map(([key, mode]) => [key,
		h('input', { type: 'text', inputmode: mode, name: key,
			     autocomplete: 'off',
			     spellcheck: 'false', value: s[key] ?? '' })]));
	const pw = passwordField(s['smtp.password_set']);
	const out = liveRegion('alert');
	const fieldOf = ([key, , hint]) => field(t(`set.${key}`),
		inputs.get(key), hint ? t(hint) : null);
	/* the password after the server's user, the rest below */
	const form = namedForm(t('set.mailTitle'),
		FIELDS.slice(0, 2).map(fieldOf), pw.parts,
		FIELDS.slice(2).map(fieldOf),
		h('button', { type: 'submit', class: 'primary' },
		  t('set.save')),
		out);

	inputs.get('reminders.schedule').placeholder = '-14,0,+7,expiry-30';
	inputs.get('smtp.url').placeholder = 'smtp://mail.example.org:587';
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		const body = {};

		for (const [key, input] of inputs)
			body[key] = input.value.trim() || null;
		if (pw.remove.checked)
			body['smtp.password'] = null;
		else if (pw.input.value)
			body['smtp.password'] = pw.input.value;
		submitting(form, out, async () => {
			await api('PUT', '/api/v1/settings', body);
			setFlash(t('set.saved'));
			ctx.rerender();
		});
	});
	return form;
}

/* ---- mail templates ---- */

const KINDS = ['invite', 'reset', 'reminder', 'overdue',
	       'overdue_manager', 'overdue_digest', 'expiry'];

function templateName(tpl) {
	return `${t(`mail.kind.${tpl.kind}`)} – ${
		tpl.language === 'de' ? 'Deutsch' : 'English'}`;
}

/* The form of one template; saved() runs after a change was stored. */
function templateEditor(tpl, saved) {
	const key = `mail.template.${tpl.kind}.${tpl.language}`;
	const subject = h('input', { type: 'text', maxlength: 200,
				     spellcheck: 'false', lang: tpl.language,
				     value: tpl.subject ?? '' });
	const body = h('textarea', { rows: 10, spellcheck: 'false',
				     lang: tpl.language });
	const out = liveRegion('alert');
	const reset = h('button', { type: 'button' }, t('tpl.reset'));
	const names = (tpl.placeholders ?? []).map((p) => `{{${p}}}`);
	const form = h('form', { class: 'template-form' },
		       h('p', { class: 'meta tpl-state' }, t(tpl.custom ?
			       'tpl.custom' : 'tpl.builtin')),
		       field(t('tpl.subject'), subject),
		       field(t('tpl.body'), body, t('tpl.placeholders',
			     { names: names.join(', ') })),
		       h('div', { class: 'buttons' },
			 h('button', { type: 'submit', class: 'primary' },
			   t('tpl.save')),
			 tpl.custom ? reset : null),
		       out);
	const store = (subjectValue, bodyValue, message) =>
		submitting(form, out, async () => {
			await api('PUT', '/api/v1/settings', {
				[`${key}.subject`]: subjectValue,
				[`${key}.body`]: bodyValue,
			});
			await saved(message);
		});

	body.value = tpl.body ?? '';
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		store(subject.value, body.value,
		      t('tpl.saved', { name: templateName(tpl) }));
	});
	reset.addEventListener('click', () => store(null, null,
		t('tpl.wasReset', { name: templateName(tpl) })));
	return form;
}

/*
 * The mail templates: a choice of kind and language, and the form of
 * the one chosen. After a change the list is loaded again and the same
 * template shown, with the result in the section's live region.
 */
function templatesSection(list) {
	const choice = h('select', {}, KINDS.flatMap((k) =>
		['de', 'en'].map((l) => h('option', { value: `${k}.${l}` },
			templateName({ kind: k, language: l })))));
	const slot = h('div', {});
	const out = liveRegion();
	const id = uid('tpl');
	const show = () => {
		const [kind, language] = choice.value.split('.');
		const tpl = list.find((x) => x.kind === kind &&
				      x.language === language);

		replace(slot, tpl ? templateEditor(tpl, saved) :
			h('p', {}, t('tpl.missing')));
	};
	const saved = async (message) => {
		list = (await api('GET', '/api/v1/mail-templates')).templates;
		show();
		say(out, message, 'ok');
		choice.focus();
	};

	choice.addEventListener('change', () => {
		say(out, '', 'info');
		show();
	});
	show();
	return h('section', { class: 'panel', 'aria-labelledby': id },
		 h('h2', { id, tabindex: '-1' }, t('tpl.title')),
		 h('p', {}, t('tpl.intro')),
		 field(t('tpl.choose'), choice), out, slot);
}

export async function adminSettingsPage(ctx) {
	const [settings, templates, certificate] = await Promise.all([
		api('GET', '/api/v1/settings'),
		api('GET', '/api/v1/mail-templates'),
		api('GET', '/api/v1/certificate-template'),
	]);

	if (!ctx.current())
		return;
	frame(ctx, 'settings', t('admin.settings'), flash(),
	      settingsForm(ctx, settings),
	      templatesSection(templates.templates ?? []),
	      certificateTemplateForm(ctx, certificate));
}
