/*
 * The certificate template on the admin's settings page: the title,
 * body and signer line of the certificates in German and English, with
 * the placeholders they may use, a way back to the built-in texts, and
 * the signature image (a PNG uploaded as it is, or removed). Uses GET
 * and PUT /api/v1/certificate-template and its /signature; a refusal
 * is shown with the server's reason next to the form.
 */

import { api } from './api.js';
import { field, h, liveRegion, setFlash, uid } from './dom.js';
import { t } from './i18n.js';
import { submitting } from './admin-kit.js';

const TEXTS = ['title', 'body', 'signer'];
const LANGUAGES = [['de', 'Deutsch'], ['en', 'English']];

/* The controls of one language's texts, in a fieldset. */
function languageFields(tpl, code, name, controls) {
	const title = h('input', { type: 'text', maxlength: 200,
				   spellcheck: 'false', lang: code });
	const body = h('textarea', { rows: 6, spellcheck: 'false',
				     lang: code });
	const signer = h('textarea', { rows: 2, spellcheck: 'false',
				       lang: code });

	title.value = tpl.title?.[code] ?? '';
	body.value = tpl.body?.[code] ?? '';
	signer.value = tpl.signer?.[code] ?? '';
	controls[code] = { title, body, signer };
	return h('fieldset', {}, h('legend', {}, name),
		 field(t('ctpl.titleField'), title),
		 field(t('ctpl.body'), body, t('ctpl.bodyHint')),
		 field(t('ctpl.signer'), signer, t('ctpl.signerHint')));
}

/* The texts that differ from what was loaded, as PUT takes them. */
function changes(tpl, controls) {
	const body = {};

	for (const text of TEXTS)
		for (const [code] of LANGUAGES) {
			const value = controls[code][text].value;
			if (value === (tpl[text]?.[code] ?? ''))
				continue;
			body[text] = body[text] ?? {};
			body[text][code] = value;
		}
	return body;
}

function textsForm(ctx, tpl) {
	const controls = {};
	const out = liveRegion('alert');
	const reset = h('button', { type: 'button' }, t('ctpl.reset'));
	const names = (tpl.placeholders ?? []).map((p) => `{{${p}}}`);
	const form = h('form', {},
		       h('p', { class: 'hint' }, t('tpl.placeholders',
			       { names: names.join(', ') })),
		       h('p', { class: 'meta tpl-state' }, t(tpl.custom ?
			       'ctpl.custom' : 'ctpl.builtin')),
		       LANGUAGES.map(([code, name]) =>
			       languageFields(tpl, code, name, controls)),
		       h('div', { class: 'buttons' },
			 h('button', { type: 'submit', class: 'primary' },
			   t('ctpl.save')),
			 tpl.custom ? reset : null),
		       out);
	const store = (body, message) => submitting(form, out, async () => {
		await api('PUT', '/api/v1/certificate-template', body);
		setFlash(message);
		ctx.rerender();
	});

	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		store(changes(tpl, controls), t('ctpl.saved'));
	});
	reset.addEventListener('click', () => store(
		{ title: null, body: null, signer: null }, t('ctpl.wasReset')));
	return form;
}

/* The signature image: the stored one with "Remove", and an upload. */
function signatureForm(ctx, tpl) {
	const file = h('input', { type: 'file', accept: 'image/png',
				  required: true });
	const out = liveRegion('alert');
	const id = uid('sig');
	const remove = h('button', { type: 'button', class: 'danger' },
			 t('ctpl.removeSignature'));
	const form = h('form', { 'aria-labelledby': id },
		       h('h3', { id }, t('ctpl.signature')),
		       tpl.signature ?
			h('img', { class: 'signature-preview',
				   alt: t('ctpl.currentSignature'),
				   src: '/api/v1/certificate-template/' +
					`signature?v=${Date.now()}` }) :
			h('p', {}, t('ctpl.noSignature')),
		       tpl.signature ? h('div', { class: 'buttons' }, remove) :
			       null,
		       field(t('ctpl.signatureFile'), file,
			     t('ctpl.signatureHint')),
		       h('button', { type: 'submit', class: 'primary' },
			 t('ctpl.upload')),
		       out);

	remove.addEventListener('click', () => submitting(form, out,
		async () => {
			await api('DELETE',
				  '/api/v1/certificate-template/signature');
			setFlash(t('ctpl.signatureRemoved'));
			ctx.rerender();
		}));
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		const f = file.files?.[0];

		if (!f)
			return;
		submitting(form, out, async () => {
			await api('PUT', '/api/v1/certificate-template/' +
				  'signature', f, { type: 'image/png' });
			setFlash(t('ctpl.signatureSaved'));
			ctx.rerender();
		});
	});
	return form;
}

/* The certificate template's section of the settings page. */
export function certificateTemplateForm(ctx, tpl) {
	const id = uid('ctpl');

	return h('section', { class: 'panel', 'aria-labelledby': id },
		 h('h2', { id, tabindex: '-1' }, t('ctpl.title')),
		 h('p', {}, t('ctpl.intro')),
		 textsForm(ctx, tpl),
		 signatureForm(ctx, tpl));
}
