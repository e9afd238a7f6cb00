// api.js — the one way the dashboard talks to the fwpcast HTTP API (same origin, JSON).
//
// Errors come back as ApiError, whose `message` is readable as it stands: the problem
// document's `detail` with its status (RFC 9457 `application/problem+json`, see docs/openapi.yaml).
// Writes carry `Authorization: Bearer <token>` once a token is known; the first 401 asks for it
// (a <dialog>), keeps it in sessionStorage for this tab, and retries the request once.

const TOKEN_KEY = 'fwpcast.token';

export class ApiError extends Error {
  constructor(status, title, detail, path) {
    super(status ? `${detail} (HTTP ${status} ${title})` : detail);
    this.name = 'ApiError';
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.path = path;
  }
}

export function getToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) || '';
  } catch {
    return '';
  }
}

export function setToken(token) {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    /* storage disabled: the token lives only as long as this call */
  }
  document.dispatchEvent(new CustomEvent('fwpcast:token', { detail: { set: !!token } }));
}

let pendingAsk = null;

/** Opens the token dialog (one at a time); resolves to the token entered, or '' if cancelled. */
export function askToken(reason) {
  if (pendingAsk) return pendingAsk;
  const dialog = document.getElementById('token-dialog');
  const input = document.getElementById('token-input');
  const why = document.getElementById('token-dialog-why');
  if (!dialog || typeof dialog.showModal !== 'function') return Promise.resolve('');
  if (reason && why) why.textContent = reason;
  if (window.fwpcast) window.fwpcast.tokenAsks = (window.fwpcast.tokenAsks || 0) + 1;
  input.value = getToken();
  pendingAsk = new Promise((resolve) => {
    dialog.addEventListener(
      'close',
      () => {
        pendingAsk = null;
        const action = dialog.returnValue;
        if (action === 'save' && input.value.trim()) {
          setToken(input.value.trim());
          resolve(input.value.trim());
        } else {
          if (action === 'clear') setToken('');
          resolve('');
        }
        input.value = '';
      },
      { once: true },
    );
  });
  dialog.returnValue = '';
  dialog.showModal();
  input.focus();
  return pendingAsk;
}

function problemFrom(status, statusText, body, text) {
  if (body && typeof body === 'object' && (body.detail || body.title)) {
    return { title: body.title || statusText, detail: String(body.detail || body.title) };
  }
  const plain = (text || '').trim();
  return { title: statusText || 'Error', detail: plain && plain.length < 300 ? plain : `the server answered ${status}` };
}

/**
 * request(method, path, body?) → { status, data, headers }
 * Throws ApiError for a network failure (status 0) or any non-2xx answer.
 */
export async function request(method, path, body, { signal, retried = false } = {}) {
  const headers = { Accept: 'application/json, application/problem+json' };
  const init = { method, headers, signal, cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const token = getToken();
  if (token && method !== 'GET' && method !== 'HEAD') headers.Authorization = `Bearer ${token}`;

  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'Network error', `could not reach the fwpcast server (${e && e.message ? e.message : e})`, path);
  }

  if (res.status === 401 && method !== 'GET' && !retried) {
    const reason = token
      ? 'The server refused the token kept in this tab. Enter the right token to go on.'
      : 'This server needs a token for changes (forecasts, training, cancelling). It is kept in this tab only (sessionStorage).';
    const entered = await askToken(reason);
    if (entered) return request(method, path, body, { signal, retried: true });
  }

  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const p = problemFrom(res.status, res.statusText, data, text);
    throw new ApiError(res.status, p.title, p.detail, path);
  }
  return { status: res.status, data, headers: res.headers };
}

export const api = {
  get: (path, opts) => request('GET', path, undefined, opts),
  post: (path, body, opts) => request('POST', path, body === undefined ? {} : body, opts),
  del: (path, opts) => request('DELETE', path, undefined, opts),
};

/** Human text for any error thrown by request() or by the page itself. */
export function errorText(e) {
  if (e instanceof ApiError) return e.message;
  return e && e.message ? e.message : String(e);
}
