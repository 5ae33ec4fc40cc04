/*
 * Talking to the workspace's JSON API: api() sends a request with the
 * session cookie (and the CSRF token on writes) and resolves to the
 * parsed answer, or throws an ApiError with the status and the server's
 * message. The signed-in user and the CSRF token live in `session`,
 * loaded from GET /api/v1/session at start; sessionStorage keeps a copy
 * of what the login answered for workspaces that lack that route.
 */

const STORE_KEY = 'lms.session';

export class ApiError extends Error {
	constructor(status, code, message, response) {
		super(message);
		this.status = status;
		this.code = code;
		this.response = response;
	}
}

/* The signed-in user ({id, email, name, role, language}) and the CSRF
 * token, or nulls. */
export const session = { user: null, csrf: null };

/* Called with the error when a request finds the session gone. */
let onUnauthorized = null;

export function setUnauthorizedHandler(fn) {
	onUnauthorized = fn;
}

export function setSession(user, csrf) {
	session.user = user;
	session.csrf = csrf ?? session.csrf;
	try {
		if (user)
			sessionStorage.setItem(STORE_KEY, JSON.stringify(
				{ user, csrf_token: session.csrf }));
		else
			sessionStorage.removeItem(STORE_KEY);
	} catch {
		/* storage may be off: the session works without the copy */
	}
}

export function clearSession() {
	session.user = null;
	session.csrf = null;
	setSession(null);
}

/*
 * Sends a request. body: an object (sent as JSON), a Blob/File/string
 * (sent as it is, with options.type as Content-Type), or undefined.
 * options: type, quiet401 (do not call the unauthorized handler).
 * Resolves to the parsed JSON (null for an empty answer).
 */
export async function api(method, path, body, options = {}) {
	const headers = { Accept: 'application/json' };
	let payload;

	if (body !== undefined && body !== null &&
	    (typeof body === 'string' || body instanceof Blob)) {
		payload = body;
		headers['Content-Type'] = options.type ??
			'application/octet-stream';
	} else if (body !== undefined) {
		payload = JSON.stringify(body);
		headers['Content-Type'] = 'application/json';
	}
	if (method !== 'GET' && method !== 'HEAD' && session.csrf)
		headers['X-CSRF-Token'] = session.csrf;

	let res;
	try {
		res = await fetch(path, { method, headers, body: payload,
					  credentials: 'same-origin' });
	} catch (e) {
		throw new ApiError(0, 'network', e.message);
	}
	const text = await res.text();
	let json = null;
	try {
		json = text ? JSON.parse(text) : null;
	} catch {
		json = null;
	}
	if (!res.ok) {
		const err = new ApiError(res.status,
					 json?.error?.code ?? 'http',
					 json?.error?.message ??
					 `HTTP ${res.status}`, res);
		err.json = json;
		if (res.status === 401 && !options.quiet401 && onUnauthorized)
			onUnauthorized(err);
		throw err;
	}
	return json;
}

/*
 * Finds out who is signed in: GET /api/v1/session, or, where that route
 * is missing (404), the copy kept since the login. Resolves to the user
 * or null.
 */
export async function loadSession() {
	try {
		const s = await api('GET', '/api/v1/session', undefined,
				    { quiet401: true });
		setSession(s.user, s.csrf_token);
		return s.user;
	} catch (e) {
		if (e.status === 401) {
			clearSession();
			return null;
		}
		if (e.status !== 404 && e.status !== 405)
			throw e;
	}
	try {
		const kept = JSON.parse(sessionStorage.getItem(STORE_KEY));
		if (kept?.user) {
			session.user = kept.user;
			session.csrf = kept.csrf_token;
			return kept.user;
		}
	} catch {
		/* nothing kept */
	}
	return null;
}

/* Signs in; resolves to the user or throws the ApiError (401, 429). */
export async function login(email, password) {
	const s = await api('POST', '/api/v1/session', { email, password },
			    { quiet401: true });
	setSession(s.user, s.csrf_token);
	return s.user;
}

export async function logout() {
	try {
		await api('DELETE', '/api/v1/session', undefined,
			  { quiet401: true });
	} finally {
		clearSession();
	}
}
