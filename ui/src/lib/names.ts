// Names of pipelines, versions, experiments and runs by id, fetched once per id and
// shared by every page (a module-level cache), so a table of runs asks for each
// pipeline once instead of listing hundreds of them. A failed lookup keeps its
// error so the page can say why a name is missing instead of hiding it.
import { useEffect, useSyncExternalStore } from 'react';
import { api } from '../api/client';

export type NameKind = 'pipeline' | 'version' | 'experiment' | 'run';

export interface NameEntry {
  name?: string;
  error?: string;
}

const entries = new Map<string, NameEntry>();
const listeners = new Set<() => void>();
let generation = 0;

function key(kind: NameKind, id: string, pipelineId?: string): string {
  return kind === 'version' ? `version:${pipelineId ?? ''}/${id}` : `${kind}:${id}`;
}

function notify(): void {
  generation += 1;
  for (const l of listeners) l();
}

async function fetchName(kind: NameKind, id: string, pipelineId?: string): Promise<string> {
  if (kind === 'pipeline') {
    const p = await api.getPipeline(id);
    return p.display_name || p.name || id;
  }
  if (kind === 'experiment') {
    const x = await api.getExperiment(id);
    return x.display_name || id;
  }
  if (kind === 'run') {
    const r = await api.getRun(id);
    return r.display_name || id;
  }
  if (!pipelineId) throw new Error(`version ${id} has no pipeline id`);
  const v = await api.getVersion(pipelineId, id);
  return v.display_name || v.name || id;
}

/** Start fetching a name unless it is known or on its way. */
export function requestName(kind: NameKind, id: string, pipelineId?: string): void {
  const k = key(kind, id, pipelineId);
  if (entries.has(k)) return;
  entries.set(k, {});
  fetchName(kind, id, pipelineId).then(
    (name) => entries.set(k, { name }),
    (e: unknown) => entries.set(k, { error: e instanceof Error ? e.message : String(e) }),
  ).finally(notify);
}

/** Record names a page already has (a list it fetched, an object it created). */
export function rememberName(kind: NameKind, id: string, name: string, pipelineId?: string): void {
  entries.set(key(kind, id, pipelineId), { name });
  notify();
}

/** Forget everything (tests; after a rename). */
export function forgetNames(): void {
  entries.clear();
  notify();
}

function subscribe(l: () => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

/** The name of one pipeline, version or experiment; fetched once per id for the whole app. */
export function useName(kind: NameKind, id: string | undefined, pipelineId?: string): NameEntry {
  useSyncExternalStore(subscribe, () => generation);
  useEffect(() => {
    if (id) requestName(kind, id, pipelineId);
  }, [kind, id, pipelineId]);
  return id ? (entries.get(key(kind, id, pipelineId)) ?? {}) : {};
}
