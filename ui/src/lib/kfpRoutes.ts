// KFP's own hash routes (frontend/src/components/Router.tsx upstream) mapped onto
// pipeyard's, so the links kfp.Client prints (`<host>/#/runs/details/<id>`,
// `#/pipelines/details/<id>/version/<vid>`, `#/experiments/details/<id>`) and
// bookmarks from a KFP install open the matching page.
import { match } from '../router';

export interface Target {
  path: string;
  query: URLSearchParams;
}

const SIMPLE: Record<string, string> = {
  '/recurringruns': '/recurring',
  '/archive/runs': '/runs',
  '/archive/experiments': '/experiments',
};

// KFP's new-run page takes camelCase ids in the query
const NEW_RUN_QUERY: Record<string, string> = {
  pipelineId: 'pipeline',
  pipelineVersionId: 'version',
  experimentId: 'experiment',
  cloneFromRun: 'clone',
};

const enc = encodeURIComponent;

/** pipeyard's route for one of KFP's, or null when `path` is not a KFP-only route. */
export function kfpAlias(path: string, query: URLSearchParams): Target | null {
  const same = (p: string, q: URLSearchParams = new URLSearchParams()) => ({ path: p, query: q });
  let m: Record<string, string> | null;
  if ((m = match('/runs/details/:id', path))) return same(`/runs/${enc(m.id)}`);
  if ((m = match('/runs/details/:id/execution/:eid', path))) return same(`/runs/${enc(m.id)}`);
  if ((m = match('/experiments/details/:id', path))) return same(`/experiments/${enc(m.id)}`);
  if ((m = match('/pipelines/details/:id', path))) return same(`/pipelines/${enc(m.id)}`);
  if ((m = match('/pipelines/details/:id/version/:vid', path))) return same(`/pipelines/${enc(m.id)}/versions/${enc(m.vid)}`);
  if ((m = match('/recurringrun/details/:id', path)) || (m = match('/recurringruns/details/:id', path))) return same(`/recurring/${enc(m.id)}`);
  if ((m = match('/artifacts/details/:id', path))) return same(`/artifacts/${enc(m.id)}`);
  if (SIMPLE[path]) return same(SIMPLE[path]);
  if (path === '/compare' && query.has('runlist') && !query.has('runs')) {
    return same('/compare', new URLSearchParams({ runs: query.get('runlist') ?? '' }));
  }
  if (path === '/runs/new' && Object.keys(NEW_RUN_QUERY).some((k) => query.has(k))) {
    const q = new URLSearchParams();
    for (const [k, v] of query) q.set(NEW_RUN_QUERY[k] ?? k, v);
    return same('/runs/new', q);
  }
  return null;
}

export function targetUrl(t: Target): string {
  const q = t.query.toString();
  return q ? `${t.path}?${q}` : t.path;
}
