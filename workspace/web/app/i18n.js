/*
 * The two languages of the pages. t(key, params) gives the text of key
 * in the current language, with {name} placeholders filled from params.
 * The language is the one chosen with the switch (kept in localStorage
 * "lms.lang"), else the user's profile language, else the browser's
 * first of German and English, else the academy's default.
 */

import de from './i18n/de.js';
import en from './i18n/en.js';

const TABLES = { de, en };
const STORE_KEY = 'lms.lang';

let current = 'en';

export function lang() {
	return current;
}

export function t(key, params) {
	let s = TABLES[current][key] ?? TABLES.en[key] ?? key;

	if (params)
		s = s.replace(/\{(\w+)\}/g, (m, k) => (k in params ?
						       String(params[k]) : m));
	return s;
}

function supported(l) {
	return l === 'de' || l === 'en' ? l : null;
}

function stored() {
	try {
		return supported(localStorage.getItem(STORE_KEY));
	} catch {
		return null;
	}
}

function browser() {
	for (const l of navigator.languages ?? [navigator.language]) {
		const s = supported(String(l).slice(0, 2).toLowerCase());
		if (s)
			return s;
	}
	return null;
}

/* Works out the language from what is known now; userLang and
 * brandDefault may be null. */
export function chooseLanguage(userLang, brandDefault) {
	current = stored() ?? supported(userLang) ?? browser() ??
		  supported(brandDefault) ?? 'en';
	document.documentElement.lang = current;
	return current;
}

/* Switches to l and remembers the choice. */
export function setLanguage(l) {
	current = supported(l) ?? 'en';
	try {
		localStorage.setItem(STORE_KEY, current);
	} catch {
		/* not remembered, still switched */
	}
	document.documentElement.lang = current;
}

/* The other language: its code and its name in itself. */
export function otherLanguage() {
	return current === 'de' ? { code: 'en', name: 'English' } :
		{ code: 'de', name: 'Deutsch' };
}
