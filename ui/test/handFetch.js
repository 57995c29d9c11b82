// The server's side of fetch, answered by hand: each request the code under test makes waits until the test
// answers it, so a test decides the order of answers (and of live events between them).
export const pending = []; // {url, method, body, answer(body, status)}

export function installFetch() {
  pending.length = 0;
  globalThis.fetch = (url, init = {}) => new Promise((resolve) => {
    pending.push({
      url, method: init.method || 'GET', body: init.body ? JSON.parse(init.body) : undefined,
      answer: (body, status = 200) => resolve(new Response(JSON.stringify(body), { status })),
    });
  });
}

export function removeFetch() {
  delete globalThis.fetch;
}

/** Let answered requests reach their callers. */
export const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

/** The oldest unanswered request for `path` (its query string aside). */
export function request(path) {
  const i = pending.findIndex((r) => r.url.split('?')[0] === path);
  if (i < 0) throw new Error(`no request for ${path}; pending: ${pending.map((r) => r.url).join(', ') || 'none'}`);
  return pending.splice(i, 1)[0];
}
