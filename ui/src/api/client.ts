import type {
  Artifact,
  ArtifactWithLineage,
  Experiment,
  ListPage,
  Pipeline,
  PipelineVersion,
  RecurringRun,
  Run,
  Task,
} from './types';
import { WINDOW_ITERATIONS, type LoopCounts, type TaskWindow } from '../lib/taskWindow';

const V2 = '/apis/v2beta1';
const PY = '/apis/pipeyard/v1';

/** An error answered by the server, with the message it gave in words. */
export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** Turns an error body (KFP's {error_message, message} or FastAPI's {detail}) into words. */
export function errorMessageFromBody(status: number, body: string): string {
  let text = body.trim();
  try {
    const j = JSON.parse(body) as Record<string, unknown>;
    const m = j.error_message ?? j.message ?? j.detail ?? j.error;
    if (typeof m === 'string' && m) text = m;
    else if (Array.isArray(m)) text = m.map((d) => (d as { msg?: string }).msg ?? JSON.stringify(d)).join('; ');
    else if (m) text = JSON.stringify(m);
  } catch {
    /* plain text body */
  }
  if (!text) text = `The server answered ${status} without a message.`;
  if (status >= 500) return `Server error (${status}): ${text}`;
  return text;
}

export async function request<T>(method: string, url: string, body?: unknown): Promise<T> {
  let resp: Response;
  try {
    resp = await fetch(url, {
      method,
      // X-Requested-By: the server refuses a browser's state-changing request without it
      // (or a JSON body), which a page on another origin cannot send (see server/edge.py).
      headers:
        body !== undefined && !(body instanceof FormData)
          ? { 'Content-Type': 'application/json', 'X-Requested-By': 'pipeyard-ui' }
          : { 'X-Requested-By': 'pipeyard-ui' },
      body: body === undefined ? undefined : body instanceof FormData ? body : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, `Cannot reach the pipeyard server (${(e as Error).message}). Is it running?`);
  }
  const text = await resp.text();
  if (!resp.ok) throw new ApiError(resp.status, errorMessageFromBody(resp.status, text));
  if (!text) return {} as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    return text as unknown as T;
  }
}

export function qs(params: Record<string, string | number | boolean | undefined | null>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    u.set(k, String(v));
  }
  const s = u.toString();
  return s ? `?${s}` : '';
}

export interface ListOptions {
  page_size?: number;
  page_token?: string;
  sort_by?: string;
  filter?: string;
}

type Raw = Record<string, unknown>;
function page<T>(raw: Raw, ...keys: string[]): ListPage<T> {
  const key = keys.find((k) => Array.isArray(raw[k]));
  return {
    items: key ? (raw[key] as T[]) : [],
    next_page_token: (raw.next_page_token as string | undefined) || undefined,
    total_size: raw.total_size as number | undefined,
  };
}

export const api = {
  // Pipelines
  async listPipelines(o: ListOptions = {}): Promise<ListPage<Pipeline>> {
    return page(await request<Raw>('GET', `${V2}/pipelines${qs({ ...o })}`), 'pipelines');
  },
  getPipeline: (id: string) => request<Pipeline>('GET', `${V2}/pipelines/${encodeURIComponent(id)}`),
  getPipelineByName: (name: string) => request<Pipeline>('GET', `${V2}/pipelines/names/${encodeURIComponent(name)}`),
  deletePipeline: (id: string) => request<unknown>('DELETE', `${V2}/pipelines/${encodeURIComponent(id)}`),
  async listVersions(pipelineId: string, o: ListOptions = {}): Promise<ListPage<PipelineVersion>> {
    return page(
      await request<Raw>('GET', `${V2}/pipelines/${encodeURIComponent(pipelineId)}/versions${qs({ ...o })}`),
      'pipeline_versions',
    );
  },
  getVersion: (pipelineId: string, versionId: string) =>
    request<PipelineVersion>(
      'GET',
      `${V2}/pipelines/${encodeURIComponent(pipelineId)}/versions/${encodeURIComponent(versionId)}`,
    ),
  /** KFP 2.15+ UpdatePipeline: tags given replace all tags ({} clears them). */
  updatePipeline: (id: string, changes: { display_name?: string; tags?: Record<string, string> }) =>
    request<Pipeline>('PATCH', `${V2}/pipelines/${encodeURIComponent(id)}`, { pipeline_id: id, ...changes }),
  updateVersion: (pipelineId: string, versionId: string, changes: { display_name?: string; tags?: Record<string, string> }) =>
    request<PipelineVersion>(
      'PATCH',
      `${V2}/pipelines/${encodeURIComponent(pipelineId)}/versions/${encodeURIComponent(versionId)}`,
      { pipeline_id: pipelineId, pipeline_version_id: versionId, ...changes },
    ),
  uploadPipeline(file: File, name: string, description: string): Promise<Pipeline> {
    const fd = new FormData();
    fd.append('uploadfile', file, file.name);
    return request<Pipeline>(
      'POST',
      `${V2}/pipelines/upload${qs({ name, display_name: name, description })}`,
      fd,
    );
  },
  uploadVersion(pipelineId: string, file: File, name: string, description: string): Promise<PipelineVersion> {
    const fd = new FormData();
    fd.append('uploadfile', file, file.name);
    return request<PipelineVersion>(
      'POST',
      `${V2}/pipelines/upload_version${qs({ pipelineid: pipelineId, name, display_name: name, description })}`,
      fd,
    );
  },

  // Experiments
  async listExperiments(o: ListOptions = {}): Promise<ListPage<Experiment>> {
    return page(await request<Raw>('GET', `${V2}/experiments${qs({ ...o })}`), 'experiments');
  },
  getExperiment: (id: string) => request<Experiment>('GET', `${V2}/experiments/${encodeURIComponent(id)}`),
  createExperiment: (display_name: string, description: string) =>
    request<Experiment>('POST', `${V2}/experiments`, { display_name, description }),
  archiveExperiment: (id: string) => request<unknown>('POST', `${V2}/experiments/${encodeURIComponent(id)}:archive`),
  unarchiveExperiment: (id: string) =>
    request<unknown>('POST', `${V2}/experiments/${encodeURIComponent(id)}:unarchive`),

  // Runs
  async listRuns(o: ListOptions & { experiment_id?: string } = {}): Promise<ListPage<Run>> {
    return page(await request<Raw>('GET', `${V2}/runs${qs({ ...o })}`), 'runs');
  },
  /** taskPageSize: the run without its task details beyond that many (the run page lists tasks itself) */
  getRun: (id: string, taskPageSize?: number) =>
    request<Run>('GET', `${V2}/runs/${encodeURIComponent(id)}${qs({ task_page_size: taskPageSize })}`),
  createRun: (run: Partial<Run>) => request<Run>('POST', `${V2}/runs`, run),
  terminateRun: (id: string) => request<unknown>('POST', `${V2}/runs/${encodeURIComponent(id)}:terminate`),
  retryRun: (id: string) => request<unknown>('POST', `${V2}/runs/${encodeURIComponent(id)}:retry`),
  resumeTask: (runId: string, taskId: string) =>
    request<unknown>('POST', `${V2}/runs/${encodeURIComponent(runId)}/tasks/${encodeURIComponent(taskId)}:resume`),
  archiveRun: (id: string) => request<unknown>('POST', `${V2}/runs/${encodeURIComponent(id)}:archive`),
  unarchiveRun: (id: string) => request<unknown>('POST', `${V2}/runs/${encodeURIComponent(id)}:unarchive`),
  deleteRun: (id: string) => request<unknown>('DELETE', `${V2}/runs/${encodeURIComponent(id)}`),

  // Recurring runs
  async listRecurringRuns(o: ListOptions & { experiment_id?: string } = {}): Promise<ListPage<RecurringRun>> {
    return page(await request<Raw>('GET', `${V2}/recurringruns${qs({ ...o })}`), 'recurringRuns', 'recurring_runs');
  },
  getRecurringRun: (id: string) => request<RecurringRun>('GET', `${V2}/recurringruns/${encodeURIComponent(id)}`),
  createRecurringRun: (rr: Partial<RecurringRun>) => request<RecurringRun>('POST', `${V2}/recurringruns`, rr),
  enableRecurringRun: (id: string) =>
    request<unknown>('POST', `${V2}/recurringruns/${encodeURIComponent(id)}:enable`),
  disableRecurringRun: (id: string) =>
    request<unknown>('POST', `${V2}/recurringruns/${encodeURIComponent(id)}:disable`),
  deleteRecurringRun: (id: string) =>
    request<unknown>('DELETE', `${V2}/recurringruns/${encodeURIComponent(id)}`),

  // pipeyard extensions
  async runTasks(runId: string): Promise<Task[]> {
    const r = await request<{ tasks?: Task[] }>('GET', `${PY}/runs/${encodeURIComponent(runId)}/tasks`);
    return r.tasks ?? [];
  },
  /** a page of each loop's iterations and every loop's counts (lib/taskWindow.ts) */
  async runTaskWindow(runId: string, w: TaskWindow, size = WINDOW_ITERATIONS): Promise<{ tasks: Task[]; loops: LoopCounts[] }> {
    const q = qs({ iteration_page_size: size, loop: w.loop, iteration_offset: w.offset || undefined });
    const r = await request<{ tasks?: Task[]; loops?: LoopCounts[] | null }>('GET', `${PY}/runs/${encodeURIComponent(runId)}/tasks${q}`);
    return { tasks: r.tasks ?? [], loops: r.loops ?? [] };
  },
  /** link a run from a package to the version its spec was saved as (server/routers/run_links.py) */
  linkRunVersion: (runId: string, versionId: string) =>
    request<Run>('POST', `${PY}/runs/${encodeURIComponent(runId)}:link-version`, { pipeline_version_id: versionId }),
  runSpec: (runId: string) =>
    request<{ pipeline_spec: Record<string, unknown>; platform_spec?: Record<string, unknown> | null }>(
      'GET',
      `${PY}/runs/${encodeURIComponent(runId)}/spec`,
    ),
  async taskLog(
    runId: string,
    taskId: string,
    offset = 0,
    attempt?: number,
  ): Promise<{ text: string; size: number }> {
    const url = `${PY}/runs/${encodeURIComponent(runId)}/tasks/${encodeURIComponent(taskId)}/log${qs({ offset, attempt })}`;
    let resp: Response;
    try {
      resp = await fetch(url);
    } catch (e) {
      throw new ApiError(0, `Cannot reach the pipeyard server (${(e as Error).message}).`);
    }
    const buf = new Uint8Array(await resp.arrayBuffer());
    if (!resp.ok) throw new ApiError(resp.status, errorMessageFromBody(resp.status, new TextDecoder().decode(buf)));
    const header = resp.headers.get('X-Log-Size');
    const size = header !== null && header !== '' ? Number(header) : offset + buf.byteLength;
    return { text: new TextDecoder().decode(buf), size };
  },
  async listArtifacts(
    o: { run_id?: string; type?: string; page_size?: number; page_token?: string } = {},
  ): Promise<ListPage<Artifact>> {
    return page(await request<Raw>('GET', `${PY}/artifacts${qs({ ...o })}`), 'artifacts');
  },
  getArtifact: (id: string) => request<ArtifactWithLineage>('GET', `${PY}/artifacts/${encodeURIComponent(id)}`),
  artifactContentUrl: (id: string, opts: { download?: boolean; max_bytes?: number } = {}) =>
    `${PY}/artifacts/${encodeURIComponent(id)}/content${qs({ download: opts.download ? 1 : undefined, max_bytes: opts.max_bytes })}`,
  async artifactText(id: string, maxBytes = 65536): Promise<{ text: string; contentType: string }> {
    let resp: Response;
    try {
      resp = await fetch(api.artifactContentUrl(id, { max_bytes: maxBytes }));
    } catch (e) {
      throw new ApiError(0, `Cannot reach the pipeyard server (${(e as Error).message}).`);
    }
    const text = await resp.text();
    if (!resp.ok) throw new ApiError(resp.status, errorMessageFromBody(resp.status, text));
    return { text, contentType: resp.headers.get('Content-Type') ?? '' };
  },
  info: () => request<{ version?: string; database?: string; pipeline_root?: string }>('GET', `${PY}/info`),
  eventsUrl: (runId?: string) => `${PY}/events${qs({ run_id: runId })}`,
};
