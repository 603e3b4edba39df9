import { useEffect, useState } from 'react';
import { api } from '../api/client';
import type { Run } from '../api/types';
import { buildRunFilter } from '../lib/filter';
import { durationBetween, formatDate, formatDuration, isFinished } from '../lib/format';
import { useAsync, useNow } from '../lib/hooks';
import { Link, navigate } from '../router';
import { EmptyState, ErrorBox, Loading, Pager, StatusBadge } from './common';

const STATES = ['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'SKIPPED', 'CANCELING', 'CANCELED'];

/** Names of pipelines and experiments: two list requests, never one per run. */
export function useNames() {
  const r = useAsync(async () => {
    const [ps, xs] = await Promise.all([
      api.listPipelines({ page_size: 500 }).catch(() => ({ items: [] })),
      api.listExperiments({ page_size: 500 }).catch(() => ({ items: [] })),
    ]);
    return {
      pipelines: new Map(ps.items.map((p) => [p.pipeline_id, p.display_name || p.name || p.pipeline_id])),
      experiments: new Map(xs.items.map((x) => [x.experiment_id, x.display_name || x.experiment_id])),
    };
  }, []);
  return r.data ?? { pipelines: new Map<string, string>(), experiments: new Map<string, string>() };
}

function useDebounced<T>(v: T, ms: number): T {
  const [d, setD] = useState(v);
  useEffect(() => {
    const id = setTimeout(() => setD(v), ms);
    return () => clearTimeout(id);
  }, [v, ms]);
  return d;
}

export function RunsTable({ experimentId, showExperiment = true }: { experimentId?: string; showExperiment?: boolean }) {
  const [pageSize, setPageSize] = useState(20);
  const [tokens, setTokens] = useState<string[]>(['']);
  const [nameInput, setNameInput] = useState('');
  const name = useDebounced(nameInput, 300);
  const [state, setState] = useState('');
  const [archived, setArchived] = useState(false);
  const [sort, setSort] = useState<{ key: string; desc: boolean }>({ key: 'created_at', desc: true });
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [actionError, setActionError] = useState<string>();
  const names = useNames();
  const token = tokens[tokens.length - 1];
  const filter = buildRunFilter({ name, states: state ? [state] : [], archived });
  const list = useAsync(
    () => api.listRuns({ page_size: pageSize, page_token: token || undefined, sort_by: `${sort.key}${sort.desc ? ' desc' : ''}`, filter, experiment_id: experimentId }),
    [pageSize, token, filter, sort.key, sort.desc, experimentId],
  );
  useEffect(() => setTokens(['']), [name, state, archived, sort.key, sort.desc, pageSize]);
  const runs = list.data?.items ?? [];
  const anyActive = runs.some((r) => !isFinished(r.state));
  const now = useNow(anyActive);
  // refresh the page while runs on it are still going (one list request)
  useEffect(() => {
    if (!anyActive) return;
    const id = setInterval(list.reload, 3000);
    return () => clearInterval(id);
  }, [anyActive, list.reload]);

  const toggle = (id: string) =>
    setSelected((s) => {
      const n = new Set(s);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });
  const act = async (fn: (id: string) => Promise<unknown>) => {
    setActionError(undefined);
    try {
      for (const id of selected) await fn(id);
      setSelected(new Set());
    } catch (e) {
      setActionError((e as Error).message);
    }
    list.reload();
  };
  const sortHead = (key: string, label: string) => (
    <th className="sortable" onClick={() => setSort((s) => ({ key, desc: s.key === key ? !s.desc : key === 'created_at' }))}>
      {label} {sort.key === key ? (sort.desc ? '↓' : '↑') : ''}
    </th>
  );

  return (
    <>
      <ErrorBox error={list.error} title="Could not load runs" onRetry={list.reload} />
      <ErrorBox error={actionError} title="The action failed" />
      <div className="card flush">
        <div className="toolbar">
          <div className="tabs" style={{ margin: 0, border: 'none' }}>
            <button className={!archived ? 'tab active' : 'tab'} onClick={() => setArchived(false)}>
              Active
            </button>
            <button className={archived ? 'tab active' : 'tab'} onClick={() => setArchived(true)}>
              Archived
            </button>
          </div>
          <input type="search" placeholder="Filter by run name" value={nameInput} onChange={(e) => setNameInput(e.target.value)} style={{ width: 240 }} aria-label="Filter by run name" />
          <select value={state} onChange={(e) => setState(e.target.value)} aria-label="Filter by status">
            <option value="">All statuses</option>
            {STATES.map((s) => (
              <option key={s} value={s}>
                {s.charAt(0) + s.slice(1).toLowerCase()}
              </option>
            ))}
          </select>
          <span className="spacer" />
          <button className="btn" disabled={selected.size < 2} onClick={() => navigate(`/compare?runs=${[...selected].join(',')}`)} data-testid="compare-runs">
            Compare{selected.size ? ` (${selected.size})` : ''}
          </button>
          {archived ? (
            <button className="btn" disabled={!selected.size} onClick={() => act(api.unarchiveRun)}>
              Restore
            </button>
          ) : (
            <button className="btn" disabled={!selected.size} onClick={() => act(api.archiveRun)}>
              Archive
            </button>
          )}
        </div>
        {list.loading && !list.data ? (
          <Loading what="runs" />
        ) : runs.length === 0 ? (
          name || state ? (
            <EmptyState title="No run matches these filters">Clear the name or status filter to see all runs.</EmptyState>
          ) : archived ? (
            <EmptyState title="No archived runs">Runs you archive are kept here and can be restored.</EmptyState>
          ) : (
            <EmptyState
              title="No runs yet"
              action={
                <Link className="btn primary" to={`/runs/new${experimentId ? `?experiment=${experimentId}` : ''}`}>
                  Start a run
                </Link>
              }
            >
              Start a run from one of your pipelines, or submit one with <code>kfp.Client(host=…).create_run_from_pipeline_package()</code>.
            </EmptyState>
          )
        ) : (
          <table className="list" data-testid="runs-table">
            <thead>
              <tr>
                <th className="check">
                  <input
                    type="checkbox"
                    aria-label="Select all runs on this page"
                    checked={runs.length > 0 && runs.every((r) => selected.has(r.run_id))}
                    onChange={(e) => setSelected(e.target.checked ? new Set(runs.map((r) => r.run_id)) : new Set())}
                  />
                </th>
                {sortHead('display_name', 'Run name')}
                <th>Status</th>
                <th>Duration</th>
                <th>Pipeline</th>
                {showExperiment && <th>Experiment</th>}
                {sortHead('created_at', 'Start time')}
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => (
                <RunRow key={r.run_id} r={r} now={now} selected={selected.has(r.run_id)} onToggle={() => toggle(r.run_id)} names={names} showExperiment={showExperiment} />
              ))}
            </tbody>
          </table>
        )}
        <Pager
          page={tokens.length - 1}
          hasPrev={tokens.length > 1}
          hasNext={!!list.data?.next_page_token}
          onPrev={() => setTokens((t) => t.slice(0, -1))}
          onNext={() => setTokens((t) => [...t, list.data!.next_page_token!])}
          pageSize={pageSize}
          onPageSize={setPageSize}
          total={list.data?.total_size}
        />
      </div>
    </>
  );
}

function RunRow({ r, now, selected, onToggle, names, showExperiment }: { r: Run; now: number; selected: boolean; onToggle: () => void; names: ReturnType<typeof useNames>; showExperiment: boolean }) {
  const pid = r.pipeline_version_reference?.pipeline_id;
  const dur = durationBetween(r.created_at, isFinished(r.state) ? r.finished_at : undefined, now);
  return (
    <tr className={selected ? 'selected' : ''} data-run-id={r.run_id}>
      <td className="check">
        <input type="checkbox" checked={selected} onChange={onToggle} aria-label={`Select ${r.display_name}`} />
      </td>
      <td>
        <Link to={`/runs/${r.run_id}`}>
          <strong>{r.display_name || r.run_id}</strong>
        </Link>
        {r.recurring_run_id && (
          <div className="cell-sub">
            <Link to={`/recurring/${r.recurring_run_id}`}>recurring run</Link>
          </div>
        )}
      </td>
      <td>
        <StatusBadge state={r.state} />
      </td>
      <td className="nowrap">{formatDuration(dur)}</td>
      <td>{pid ? <Link to={`/pipelines/${pid}`}>{names.pipelines.get(pid) ?? pid.slice(0, 8)}</Link> : <span className="muted">—</span>}</td>
      {showExperiment && (
        <td>{r.experiment_id ? <Link to={`/experiments/${r.experiment_id}`}>{names.experiments.get(r.experiment_id) ?? r.experiment_id.slice(0, 8)}</Link> : <span className="muted">—</span>}</td>
      )}
      <td className="nowrap">{formatDate(r.created_at)}</td>
    </tr>
  );
}
