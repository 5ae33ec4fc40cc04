/*
 * Building the pages: h() makes an element from a tag, attributes and
 * children (strings become text, never HTML), and a few helpers for the
 * pieces every page has: the main heading, messages read out by screen
 * readers, labelled form fields and dates.
 */

import { t } from './i18n.js';

/*
 * h('a', { href: '#/x', class: 'c', onclick: fn }, 'text', child...).
 * Attributes: "class", "text", on<event> (a listener), a boolean (set
 * when true), anything else through setAttribute; null and undefined are
 * skipped, as are null children. Arrays of children are flattened.
 */
export function h(tag, attrs = {}, ...children) {
	const el = document.createElement(tag);

	for (const [k, v] of Object.entries(attrs ?? {})) {
		if (v === null || v === undefined || v === false)
			continue;
		if (k === 'class')
			el.className = v;
		else if (k === 'text')
			el.textContent = v;
		else if (k.startsWith('on') && typeof v === 'function')
			el.addEventListener(k.slice(2), v);
		else if (v === true)
			el.setAttribute(k, '');
		else if (k === 'value' || k === 'checked' || k === 'selected')
			el[k] = v;
		else
			el.setAttribute(k, String(v));
	}
	append(el, children);
	return el;
}

function append(el, children) {
	for (const c of children) {
		if (c === null || c === undefined || c === false)
			continue;
		if (Array.isArray(c))
			append(el, c);
		else if (c instanceof Node)
			el.appendChild(c);
		else
			el.appendChild(document.createTextNode(String(c)));
	}
}

/* Empties el and puts children in. */
export function replace(el, ...children) {
	el.replaceChildren();
	append(el, children);
	return el;
}

/* The page's h1, focusable so that a route change can move focus to it. */
export function heading(text) {
	return h('h1', { tabindex: '-1', id: 'page-heading' }, text);
}

let fieldSeq = 0;

/* A unique id for a label/input pair. */
export function uid(prefix = 'f') {
	fieldSeq += 1;
	return `${prefix}-${fieldSeq}`;
}

/*
 * A labelled form field: field(t('Email'), h('input', {...})). The
 * control gets an id when it has none; hint (optional) is linked by
 * aria-describedby.
 */
export function field(label, control, hint) {
	if (!control.id)
		control.id = uid();
	const parts = [h('label', { for: control.id }, label), control];

	if (hint) {
		const hid = uid('hint');
		control.setAttribute('aria-describedby', hid);
		parts.push(h('p', { class: 'hint', id: hid }, hint));
	}
	return h('div', { class: 'field' }, parts);
}

/* A region for results and errors that screen readers announce. */
export function liveRegion(kind = 'status') {
	return h('div', { class: 'live', role: kind === 'alert' ? 'alert' :
			  'status', 'aria-live': kind === 'alert' ?
			  'assertive' : 'polite' });
}

/* Shows a message in a live region: kind "error", "ok" or "info". */
export function say(region, text, kind = 'info') {
	region.className = `live msg msg-${kind}`;
	region.textContent = text;
}

/* Keeps a message for the next page drawn (after a change that
 * redraws the page). */
export function setFlash(text) {
	sessionStorage.setItem('lms.flash', text);
}

/* A live region with the kept message, if any. */
export function flash() {
	const text = sessionStorage.getItem('lms.flash');
	const out = liveRegion();

	sessionStorage.removeItem('lms.flash');
	if (text)
		say(out, text, 'ok');
	return out;
}

/* The message of an API error for people: the server's when it has
 * one, a hint for routes this workspace does not offer yet. */
export function errorText(err) {
	if (err?.status === 404 && err.code === 'not_found' &&
	    /no such resource/.test(err.message))
		return t('error.unavailable');
	if (err?.status === 0)
		return t('error.network');
	if (err?.status === 403)
		return err.message ? `${t('error.forbidden')} (${err.message})`
			: t('error.forbidden');
	return err?.message || t('error.generic');
}

/* An error box for a page that could not be shown. */
export function errorBox(err) {
	return h('div', { class: 'msg msg-error', role: 'alert' },
		 errorText(err));
}

/* A calendar date "YYYY-MM-DD" for people, in a <time> with the ISO
 * date; English shows the ISO date itself. */
export function dateEl(iso, lang) {
	let text = iso;

	if (lang === 'de' && /^\d{4}-\d{2}-\d{2}/.test(iso)) {
		const [y, m, d] = iso.slice(0, 10).split('-');
		text = `${d}.${m}.${y}`;
	} else if (iso && iso.length > 10) {
		text = iso.slice(0, 10);
	}
	return h('time', { datetime: iso }, text);
}

/* A moment "YYYY-MM-DDTHH:MM:SSZ" for people, to the minute in UTC
 * (which the text says), in a <time>; "–" for null. */
export function timeEl(iso, lang) {
	if (!iso)
		return '–';
	const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}:\d{2})/.exec(iso);

	if (!m)
		return h('time', { datetime: iso }, iso);
	const day = lang === 'de' ? `${m[3]}.${m[2]}.${m[1]}` :
		`${m[1]}-${m[2]}-${m[3]}`;
	return h('time', { datetime: iso }, `${day} ${m[4]} UTC`);
}

/* A progress bar with its percentage as text and for assistive
 * technology. */
export function progressBar(percent, label) {
	const p = Math.max(0, Math.min(100, Math.floor(percent ?? 0)));
	const fill = h('span', { class: 'bar-fill' });

	fill.style.width = `${p}%`;
	return h('div', { class: 'progress' },
		 h('div', { class: 'bar', role: 'progressbar',
			    'aria-valuenow': p, 'aria-valuemin': 0,
			    'aria-valuemax': 100, 'aria-label': label },
		   fill),
		 h('span', { class: 'percent' }, `${p} %`));
}
