import { useEffect, useMemo, useState } from 'react';
import { api } from '../api/client';
import type { ArtifactRef, Run, Task } from '../api/types';
import { ArtifactCard } from '../components/ArtifactView';
import { ErrorBox, KV, Loading, PageHeader, StateIcon, StatusBadge, Tabs } from '../components/common';
import { PipelineGraph } from '../components/Graph';
import { LogViewer } from '../components/LogViewer';
import { Timeline } from '../components/Timeline';
import { useNames } from '../components/RunsTable';
import { buildScopeGraph, indexTasks, visualState, type GNode } from '../lib/graph';
import { durationBetween, formatDate, formatDuration, isFinished, valueText } from '../lib/format';
import { useAsync, useNow } from '../lib/hooks';
import { useRunLive, type RunLive } from '../lib/live';
import { normalizeSpec } from '../lib/spec';
import { Link, navigate } from '../router';

type Tab = 'graph' | 'timeline' | 'details';

export function RunDetailPage({ runId, query }: { runId: string; query: URLSearchParams }) {
  const live = useRunLive(runId);
  const { run, tasks } = live;
  const specR = useAsync(() => api.runSpec(runId), [runId]);
  const spec = useMemo(() => normalizeSpec(specR.data?.pipeline_spec ?? run?.pipeline_spec), [specR.data, run?.pipeline_spec]);
  const [tab, setTab] = useState<Tab>('graph');
  const [scope, setScope] = useState('');
  const [selectedId, setSelectedId] = useState<string>();
  const [actionError, setActionError] = useState<string>();
  const [busy, setBusy] = useState<string>();
  const names = useNames();
  const finished = isFinished(run?.state);
  const now = useNow(!finished);
  const byPath = useMemo(() => indexTasks(tasks), [tasks]);
  const graph = useMemo(() => (spec ? buildScopeGraph(spec, scope, byPath, { live: true }) : undefined), [spec, scope, byPath]);
  const selected = graph?.nodes.find((n) => n.id === selectedId);
  const failedTasks = tasks.filter((t) => t.state === 'FAILED' && (t.kind === 'CONTAINER' || t.kind === 'IMPORTER'));

  const act = async (label: string, fn: () => Promise<unknown>, after?: () => void) => {
    setBusy(label);
    setActionError(undefined);
    try {
      await fn();
      after?.();
      await live.reload();
    } catch (e) {
      setActionError(`${label}: ${(e as Error).message}`);
    } finally {
      setBusy(undefined);
    }
  };

  const selectTask = (t: Task) => {
    // open the scope that holds the task and select its node
    const slash = t.path.lastIndexOf('/');
    const parent = slash < 0 ? '' : t.path.slice(0, slash);
    const name = t.path.slice(slash + 1);
    setTab('graph');
    setScope(parent);
    setSelectedId(`task:${name}`);
  };

  // ?task=<task id> (from an artifact's lineage): open that task once the tasks are known
  const wantTask = query.get('task');
  const [openedTask, setOpenedTask] = useState(false);
  useEffect(() => {
    if (!wantTask || openedTask) return;
    const t = tasks.find((x) => x.task_id === wantTask);
    if (t) {
      setOpenedTask(true);
      selectTask(t);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [wantTask, tasks, openedTask]);

  if (live.error && !run) {
    return (
      <>
        <PageHeader crumbs={<Link to="/runs">Runs</Link>} title="Run" />
        <ErrorBox error={live.error} title="Could not load the run" onRetry={live.reload} />
      </>
    );
  }
  if (!run) return <Loading what="run" />;
  const archived = run.storage_state === 'ARCHIVED';
  const pid = run.pipeline_version_reference?.pipeline_id;

  return (
    <>
      <PageHeader
        crumbs={
          <>
            <Link to="/runs">Runs</Link>
            {run.experiment_id && (
              <>
                › <Link to={`/experiments/${run.experiment_id}`}>{names.experiments.get(run.experiment_id) ?? 'experiment'}</Link>
              </>
            )}
          </>
        }
        title={
          <span style={{ display: 'inline-flex', gap: 10, alignItems: 'center' }}>
            {run.display_name || run.run_id} <StatusBadge state={run.state} />
            {archived && <span className="tag archived">archived</span>}
          </span>
        }
        subtitle={
          <>
            {pid && (
              <>
                Pipeline <Link to={`/pipelines/${pid}?version=${run.pipeline_version_reference?.pipeline_version_id ?? ''}`}>{names.pipelines.get(pid) ?? pid.slice(0, 8)}</Link> ·{' '}
              </>
            )}
            started {formatDate(run.created_at)} · {formatDuration(durationBetween(run.created_at, finished ? run.finished_at : undefined, now))}
            {!finished && (live.connected ? ' · live' : ' · reconnecting…')}
          </>
        }
        actions={
          <>
            {!finished && (
              <button className="btn danger" disabled={!!busy || run.state === 'CANCELING'} onClick={() => act('Terminate', () => api.terminateRun(runId))}>
                Terminate
              </button>
            )}
            {(run.state === 'FAILED' || run.state === 'CANCELED') && (
              <button className="btn" disabled={!!busy} onClick={() => act('Retry', () => api.retryRun(runId))}>
                Retry
              </button>
            )}
            <Link className="btn" to={`/runs/new?clone=${runId}`}>
              Clone
            </Link>
            {archived ? (
              <button className="btn" disabled={!!busy} onClick={() => act('Restore', () => api.unarchiveRun(runId))}>
                Restore
              </button>
            ) : (
              <button className="btn" disabled={!!busy} onClick={() => act('Archive', () => api.archiveRun(runId))}>
                Archive
              </button>
            )}
          </>
        }
      />
      <ErrorBox error={actionError} title="The action failed" />
      {live.error && <ErrorBox error={live.error} title="Could not refresh the run" onRetry={live.reload} />}
      {run.state === 'FAILED' && <FailureBanner run={run} failed={failedTasks} onOpen={selectTask} />}
      <Tabs<Tab>
        tabs={[
          { id: 'graph', label: 'Graph' },
          { id: 'timeline', label: 'Timeline' },
          { id: 'details', label: 'Run details' },
        ]}
        value={tab}
        onChange={setTab}
      />
      {tab === 'graph' &&
        (!graph ? (
          specR.error ? <ErrorBox error={specR.error} title="Could not load the run's pipeline spec" /> : <Loading what="graph" />
        ) : (
          <div className="run-layout">
            <div className="run-graph">
              <PipelineGraph
                graph={graph}
                now={now}
                fitKey={selected ? 'panel' : ''}
                selectedId={selectedId}
                onSelect={(n) => setSelectedId(n.id)}
                onOpen={(p) => {
                  setScope(p);
                  setSelectedId(undefined);
                }}
                onCrumb={(p) => {
                  setScope(p);
                  setSelectedId(undefined);
                }}
              />
              <Legend />
            </div>
            {selected && <NodePanel key={selected.id} node={selected} run={run} live={live} onClose={() => setSelectedId(undefined)} onOpenScope={(p) => { setScope(p); setSelectedId(undefined); }} />}
          </div>
        ))}
      {tab === 'timeline' && (
        <div className="card">
          <Timeline tasks={tasks} now={now} onSelect={selectTask} />
        </div>
      )}
      {tab === 'details' && <RunDetails run={run} names={names} />}
    </>
  );
}

function Legend() {
  const items: [Parameters<typeof StateIcon>[0]['state'], string][] = [
    ['pending', 'pending'],
    ['running', 'running'],
    ['succeeded', 'succeeded'],
    ['cached', 'cached'],
    ['failed', 'failed'],
    ['canceled', 'canceled'],
    ['skipped', 'skipped'],
  ];
  return (
    <div className="legend">
      {items.map(([s, l]) => (
        <span key={s}>
          <StateIcon state={s} size={12} /> {l}
        </span>
      ))}
      <span>· double-click a group to open it</span>
    </div>
  );
}

function FailureBanner({ run, failed, onOpen }: { run: Run; failed: Task[]; onOpen: (t: Task) => void }) {
  const msg = run.error?.message || failed[0]?.error || 'The run failed.';
  return (
    <div className="banner failed" role="alert" data-testid="failure-banner">
      <StateIcon state="failed" size={20} />
      <div style={{ minWidth: 0 }}>
        <strong>This run failed</strong>
        {failed.length > 0 && (
          <span>
            {' '}
            in{' '}
            {failed.map((t, i) => (
              <span key={t.task_id}>
                {i > 0 && ', '}
                <button className="btn small" onClick={() => onOpen(t)}>
                  {t.display_name || t.name}
                  {t.path.includes('[') ? ` (${t.path})` : ''}
                </button>
              </span>
            ))}
          </span>
        )}
        <div style={{ marginTop: 6 }}>
          <strong className="mono">{summarizeError(msg)}</strong>
        </div>
        {msg.includes('\n') && (
          <details>
            <summary className="small" style={{ cursor: 'pointer' }}>
              Full error
            </summary>
            <pre>{msg}</pre>
          </details>
        )}
      </div>
    </div>
  );
}

function RunDetails({ run, names }: { run: Run; names: ReturnType<typeof useNames> }) {
  const params = run.runtime_config?.parameters ?? {};
  const ref = run.pipeline_version_reference;
  return (
    <div className="two-col">
      <div className="card">
        <h2>Overview</h2>
        <KV
          rows={[
            ['Run ID', <span className="mono">{run.run_id}</span>],
            ['Status', <StatusBadge state={run.state} />],
            ['Description', run.description || '—'],
            ['Pipeline', ref?.pipeline_id ? <Link to={`/pipelines/${ref.pipeline_id}?version=${ref.pipeline_version_id ?? ''}`}>{names.pipelines.get(ref.pipeline_id) ?? ref.pipeline_id}</Link> : 'inline spec'],
            ['Experiment', run.experiment_id ? <Link to={`/experiments/${run.experiment_id}`}>{names.experiments.get(run.experiment_id) ?? run.experiment_id}</Link> : '—'],
            ['Recurring run', run.recurring_run_id ? <Link to={`/recurring/${run.recurring_run_id}`}>{run.recurring_run_id}</Link> : '—'],
            ['Created', formatDate(run.created_at)],
            ['Finished', formatDate(run.finished_at)],
            ['Duration', formatDuration(durationBetween(run.created_at, run.finished_at))],
            ['Pipeline root', <span className="mono">{run.runtime_config?.pipeline_root || 'default'}</span>],
          ]}
        />
      </div>
      <div className="card">
        <h2>Parameters</h2>
        {Object.keys(params).length ? <KV rows={Object.entries(params).map(([k, v]) => [k, <span className="mono">{valueText(v)}</span>])} /> : <p className="muted">No parameters.</p>}
        {run.state_history && run.state_history.length > 0 && (
          <>
            <h2 style={{ marginTop: 16 }}>State history</h2>
            <KV rows={run.state_history.map((h) => [formatDate(h.update_time), <StatusBadge state={h.state} />])} />
          </>
        )}
      </div>
    </div>
  );
}

type PanelTab = 'io' | 'details' | 'logs';

function NodePanel({ node, run, live, onClose, onOpenScope }: { node: GNode; run: Run; live: RunLive; onClose: () => void; onOpenScope: (p: string) => void }) {
  const t = node.task;
  const isContainer = t && (t.kind === 'CONTAINER' || t.kind === 'IMPORTER');
  const [tab, setTab] = useState<PanelTab>(node.type === 'task' && t && (t.state === 'RUNNING' || t.state === 'FAILED') ? 'logs' : 'io');
  useEffect(() => {
    if (tab === 'logs' && !isContainer) setTab('io');
  }, [tab, isContainer]);

  if (node.type === 'artifact') {
    return (
      <div className="side-panel" data-testid="side-panel">
        <div className="side-head">
          <div>
            <h2>{node.label}</h2>
            <div className="muted small">
              Output of {node.producer} · {node.artifactType}
            </div>
          </div>
          <button className="icon-btn" onClick={onClose} aria-label="Close panel">
            ×
          </button>
        </div>
        <div className="side-body" style={{ paddingTop: 12 }}>
          {node.artifact ? <ArtifactCard a={node.artifact} /> : <p className="muted">Not produced yet{t ? ` (task is ${t.state.toLowerCase()})` : ''}.</p>}
        </div>
      </div>
    );
  }
  const v = visualState(node.state, node.cached);
  return (
    <div className="side-panel" data-testid="side-panel">
      <div className="side-head">
        <div style={{ minWidth: 0 }}>
          <h2>{node.label}</h2>
          <div style={{ display: 'flex', gap: 8, alignItems: 'center', flexWrap: 'wrap' }}>
            <StatusBadge state={node.state} cached={node.cached} />
            {t && <span className="muted small">{formatDuration(durationBetween(t.started_at, t.finished_at))}</span>}
            {node.openPath && (
              <button className="btn small" onClick={() => onOpenScope(node.openPath!)}>
                Open {node.type === 'iteration' ? 'iteration' : node.shape === 'loop' ? 'iterations' : 'group'} ›
              </button>
            )}
          </div>
        </div>
        <button className="icon-btn" onClick={onClose} aria-label="Close panel">
          ×
        </button>
      </div>
      <Tabs<PanelTab>
        tabs={[
          { id: 'io', label: 'Input/Output' },
          { id: 'details', label: 'Details' },
          ...(isContainer ? [{ id: 'logs' as const, label: 'Logs' }] : []),
        ]}
        value={tab}
        onChange={setTab}
      />
      <div className="side-body">
        {!t ? (
          <p className="muted">{v === 'pending' ? 'This task has not started yet.' : 'No record of this task in the run.'}</p>
        ) : tab === 'io' ? (
          <TaskIO t={t} />
        ) : tab === 'details' ? (
          <TaskDetails t={t} tasks={live.tasks} />
        ) : (
          <LogViewer runId={run.run_id} task={t} onLog={live.onLog} />
        )}
      </div>
    </div>
  );
}

function ParamTable({ params }: { params: Record<string, unknown> | undefined }) {
  const e = Object.entries(params ?? {});
  if (!e.length) return <p className="muted small">None</p>;
  return (
    <table className="list">
      <tbody>
        {e.map(([k, v]) => (
          <tr key={k}>
            <td style={{ width: '40%' }}>{k}</td>
            <td className="mono" style={{ wordBreak: 'break-all' }}>
              {valueText(v)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ArtifactList({ artifacts }: { artifacts: Record<string, ArtifactRef[]> | undefined }) {
  const e = Object.entries(artifacts ?? {});
  if (!e.length) return <p className="muted small">None</p>;
  return (
    <>
      {e.flatMap(([k, list]) => list.map((a, i) => <ArtifactCard key={`${k}-${i}`} a={a} title={list.length > 1 ? `${k} [${i}]` : k} />))}
    </>
  );
}

function TaskIO({ t }: { t: Task }) {
  return (
    <>
      <div className="io-section">
        <h3>Input parameters</h3>
        <ParamTable params={t.inputs?.parameters} />
        <h3>Input artifacts</h3>
        <ArtifactList artifacts={t.inputs?.artifacts} />
      </div>
      <div className="io-section">
        <h3>Output parameters</h3>
        <ParamTable params={t.outputs?.parameters} />
        <h3>Output artifacts</h3>
        <ArtifactList artifacts={t.outputs?.artifacts} />
      </div>
    </>
  );
}

function TaskDetails({ t, tasks }: { t: Task; tasks: Task[] }) {
  const cachedFrom = t.cached_from_task_id;
  const cmd = Array.isArray(t.command) ? t.command.join(' ') : t.command;
  const src = cachedFrom ? tasks.find((x) => x.task_id === cachedFrom) : undefined;
  return (
    <>
      <KV
        rows={[
          ['Task ID', <span className="mono">{t.task_id}</span>],
          ['Path', <span className="mono">{t.path}</span>],
          ['Kind', t.kind],
          ['State', <StatusBadge state={t.state} cached={t.cached} />],
          ['Created', formatDate(t.created_at)],
          ['Started', formatDate(t.started_at)],
          ['Finished', formatDate(t.finished_at)],
          ['Duration', formatDuration(durationBetween(t.started_at, t.finished_at))],
          ['Attempts', String(t.attempts ?? t.attempt_list?.length ?? 1)],
          [
            'Cache',
            t.cached ? (
              <span>
                <span className="badge state-cached">cache hit</span>{' '}
                {cachedFrom ? <>reused from task <span className="mono">{src ? src.path : cachedFrom}</span></> : null}
              </span>
            ) : (
              'executed (not from cache)'
            ),
          ],
          ...(t.fingerprint ? ([['Cache key', <span className="mono" style={{ wordBreak: 'break-all' }}>{t.fingerprint}</span>]] as [string, React.ReactNode][]) : []),
        ]}
      />
      {t.error && (
        <>
          <h3>Error</h3>
          <pre className="preview" style={{ whiteSpace: 'pre-wrap', color: '#8f1d1d' }}>
            {t.error}
          </pre>
        </>
      )}
      {t.attempt_list && t.attempt_list.length > 0 && (
        <>
          <h3>Attempts</h3>
          <table className="list" data-testid="task-attempts">
            <thead>
              <tr>
                <th>#</th>
                <th>State</th>
                <th>Started</th>
                <th>Duration</th>
                <th>Exit</th>
              </tr>
            </thead>
            <tbody>
              {t.attempt_list.map((a) => (
                <tr key={a.attempt}>
                  <td>{a.attempt}</td>
                  <td>
                    <StatusBadge state={a.state} />
                  </td>
                  <td className="nowrap">{formatDate(a.started_at)}</td>
                  <td>{formatDuration(durationBetween(a.started_at, a.finished_at))}</td>
                  <td>{a.exit_code ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {cmd && (
        <>
          <h3>Command</h3>
          <pre className="preview" style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all', maxHeight: 260 }}>
            {cmd}
          </pre>
        </>
      )}
    </>
  );
}

export function useOpenRun() {
  return (id: string) => navigate(`/runs/${id}`);
}

/** The line that says what went wrong: the last exception line of a traceback, else the first line. */
export function summarizeError(msg: string): string {
  const lines = msg.split('\n').map((l) => l.trim()).filter(Boolean);
  const exc = [...lines].reverse().find((l) => /^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b.*:/.test(l));
  const first = lines[0] ?? msg;
  return exc && exc !== first ? `${first} — ${exc}` : first;
}
