/*
 * Pages of one's own account: signing in, setting a password from an
 * invitation or reset link, and the profile (name, language, password).
 */

import { api, login, session, setSession } from './api.js';
import { brand } from './brand.js';
import { errorText, field, flash, h, heading, liveRegion, replace,
	 say, setFlash } from './dom.js';
import { lang, setLanguage, t } from './i18n.js';
import { afterLogin } from './main.js';

/* Disables a form's controls while fn runs. */
async function busy(form, fn) {
	const controls = [...form.querySelectorAll('button, input, select, ' +
						   'textarea')];
	const was = controls.map((c) => c.disabled);
	const focused = document.activeElement;

	controls.forEach((c) => { c.disabled = true; });
	try {
		return await fn();
	} finally {
		controls.forEach((c, i) => { c.disabled = was[i]; });
		/* disabling dropped the focus: give it back */
		if (focused?.isConnected &&
		    document.activeElement === document.body)
			focused.focus();
	}
}

function loginError(err) {
	if (err.status === 401)
		return t('login.wrong');
	if (err.status === 429) {
		const after = Number(err.response?.headers.get('Retry-After'));
		const minutes = Math.max(1, Math.ceil(after / 60) || 1);
		return t('login.throttled', { minutes });
	}
	return errorText(err);
}

/* The form that asks for a reset link; shown instead of the login form
 * (never beside it, so each label is there once). */
function resetForm(back) {
	const email = h('input', { type: 'email', name: 'email', required: true,
				   autocomplete: 'email' });
	const out = liveRegion();
	const form = h('form', { class: 'card' },
		       h('h2', {}, t('login.forgot')),
		       h('p', { class: 'hint' }, t('login.forgotHint')),
		       field(t('field.email'), email),
		       h('div', { class: 'buttons' },
			 h('button', { type: 'submit', class: 'primary' },
			   t('login.sendLink')),
			 h('button', { type: 'button', onclick: back },
			   t('login.back'))),
		       out);

	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		busy(form, async () => {
			try {
				await api('POST', '/api/v1/password-reset',
					  { email: email.value.trim() });
				say(out, t('login.linkSent'), 'ok');
			} catch (err) {
				say(out, errorText(err), 'error');
			}
		});
	});
	return form;
}

export async function loginPage(ctx) {
	if (session.user) {
		location.replace('#/trainings');
		return;
	}
	const email = h('input', { type: 'email', name: 'email', required: true,
				   autocomplete: 'username' });
	const password = h('input', { type: 'password', name: 'password',
				      required: true,
				      autocomplete: 'current-password' });
	const out = liveRegion('alert');
	const form = h('form', { class: 'card' },
		       field(t('field.email'), email),
		       field(t('field.password'), password),
		       h('button', { type: 'submit', class: 'primary' },
			 t('login.submit')),
		       out);
	const logo = brand.logo_url ?
		h('img', { src: brand.logo_url, alt: brand.name,
			   class: 'logo-large' }) : null;
	const box = h('div', {});
	const showLogin = () => {
		replace(box, form, h('p', {},
				     h('button', { type: 'button',
						   class: 'link',
						   onclick: showReset },
				       t('login.forgot'))));
	};
	const showReset = () => {
		replace(box, resetForm(() => {
			showLogin();
			email.focus();
		}));
		box.querySelector('input').focus();
	};

	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		say(out, '');
		busy(form, async () => {
			try {
				await login(email.value.trim(),
					    password.value);
				await afterLogin();
			} catch (err) {
				say(out, loginError(err), 'error');
				password.focus();
			}
		});
	});
	ctx.title(t('login.title'));
	replace(ctx.main, h('div', { class: 'login' }, logo,
			    heading(brand.name),
			    h('p', { class: 'meta' }, t('login.intro')),
			    box));
	showLogin();
}

export async function passwordPage(ctx) {
	const token = ctx.query.get('token') ?? '';
	const pw = h('input', { type: 'password', required: true,
				autocomplete: 'new-password' });
	const again = h('input', { type: 'password', required: true,
				   autocomplete: 'new-password' });
	const out = liveRegion('alert');
	const form = h('form', { class: 'card' },
		       field(t('field.newPassword'), pw, t('password.rule')),
		       field(t('field.repeatPassword'), again),
		       h('button', { type: 'submit', class: 'primary' },
			 t('password.submit')),
		       out);

	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		if (pw.value.length < 8) {
			say(out, t('password.short'), 'error');
			return;
		}
		if (pw.value !== again.value) {
			say(out, t('password.mismatch'), 'error');
			return;
		}
		busy(form, async () => {
			try {
				const s = await api('POST', '/api/v1/password',
						    { token,
						      password: pw.value },
						    { quiet401: true });
				setSession(s.user, s.csrf_token);
				await afterLogin();
			} catch (err) {
				say(out, err.status === 410 ?
				    t('password.gone') : errorText(err),
				    'error');
			}
		});
	});
	ctx.title(t('password.title'));
	replace(ctx.main, h('div', { class: 'login' },
			    heading(t('password.title')),
			    token ? form : h('p', { class: 'msg msg-error',
						    role: 'alert' },
					     t('password.noToken'))));
}

/* ---- profile ---- */

function profileForm(ctx, user) {
	const name = h('input', { type: 'text', required: true,
				  maxlength: 200, value: user.name ?? '',
				  autocomplete: 'name' });
	const language = h('select', {},
			   h('option', { value: 'de' }, 'Deutsch'),
			   h('option', { value: 'en' }, 'English'));
	const out = liveRegion();
	const form = h('form', { class: 'card' },
		       h('h2', {}, t('profile.details')),
		       h('p', {}, h('strong', {}, t('field.email')), ': ',
			 user.email),
		       field(t('field.name'), name),
		       field(t('field.language'), language),
		       h('button', { type: 'submit', class: 'primary' },
			 t('profile.save')),
		       out);

	language.value = user.language ?? lang();
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		busy(form, async () => {
			try {
				const u = await api('PATCH',
						    '/api/v1/session/user',
						    { name: name.value.trim(),
						      language:
							language.value });
				setSession({ ...session.user, ...u });
				setLanguage(language.value);
				setFlash(t('profile.saved'));
				ctx.rerender();
			} catch (err) {
				say(out, errorText(err), 'error');
			}
		});
	});
	return form;
}

function passwordForm() {
	const current = h('input', { type: 'password', required: true,
				     autocomplete: 'current-password' });
	const pw = h('input', { type: 'password', required: true,
				autocomplete: 'new-password' });
	const out = liveRegion();
	const form = h('form', { class: 'card' },
		       h('h2', {}, t('profile.password')),
		       field(t('field.currentPassword'), current),
		       field(t('field.newPassword'), pw, t('password.rule')),
		       h('button', { type: 'submit' },
			 t('profile.changePassword')),
		       out);

	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		if (pw.value.length < 8) {
			say(out, t('password.short'), 'error');
			return;
		}
		busy(form, async () => {
			try {
				await api('PATCH', '/api/v1/session/user',
					  { password: pw.value,
					    current_password: current.value });
				current.value = '';
				pw.value = '';
				say(out, t('profile.passwordChanged'), 'ok');
			} catch (err) {
				say(out, errorText(err), 'error');
			}
		});
	});
	return form;
}

export async function profilePage(ctx) {
	let user = session.user;

	try {
		const s = await api('GET', '/api/v1/session');
		user = s.user;
		setSession(s.user, s.csrf_token);
	} catch {
		/* the login's copy is enough to show the form */
	}
	if (!ctx.current())
		return;
	ctx.title(t('profile.title'));
	replace(ctx.main, heading(t('profile.title')), flash(),
		profileForm(ctx, user), passwordForm());
}
