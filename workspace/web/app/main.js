/*
 * The academy's pages: one HTML document whose <main> shows the page of
 * the route in location.hash. This module starts the app (branding,
 * session, language), draws the header and runs the router: it checks
 * who may see a route, renders the page into <main>, sets the window
 * title and moves focus to the page's heading.
 */

import { api, loadSession, logout, session,
	 setUnauthorizedHandler } from './api.js';
import { brand, loadBrand } from './brand.js';
import { errorBox, h, replace } from './dom.js';
import { chooseLanguage, lang, otherLanguage, setLanguage,
	 t } from './i18n.js';
import { loginPage, passwordPage, profilePage } from './account.js';
import { catalogPage, coursePage, lessonPage,
	 trainingsPage } from './learn.js';
import { adminAssignmentsPage, adminBrandingPage, adminEnrollmentPage,
	 adminGroupsPage, adminImportPage, adminUsersPage } from './admin.js';
import { certificatesPage } from './certificates.js';
import { adminCompliancePage,
	 adminComplianceUserPage } from './admin-compliance.js';
import { adminMailPage } from './admin-mail.js';
import { adminReportsPage } from './admin-reports.js';
import { adminTranscriptPage } from './admin-transcript.js';
import { adminSettingsPage } from './admin-settings.js';

const PUBLIC = { public: true };
const ADMIN = { admin: true };
/* admins and managers (who see the people of their groups) */
const STAFF = { staff: true };

/* Patterns of the hash routes; ":name" takes one path segment. */
const ROUTES = [
	['login', loginPage, PUBLIC],
	['password', passwordPage, PUBLIC],
	['trainings', trainingsPage],
	['catalog', catalogPage],
	['course/:id', coursePage],
	['course/:id/lesson/:lesson', lessonPage],
	['certificates', certificatesPage],
	['profile', profilePage],
	['admin/users', adminUsersPage, ADMIN],
	['admin/groups', adminGroupsPage, ADMIN],
	['admin/assignments', adminAssignmentsPage, ADMIN],
	['admin/enrollment', adminEnrollmentPage, ADMIN],
	['admin/import', adminImportPage, ADMIN],
	['admin/branding', adminBrandingPage, ADMIN],
	['admin/compliance', adminCompliancePage, STAFF],
	['admin/compliance/user/:id', adminComplianceUserPage, STAFF],
	['admin/reports', adminReportsPage, STAFF],
	['admin/reports/transcript/:id', adminTranscriptPage, STAFF],
	['admin/mail', adminMailPage, ADMIN],
	['admin/settings', adminSettingsPage, ADMIN],
];

const HOME = '#/trainings';

/* The route of a hash: { path, params, query, page, options }. */
function parseHash(hash) {
	const raw = hash.replace(/^#\/?/, '');
	const [path, qs = ''] = raw.split('?');
	const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
	const query = new URLSearchParams(qs);

	for (const [pattern, page, options = {}] of ROUTES) {
		const want = pattern.split('/');
		const params = {};

		if (want.length !== parts.length)
			continue;
		const ok = want.every((w, i) => {
			if (w.startsWith(':')) {
				params[w.slice(1)] = parts[i];
				return true;
			}
			return w === parts[i];
		});
		if (ok)
			return { path: pattern, params, query, page, options };
	}
	return null;
}

/* May user see a route with these options? */
function allowed(options, user) {
	if (options.admin)
		return user.role === 'admin';
	if (options.staff)
		return user.role === 'admin' || user.role === 'manager';
	return true;
}

/* ---- header ---- */

function navLink(href, text, current) {
	return h('a', { href, 'aria-current': current ? 'page' : null },
		 text);
}

/* The way into the admin area: all of it for admins, the compliance
 * and report pages for managers, nothing for learners. */
function staffLink(user, at) {
	if (user.role === 'admin')
		return h('li', {}, navLink('#/admin/users', t('nav.admin'),
					   at.startsWith('admin')));
	if (user.role === 'manager')
		return [h('li', {}, navLink('#/admin/compliance',
					    t('nav.compliance'),
					    at.startsWith('admin/compliance'))),
			h('li', {}, navLink('#/admin/reports', t('nav.reports'),
					    at.startsWith('admin/reports')))];
	return null;
}

function drawHeader(route) {
	const header = document.getElementById('site-header');
	const other = otherLanguage();
	const at = route?.path ?? '';
	const logo = brand.logo_url ?
		h('img', { src: brand.logo_url, alt: '', class: 'logo' }) :
		null;
	const user = session.user;
	let nav = null;

	if (user && !route?.options.public)
		nav = h('nav', { 'aria-label': t('nav.label') },
			h('ul', {},
			  h('li', {}, navLink('#/trainings', t('nav.trainings'),
					      at === 'trainings')),
			  h('li', {}, navLink('#/certificates',
					      t('nav.certificates'),
					      at === 'certificates')),
			  h('li', {}, navLink('#/catalog', t('nav.catalog'),
					      at === 'catalog')),
			  h('li', {}, navLink('#/profile', t('nav.profile'),
					      at === 'profile')),
			  staffLink(user, at)));
	replace(header,
		h('div', { class: 'brand' },
		  h('a', { href: user ? HOME : '#/login', class: 'brand-link' },
		    logo, h('span', { class: 'brand-name' }, brand.name))),
		nav,
		h('div', { class: 'header-tools' },
		  h('button', { type: 'button', class: 'lang-switch',
				lang: other.code, onclick: switchLanguage },
		    other.name),
		  user && !route?.options.public ?
			h('button', { type: 'button', class: 'sign-out',
				      onclick: signOut }, t('nav.signout')) :
			null));
}

function switchLanguage() {
	setLanguage(otherLanguage().code);
	render();
}

async function signOut() {
	try {
		await logout();
	} catch {
		/* the local session is gone either way */
	}
	location.hash = '#/login';
}

/* ---- the router ---- */

let renderSeq = 0;

/* The context a page renders with. */
function pageContext(route, main, seq) {
	return {
		main,
		params: route.params,
		query: route.query,
		user: session.user,
		/* sets the window title: "page - academy" */
		title(text) {
			document.title = text ? `${text} – ${brand.name}` :
				brand.name;
		},
		/* false once another route has started rendering */
		current() {
			return seq === renderSeq;
		},
		/* redraws the header (after a profile or branding change) */
		refreshChrome() {
			drawHeader(route);
		},
		rerender: render,
	};
}

/* Renders the route of location.hash into <main>. */
export async function render() {
	const seq = ++renderSeq;
	const main = document.getElementById('main');
	let route = parseHash(location.hash);

	if (!route) {
		location.replace(session.user ? HOME : '#/login');
		return;
	}
	if (!route.options.public && !session.user) {
		sessionStorage.setItem('lms.after-login', location.hash);
		location.replace('#/login');
		return;
	}
	if (!route.options.public && !allowed(route.options, session.user)) {
		location.replace(HOME);
		return;
	}
	drawHeader(route);
	document.querySelector('.skip-link').textContent = t('skip');
	main.setAttribute('aria-busy', 'true');
	const ctx = pageContext(route, main, seq);

	try {
		ctx.title('');
		await route.page(ctx);
	} catch (err) {
		if (seq !== renderSeq)
			return;
		replace(main, h('h1', { tabindex: '-1', id: 'page-heading' },
				t('error.title')), errorBox(err),
			h('p', {}, h('a', { href: HOME }, t('course.back'))));
	}
	if (seq !== renderSeq)
		return;
	main.removeAttribute('aria-busy');
	if (route.options.public && document.title === brand.name)
		ctx.title('');
	document.getElementById('page-heading')?.focus();
}

/* After a login: the whole session (with the profile's language), then
 * the route that sent the user there, or home. */
export async function afterLogin() {
	const back = sessionStorage.getItem('lms.after-login');

	sessionStorage.removeItem('lms.after-login');
	try {
		await loadSession();
	} catch {
		/* the login's answer is enough to go on */
	}
	chooseLanguage(session.user?.language, brand.default_language);
	location.hash = back && !/^#\/(login|password)/.test(back) ?
		back : HOME;
}

async function tenantName() {
	try {
		return (await api('GET', '/healthz')).tenant;
	} catch {
		return '';
	}
}

/* The skip link moves focus to <main> without touching the route. */
function setupSkipLink() {
	const link = document.querySelector('.skip-link');

	link?.addEventListener('click', (ev) => {
		ev.preventDefault();
		document.getElementById('main').focus();
	});
}

async function start() {
	setupSkipLink();
	setUnauthorizedHandler(() => {
		session.user = null;
		if (!/^#\/(login|password)/.test(location.hash)) {
			sessionStorage.setItem('lms.after-login',
					       location.hash);
			location.hash = '#/login';
		}
	});
	await loadBrand('');
	if (!brand.name)
		brand.name = await tenantName();
	chooseLanguage(null, brand.default_language);
	try {
		await loadSession();
	} catch {
		/* treated as signed out; the login page says more */
	}
	chooseLanguage(session.user?.language, brand.default_language);
	window.addEventListener('hashchange', render);
	await render();
}

start().catch((err) => {
	const main = document.getElementById('main');

	replace(main, errorBox(err));
});

export { lang };
