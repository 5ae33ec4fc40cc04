/*
 * The academy's branding on every page: its colours as CSS custom
 * properties, its name in the header and the window title, its logo and
 * its own style sheet. Loaded once at start and again after an admin
 * saves a change.
 */

import { api } from './api.js';

export const brand = {
	name: '',
	primary_color: '#1d4e89',
	accent_color: '#c2410c',
	logo_url: null,
	css_url: null,
	default_language: null,
};

/* Black or white, whichever reads better on the colour hex. */
function textOn(hex) {
	const n = parseInt(hex.slice(1), 16);
	const ch = [n >> 16, (n >> 8) & 255, n & 255].map((c) => {
		const s = c / 255;
		return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
	});
	const lum = 0.2126 * ch[0] + 0.7152 * ch[1] + 0.0722 * ch[2];

	return lum > 0.179 ? '#000000' : '#ffffff';
}

function validColor(c) {
	return typeof c === 'string' && /^#[0-9a-fA-F]{6}$/.test(c);
}

/* Applies what brand holds to the document. */
export function applyBrand() {
	const root = document.documentElement.style;
	const link = document.getElementById('custom-css');

	if (validColor(brand.primary_color)) {
		root.setProperty('--primary', brand.primary_color);
		root.setProperty('--on-primary', textOn(brand.primary_color));
	}
	if (validColor(brand.accent_color)) {
		root.setProperty('--accent', brand.accent_color);
		root.setProperty('--on-accent', textOn(brand.accent_color));
	}
	document.getElementById('icon')?.setAttribute('href',
		brand.logo_url ?? 'data:,');
	if (brand.css_url) {
		if (link.getAttribute('href') !== brand.css_url)
			link.setAttribute('href', brand.css_url);
	} else {
		link.removeAttribute('href');
	}
}

/* Reads the branding (keeping the defaults when it cannot be read) and
 * applies it; fallbackName is shown when the server gives no name. */
export async function loadBrand(fallbackName) {
	try {
		Object.assign(brand, await api('GET', '/api/v1/branding'));
	} catch {
		/* the pages work with the defaults */
	}
	if (!brand.name)
		brand.name = fallbackName || document.title;
	applyBrand();
	return brand;
}
