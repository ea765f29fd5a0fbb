// The one place the UI talks to the server. Every call goes to /api/v1 on this origin
// with the session cookie (HttpOnly: script never sees it) and, for state-changing
// methods, the session's CSRF token, which lives only in this module's memory.

let csrfToken = '';
let onUnauthenticated = () => {};
let lastCallAt = 0;

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function setCsrfToken(token) { csrfToken = token || ''; }
export function setUnauthenticatedHandler(fn) { onUnauthenticated = fn; }
// When the server last heard from this page; the idle lock pings the session when it
// has been quiet a while, so that reading a long form does not end the session.
export function lastApiCallAt() { return lastCallAt; }

// Calls the API; resolves to the parsed JSON (or null for 204), rejects with ApiError.
export async function api(method, path, body, { headers = {}, quiet401 = false } = {}) {
  const init = { method, headers: { ...headers }, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (method !== 'GET' && method !== 'HEAD') init.headers['X-CSRF-Token'] = csrfToken;
  let response;
  try {
    response = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'network', 'The appliance did not answer. Check the connection and try again.');
  }
  lastCallAt = Date.now();
  if (response.status === 204) return null;
  const type = response.headers.get('Content-Type') || '';
  const data = type.startsWith('application/json') ? await response.json().catch(() => null) : null;
  if (!response.ok) {
    const code = data?.error?.code || 'http_' + response.status;
    const message = data?.error?.message || `The server answered ${response.status}.`;
    if (response.status === 401 && !quiet401) onUnauthenticated(message);
    throw new ApiError(response.status, code, message);
  }
  return data ?? (await response.text());
}

export const get = (path, opts) => api('GET', path, undefined, opts);
export const post = (path, body, opts) => api('POST', path, body ?? {}, opts);
export const patch = (path, body) => api('PATCH', path, body);
export const put = (path, body) => api('PUT', path, body);

// Builds a query string, leaving out empty values.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? '?' + s : '';
}
