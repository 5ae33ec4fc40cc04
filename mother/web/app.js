/*
 * The operators' pages of the mother: sign-in, tenants, courses with
 * their revision history, analytics with charts drawn here as SVG, and
 * usage with a CSV download. A hash route per page (#/tenants, ...);
 * everything comes from the admin API of the same origin. Text is in
 * English or German (the browser's language, or the switch, kept in
 * localStorage). Data from the API only ever becomes text nodes.
 */
const TEXT = {
	en: {
		'nav.tenants': 'Tenants', 'nav.courses': 'Courses',
		'nav.analytics': 'Analytics', 'nav.usage': 'Usage',
		logout: 'Sign out', other: 'Deutsch',
		'login.title': 'Sign in to the mother',
		'login.email': 'Email', 'login.password': 'Password',
		'login.submit': 'Sign in',
		'login.wrong': 'Wrong email or password.',
		'login.throttled': 'Too many attempts; try again in a minute.',
		'tenants.title': 'Tenants', 'tenants.none': 'No tenants yet.',
		tenant: 'Tenant', state: 'State', connected: 'connected',
		offline: 'offline', 'last.contact': 'Last contact',
		'course.revs': 'Courses held', audit: 'Audit head',
		'audit.none': 'none yet', 'audit.conflict': 'conflict',
		'audit.ok': 'consistent', behind: 'behind', current: 'current',
		never: 'never', 'revisions.behind': 'revisions behind',
		'courses.title': 'Courses', course: 'Course', title: 'Title',
		revision: 'Revision', 'history.title': 'Revision history',
		time: 'Time', author: 'Author', message: 'Message',
		'history.none': 'Nothing published yet.',
		'analytics.title': 'Analytics across tenants',
		'all.courses': 'All courses', from: 'From', to: 'To',
		show: 'Show', 'chart.completion': 'Completion per course',
		'chart.active': 'Active learners per month',
		completed: 'completed', open: 'not completed',
		assigned: 'Assigned', done: 'Completed',
		'not_started': 'Not started',
		'in_progress': 'In progress', overdue: 'Overdue',
		expired: 'Expired', 'certificates_valid': 'Certificates valid',
		'certificates_expiring': 'Expiring soon', tenants: 'Tenants',
		'no.figures': 'No figures reported yet.',
		'usage.title': 'Usage for invoicing', month: 'Month',
		'active_learners': 'Active learners',
		'courses_licensed': 'Courses licensed',
		completions: 'Completions', 'csv.download': 'Download CSV',
		name: 'Name', error: 'Something went wrong:',
	},
	de: {
		'nav.tenants': 'Mandanten', 'nav.courses': 'Kurse',
		'nav.analytics': 'Auswertung', 'nav.usage': 'Nutzung',
		logout: 'Abmelden', other: 'English',
		'login.title': 'Bei der Zentrale anmelden',
		'login.email': 'E-Mail', 'login.password': 'Passwort',
		'login.submit': 'Anmelden',
		'login.wrong': 'E-Mail oder Passwort ist falsch.',
		'login.throttled':
			'Zu viele Versuche; bitte in einer Minute erneut.',
		'tenants.title': 'Mandanten',
		'tenants.none': 'Noch keine Mandanten.',
		tenant: 'Mandant', state: 'Zustand', connected: 'verbunden',
		offline: 'getrennt', 'last.contact': 'Letzter Kontakt',
		'course.revs': 'Kursstände', audit: 'Audit-Kopf',
		'audit.none': 'noch keiner', 'audit.conflict': 'Widerspruch',
		'audit.ok': 'stimmig', behind: 'zurück', current: 'aktuell',
		never: 'nie', 'revisions.behind': 'Stände zurück',
		'courses.title': 'Kurse', course: 'Kurs', title: 'Titel',
		revision: 'Stand', 'history.title': 'Versionsgeschichte',
		time: 'Zeit', author: 'Autor', message: 'Nachricht',
		'history.none': 'Noch nichts veröffentlicht.',
		'analytics.title': 'Auswertung über alle Mandanten',
		'all.courses': 'Alle Kurse', from: 'Von', to: 'Bis',
		show: 'Anzeigen', 'chart.completion': 'Abschluss je Kurs',
		'chart.active': 'Aktive Lernende je Monat',
		completed: 'abgeschlossen', open: 'nicht abgeschlossen',
		assigned: 'Zugewiesen', done: 'Abgeschlossen', 'not_started': 'Nicht begonnen',
		'in_progress': 'Begonnen', overdue: 'Überfällig',
		expired: 'Abgelaufen',
		'certificates_valid': 'Gültige Zertifikate',
		'certificates_expiring': 'Laufen bald ab',
		tenants: 'Mandanten',
		'no.figures': 'Noch keine Zahlen gemeldet.',
		'usage.title': 'Nutzung für die Abrechnung', month: 'Monat',
		'active_learners': 'Aktive Lernende',
		'courses_licensed': 'Lizenzierte Kurse',
		completions: 'Abschlüsse', 'csv.download': 'CSV herunterladen',
		name: 'Name', error: 'Etwas ist schiefgegangen:',
	},
};

const state = { lang: pickLanguage(), csrf: null, operator: null };

function pickLanguage() {
	const kept = localStorage.getItem('lms.mother.lang');

	if (kept === 'de' || kept === 'en')
		return kept;
	return (navigator.language || 'en').toLowerCase().startsWith('de') ?
		'de' : 'en';
}

function t(key) {
	return TEXT[state.lang][key] ?? TEXT.en[key] ?? key;
}

/* An element with attributes and children (strings become text). */
function h(tag, attrs = {}, ...children) {
	const el = document.createElement(tag);

	for (const [k, v] of Object.entries(attrs)) {
		if (v === false || v === null || v === undefined)
			continue;
		if (k.startsWith('on'))
			el.addEventListener(k.slice(2), v);
		else
			el.setAttribute(k, v === true ? '' : v);
	}
	for (const c of children.flat())
		if (c !== null && c !== undefined && c !== false)
			el.append(c instanceof Node ? c : String(c));
	return el;
}

const SVG = 'http://www.w3.org/2000/svg';

function s(tag, attrs = {}, text) {
	const el = document.createElementNS(SVG, tag);

	for (const [k, v] of Object.entries(attrs))
		el.setAttribute(k, v);
	if (text !== undefined)
		el.textContent = text;
	return el;
}

/* ---- the API ---- */

class ApiError extends Error {
	constructor(status, body) {
		super(body?.error?.message ?? `HTTP ${status}`);
		this.status = status;
	}
}

async function api(method, path, body) {
	const headers = {};

	if (body !== undefined)
		headers['Content-Type'] = 'application/json';
	if (method !== 'GET' && state.csrf)
		headers['X-CSRF-Token'] = state.csrf;
	const res = await fetch(path, {
		method, headers, credentials: 'same-origin',
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	const json = await res.json().catch(() => null);

	if (res.status === 401 && path !== '/api/v1/session') {
		state.operator = null;
		location.hash = '#/login';
	}
	if (!res.ok)
		throw new ApiError(res.status, json);
	return json;
}

/* ---- layout ---- */

const main = () => document.getElementById('main');

function show(title, ...content) {
	const m = main();

	m.replaceChildren(h('h1', {}, title), ...content);
	document.title = `${title} · LMS`;
	m.focus();
}

function translateStatic() {
	document.documentElement.lang = state.lang;
	for (const el of document.querySelectorAll('[data-t]'))
		el.textContent = t(el.dataset.t);
	document.getElementById('lang').textContent = t('other');
	document.getElementById('nav').hidden = !state.operator;
	document.getElementById('logout').hidden = !state.operator;
}

function markNav(route) {
	for (const a of document.querySelectorAll('#nav a'))
		if (a.dataset.route === route)
			a.setAttribute('aria-current', 'page');
		else
			a.removeAttribute('aria-current');
}

function when(iso) {
	if (!iso)
		return t('never');
	return new Date(iso).toLocaleString(state.lang === 'de' ?
					    'de-DE' : 'en-GB');
}

function badge(kind, text) {
	return h('span', { class: `badge ${kind}` }, text);
}

function table(head, rows, numeric = []) {
	return h('div', { class: 'table-wrap' }, h('table', {},
		h('thead', {}, h('tr', {}, head.map((x, i) => h('th', {
			class: numeric.includes(i) ? 'num' : null }, x)))),
		h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c, i) =>
			h('td', { class: numeric.includes(i) ? 'num' :
				  null }, c)))))));
}

/* ---- sign-in ---- */

function viewLogin() {
	const err = h('p', { class: 'error', role: 'alert' });
	const form = h('form', { class: 'login card' },
		h('label', { for: 'email' }, t('login.email')),
		h('input', { id: 'email', type: 'email', name: 'email',
			     autocomplete: 'username', required: true }),
		h('label', { for: 'password' }, t('login.password')),
		h('input', { id: 'password', type: 'password',
			     name: 'password', required: true,
			     autocomplete: 'current-password' }),
		h('button', { type: 'submit', class: 'primary' },
		  t('login.submit')), err);

	form.addEventListener('submit', async (e) => {
		e.preventDefault();
		try {
			const r = await api('POST', '/api/v1/session', {
				email: form.email.value,
				password: form.password.value });
			state.csrf = r.csrf_token;
			state.operator = r.operator;
			location.hash = '#/tenants';
		} catch (x) {
			err.textContent = x.status === 429 ?
				t('login.throttled') : t('login.wrong');
		}
	});
	show(t('login.title'), form);
	form.email.focus();
}

/* ---- tenants ---- */

function courseCell(tenant) {
	return Object.entries(tenant.courses).map(([id, rev]) => {
		const lag = tenant.lag?.[id] ?? { revisions: 0 };
		return h('div', {}, h('code', {}, id), ' ',
			 rev ? h('code', { title: rev }, rev.slice(0, 8)) :
			       '–', ' ',
			 lag.revisions ? badge('warn', `${lag.revisions} ` +
					       t('revisions.behind')) :
				 badge('good', t('current')));
	});
}

function auditCell(a) {
	if (!a)
		return h('span', { class: 'muted' }, t('audit.none'));
	return h('div', {}, `#${a.seq} `,
		 h('code', { title: a.hash }, a.hash.slice(0, 12)), ' ',
		 a.conflict ? badge('bad', `${t('audit.conflict')} ` +
				    `(${a.conflicts})`) :
			      badge('good', t('audit.ok')),
		 h('div', { class: 'muted' }, when(a.received_at)));
}

async function viewTenants() {
	const list = await api('GET', '/api/v1/tenants');

	show(t('tenants.title'), list.length ? table(
		[t('tenant'), t('state'), t('last.contact'), t('course.revs'),
		 t('audit')],
		list.map((x) => [
			h('div', {}, h('strong', {}, x.name),
			  h('div', { class: 'muted' }, x.id)),
			x.connected ? badge('good', t('connected')) :
				badge('off', t('offline')),
			when(x.last_contact), courseCell(x),
			auditCell(x.audit),
		])) : h('p', { class: 'muted' }, t('tenants.none')));
}

/* ---- courses ---- */

async function viewCourses() {
	const list = await api('GET', '/api/v1/courses');

	show(t('courses.title'), table(
		[t('course'), t('title'), t('revision')],
		list.map((c) => [
			h('a', { href: `#/courses/${encodeURIComponent(c.id)}` },
			  c.id),
			c.title,
			c.revision ? h('code', { title: c.revision },
				       c.revision.slice(0, 12)) : '–',
		])));
}

async function viewCourse(id) {
	const [courses, history] = await Promise.all([
		api('GET', '/api/v1/courses'),
		api('GET', `/api/v1/courses/${encodeURIComponent(id)}` +
			   '/revisions'),
	]);
	const course = courses.find((c) => c.id === id);

	show(course ? `${course.title} (${id})` : id,
	     h('h2', {}, t('history.title')),
	     history.length ? table(
		     [t('revision'), t('time'), t('author'), t('message')],
		     history.map((r) => [
			     h('code', { title: r.revision },
			       r.revision.slice(0, 12)),
			     when(r.time), r.author, r.message.trim(),
		     ])) : h('p', { class: 'muted' }, t('history.none')));
}

/* ---- analytics ---- */

/* The width charts are drawn at, so that their text keeps its size on
 * a phone: the main column's, within bounds. */
function chartWidth() {
	return Math.min(900, Math.max(280, main().clientWidth - 40));
}

/* Horizontal bars: completed and the rest of assigned, per course. */
function completionChart(courses) {
	const width = chartWidth(), rowH = 34;
	const labelW = Math.min(190, Math.round(width * 0.3));
	const barW = width - labelW - 90;
	const svg = s('svg', { class: 'chart', role: 'img',
			       viewBox: `0 0 ${width} ${courses.length *
						      rowH + 10}`,
			       'aria-label': t('chart.completion') });

	courses.forEach((c, i) => {
		const y = 5 + i * rowH;
		const done = c.assigned ? c.completed / c.assigned : 0;
		const pct = Math.round(done * 100);

		svg.append(s('text', { x: 0, y: y + 19 },
			     (c.title || c.id).slice(0, labelW / 7)));
		svg.append(s('rect', { class: 'bar-rest', x: labelW, y,
				       width: barW, height: 24 }));
		svg.append(s('rect', { class: 'bar-done', x: labelW, y,
				       width: Math.round(barW * done),
				       height: 24 }));
		svg.append(s('text', { x: labelW + barW + 6, y: y + 17 },
			     `${c.completed}/${c.assigned} (${pct} %)`));
	});
	return svg;
}

/* Vertical bars of active learners per month. */
function activeChart(months) {
	const width = chartWidth(), height = 220, base = 190, left = 36;
	const right = 14;
	const max = Math.max(1, ...months.map((m) => m.active_learners));
	const step = (width - left - right) / Math.max(1, months.length);
	const svg = s('svg', { class: 'chart', role: 'img',
			       viewBox: `0 0 ${width} ${height}`,
			       'aria-label': t('chart.active') });

	svg.append(s('line', { class: 'axis', x1: left, y1: base,
			       x2: width, y2: base }));
	svg.append(s('text', { x: 0, y: 14 }, String(max)));
	svg.append(s('text', { x: 0, y: base }, '0'));
	months.forEach((m, i) => {
		const hgt = Math.round((base - 20) * m.active_learners / max);
		const x = left + i * step + step * 0.15;
		const mid = { x: x + step * 0.35, 'text-anchor': 'middle' };

		svg.append(s('rect', { class: 'bar-active', x, y: base - hgt,
				       width: step * 0.7, height: hgt }));
		if (m.active_learners)
			svg.append(s('text', { ...mid, y: base - hgt - 4 },
				     String(m.active_learners)));
		/* every other month's name when they would overlap */
		if (step >= 36 || (months.length - 1 - i) % 2 === 0)
			svg.append(s('text', { ...mid, y: base + 16 },
				     m.month.slice(2)));
	});
	return svg;
}

function monthInput(id, label, value) {
	return h('div', {}, h('label', { for: id }, label),
		 h('input', { id, name: id, type: 'month', value }));
}

async function viewAnalytics(query) {
	const params = new URLSearchParams(query);
	const [courses, a] = await Promise.all([
		api('GET', '/api/v1/courses'),
		api('GET', `/api/v1/analytics?${params}`),
	]);
	const select = h('select', { id: 'course', name: 'course' },
		h('option', { value: '' }, t('all.courses')),
		courses.map((c) => h('option', {
			value: c.id, selected: c.id === a.course }, c.title)));
	const form = h('form', { class: 'filters card' },
		h('div', {}, h('label', { for: 'course' }, t('course')),
		  select),
		monthInput('from', t('from'), a.from),
		monthInput('to', t('to'), a.to),
		h('div', {}, h('button', { type: 'submit', class: 'primary' },
			       t('show'))));
	const fields = ['assigned', 'not_started', 'in_progress', 'done',
			'overdue', 'expired', 'certificates_valid',
			'certificates_expiring', 'tenants'];

	form.addEventListener('submit', (e) => {
		e.preventDefault();
		const q = new URLSearchParams();
		for (const k of ['course', 'from', 'to'])
			if (form[k].value)
				q.set(k, form[k].value);
		location.hash = `#/analytics?${q}`;
	});
	show(t('analytics.title'), form,
	     h('section', { class: 'card', id: 'chart-completion' },
	       h('h2', {}, t('chart.completion')),
	       h('div', { class: 'legend' },
		 h('span', { class: 'done' }, t('completed')),
		 h('span', { class: 'rest' }, t('open'))),
	       a.courses.length ? completionChart(a.courses) :
		       h('p', { class: 'muted' }, t('no.figures'))),
	     h('section', { class: 'card', id: 'chart-active' },
	       h('h2', {}, t('chart.active')), activeChart(a.months)),
	     table([t('course'), ...fields.map(t)], a.courses.map((c) => [
		     c.title || c.id,
		     ...fields.map((f) => c[f === 'done' ? 'completed' : f])]),
		   fields.map((_, i) => i + 1)));
}

/* ---- usage ---- */

async function viewUsage(query) {
	const params = new URLSearchParams(query);
	const month = params.get('month') ||
		new Date().toISOString().slice(0, 7);
	const rows = await api('GET', `/api/v1/usage?month=${month}`);
	const form = h('form', { class: 'filters card' },
		monthInput('month', t('month'), month),
		h('div', {}, h('button', { type: 'submit', class: 'primary' },
			       t('show'))),
		h('div', {}, h('a', {
			class: 'button', id: 'csv', download: `usage-${month}.csv`,
			href: `/api/v1/usage?month=${month}&format=csv` },
			t('csv.download'))));

	form.addEventListener('submit', (e) => {
		e.preventDefault();
		location.hash = `#/usage?month=${form.month.value}`;
	});
	show(t('usage.title'), form, table(
		[t('tenant'), t('name'), t('active_learners'),
		 t('courses_licensed'), t('completions')],
		rows.map((r) => [r.tenant, r.name, r.active_learners,
				 r.courses_licensed, r.completions]),
		[2, 3, 4]));
}

/* ---- routing ---- */

async function route() {
	const [path, query = ''] = location.hash.slice(1).split('?');
	const parts = path.split('/').filter(Boolean);

	translateStatic();
	if (!state.operator && parts[0] !== 'login') {
		try {
			const r = await api('GET', '/api/v1/session');
			state.operator = r.operator;
			state.csrf = r.csrf_token;
			translateStatic();
		} catch {
			location.hash = '#/login';
			return;
		}
	}
	markNav(parts[0]);
	try {
		if (parts[0] === 'login')
			viewLogin();
		else if (parts[0] === 'courses' && parts[1])
			await viewCourse(decodeURIComponent(parts[1]));
		else if (parts[0] === 'courses')
			await viewCourses();
		else if (parts[0] === 'analytics')
			await viewAnalytics(query);
		else if (parts[0] === 'usage')
			await viewUsage(query);
		else if (parts[0] === 'tenants')
			await viewTenants();
		else
			location.hash = '#/tenants';
	} catch (e) {
		if (e.status !== 401)
			show(t('error'), h('p', { class: 'error' }, e.message));
	}
}

document.getElementById('lang').addEventListener('click', () => {
	state.lang = state.lang === 'de' ? 'en' : 'de';
	localStorage.setItem('lms.mother.lang', state.lang);
	route();
});
document.getElementById('logout').addEventListener('click', async () => {
	try {
		await api('DELETE', '/api/v1/session');
	} finally {
		state.operator = null;
		state.csrf = null;
		location.hash = '#/login';
	}
});
window.addEventListener('hashchange', route);
route();
