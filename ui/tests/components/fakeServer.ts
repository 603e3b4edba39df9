// A stand-in for the server's REST answers in component tests (jsdom has no
// server): routes by method and path, records every request it was asked.
import { vi } from 'vitest';

export type Handler = (url: URL) => { status?: number; body: unknown };

export function fakeFetch(routes: Record<string, Handler>) {
  const calls: URL[] = [];
  const fn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input), 'http://pipeyard.test');
    calls.push(url);
    const method = (init?.method ?? 'GET').toUpperCase();
    const h = routes[`${method} ${url.pathname}`];
    if (!h) return new Response(JSON.stringify({ error_message: `no fake for ${method} ${url.pathname}` }), { status: 404 });
    const r = h(url);
    return new Response(JSON.stringify(r.body), { status: r.status ?? 200, headers: { 'Content-Type': 'application/json' } });
  });
  vi.stubGlobal('fetch', fn);
  return calls;
}
