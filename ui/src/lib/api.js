// The one way the UI talks to the server. Every failure becomes an ApiError carrying the
// server's machine-readable code and its message, and (unless the caller asks for quiet)
// is shown in the error banner.
import { pushError } from './errors.svelte.js';

const TOKEN_KEY = 'lw_token';

// In production the server stores the launch secret in an HttpOnly cookie. The Vite dev server
// serves the page itself, so there the secret from ?token= is kept for this tab and sent as a header.
export function captureToken() {
  const url = new URL(window.location.href);
  const token = url.searchParams.get('token');
  if (token) {
    sessionStorage.setItem(TOKEN_KEY, token);
    url.searchParams.delete('token');
    history.replaceState(null, '', url.pathname + url.search + url.hash);
  }
}

export function tokenHeader() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { 'X-Workbench-Token': token } : {};
}

export function withToken(url) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) return url;
  return url + (url.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(token);
}

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
}

async function request(method, path, body, { quiet = false, signal } = {}) {
  const headers = { ...tokenHeader() };
  let payload;
  if (body instanceof FormData) {
    payload = body;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(path, { method, headers, body: payload, credentials: 'same-origin', signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    const err = new ApiError(0, 'network_error', e.message || 'Network error');
    if (!quiet) pushError(err);
    throw err;
  }
  const text = await resp.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!resp.ok) {
    const e = data && data.error ? data.error : {};
    const err = new ApiError(resp.status, e.code || `http_${resp.status}`, e.message || resp.statusText, e.details);
    if (!quiet) pushError(err);
    throw err;
  }
  return data;
}

export const api = {
  get: (path, opts) => request('GET', path, undefined, opts),
  post: (path, body, opts) => request('POST', path, body ?? {}, opts),
  patch: (path, body, opts) => request('PATCH', path, body, opts),
  put: (path, body, opts) => request('PUT', path, body, opts),
  del: (path, body, opts) => request('DELETE', path, body, opts),
};
