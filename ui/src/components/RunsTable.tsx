import { useEffect, useState } from 'react';
import { api } from '../api/client';
import type { Run } from '../api/types';
import { buildRunFilter } from '../lib/filter';
import { durationBetween, formatDate, formatDuration, isFinished } from '../lib/format';
import { useNow } from '../lib/hooks';
import { usePagedList } from '../lib/paging';
import { Link, navigate } from '../router';
import { EmptyState, ErrorBox, StatusBadge } from './common';
import { ListTable, type Column } from './ListTable';
import { NameLink } from './NameLink';

const STATES = ['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'SKIPPED', 'CANCELING', 'CANCELED'];

function useDebounced<T>(v: T, ms: number): T {
  const [d, setD] = useState(v);
  useEffect(() => {
    const id = setTimeout(() => setD(v), ms);
    return () => clearTimeout(id);
  }, [v, ms]);
  return d;
}

/** The pipeline a run ran: the stored pipeline, else the name in the spec it was given. */
export function RunPipelineCell({ r }: { r: Run }) {
  const pid = r.pipeline_version_reference?.pipeline_id;
  if (pid) return <NameLink kind="pipeline" id={pid} />;
  if (r.pipeline_name) {
    return (
      <span title="Run from a pipeline package; not a stored pipeline">
        {r.pipeline_name} <span className="tag">package</span>
      </span>
    );
  }
  return <span className="muted">—</span>;
}

export function RunVersionCell({ r }: { r: Run }) {
  const ref = r.pipeline_version_reference;
  if (ref?.pipeline_id && ref.pipeline_version_id) return <NameLink kind="version" id={ref.pipeline_version_id} pipelineId={ref.pipeline_id} />;
  return <span className="muted">—</span>;
}

export function RunsTable({ experimentId, showExperiment = true }: { experimentId?: string; showExperiment?: boolean }) {
  const [nameInput, setNameInput] = useState('');
  const name = useDebounced(nameInput, 300);
  const [state, setState] = useState('');
  const [archived, setArchived] = useState(false);
  const [sort, setSort] = useState<{ key: string; desc: boolean }>({ key: 'created_at', desc: true });
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [actionError, setActionError] = useState<string>();
  const filter = buildRunFilter({ name, states: state ? [state] : [], archived });
  const sortBy = `${sort.key}${sort.desc ? ' desc' : ''}`;
  const paged = usePagedList((p) => api.listRuns({ ...p, sort_by: sortBy, filter, experiment_id: experimentId }), [sortBy, filter, experimentId]);
  const { list, items: runs } = paged;
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
  const sortOn = (key: string) => ({
    active: sort.key === key,
    desc: sort.desc,
    onClick: () => setSort((s) => ({ key, desc: s.key === key ? !s.desc : key === 'created_at' })),
  });

  const columns: Column<Run>[] = [
    {
      id: 'check',
      className: 'check',
      label: (
        <input
          type="checkbox"
          aria-label="Select all runs on this page"
          checked={runs.length > 0 && runs.every((r) => selected.has(r.run_id))}
          onChange={(e) => setSelected(e.target.checked ? new Set(runs.map((r) => r.run_id)) : new Set())}
        />
      ),
      cell: (r) => <input type="checkbox" checked={selected.has(r.run_id)} onChange={() => toggle(r.run_id)} aria-label={`Select ${r.display_name}`} />,
    },
    {
      id: 'name',
      label: 'Run name',
      sort: sortOn('display_name'),
      cell: (r) => (
        <>
          <Link to={`/runs/${r.run_id}`}>
            <strong>{r.display_name || r.run_id}</strong>
          </Link>
          {r.recurring_run_id && (
            <div className="cell-sub">
              <Link to={`/recurring/${r.recurring_run_id}`}>recurring run</Link>
            </div>
          )}
        </>
      ),
    },
    { id: 'status', label: 'Status', cell: (r) => <StatusBadge state={r.state} /> },
    { id: 'duration', label: 'Duration', className: 'nowrap', cell: (r) => formatDuration(durationBetween(r.created_at, isFinished(r.state) ? r.finished_at : undefined, now)) },
    { id: 'pipeline', label: 'Pipeline', cell: (r) => <RunPipelineCell r={r} /> },
    { id: 'version', label: 'Pipeline version', cell: (r) => <RunVersionCell r={r} /> },
    ...(showExperiment
      ? [{ id: 'experiment', label: 'Experiment', cell: (r: Run) => (r.experiment_id ? <NameLink kind="experiment" id={r.experiment_id} /> : <span className="muted">—</span>) }]
      : []),
    { id: 'created', label: 'Start time', className: 'nowrap', sort: sortOn('created_at'), cell: (r) => formatDate(r.created_at) },
  ];

  return (
    <>
      <ErrorBox error={list.error} title="Could not load runs" onRetry={list.reload} />
      <ErrorBox error={actionError} title="The action failed" />
      <div className="card flush">
        <div className="toolbar">
          <div className="tabs inline">
            <button className={!archived ? 'tab active' : 'tab'} onClick={() => setArchived(false)}>
              Active
            </button>
            <button className={archived ? 'tab active' : 'tab'} onClick={() => setArchived(true)}>
              Archived
            </button>
          </div>
          <input type="search" className="filter-input" placeholder="Filter by run name" value={nameInput} onChange={(e) => setNameInput(e.target.value)} aria-label="Filter by run name" />
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
        <ListTable
          paged={paged}
          columns={columns}
          rowKey={(r) => r.run_id}
          rowClass={(r) => (selected.has(r.run_id) ? 'selected' : undefined)}
          rowAttrs={(r) => ({ 'data-run-id': r.run_id })}
          what="runs"
          testId="runs-table"
          empty={
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
          }
        />
      </div>
    </>
  );
}
