import { useEffect, useState } from 'react';
import { api } from '../api/client';
import type { RecurringRun } from '../api/types';
import { EmptyState, ErrorBox, KV, Loading, PageHeader, Pager, StatusBadge } from '../components/common';
import { RunsTable, useNames } from '../components/RunsTable';
import { durationBetween, formatDate, formatDuration, isFinished, valueText } from '../lib/format';
import { useAsync, useNow } from '../lib/hooks';
import { Link } from '../router';

export function triggerText(rr: RecurringRun): string {
  const c = rr.trigger?.cron_schedule?.cron;
  if (c) return `cron ${c}`;
  const p = rr.trigger?.periodic_schedule?.interval_second;
  if (p !== undefined) {
    const s = Number(p);
    if (s % 86400 === 0) return `every ${s / 86400} day${s === 86400 ? '' : 's'}`;
    if (s % 3600 === 0) return `every ${s / 3600} hour${s === 3600 ? '' : 's'}`;
    if (s % 60 === 0) return `every ${s / 60} minute${s === 60 ? '' : 's'}`;
    return `every ${s} seconds`;
  }
  return '—';
}

function enabled(rr: RecurringRun): boolean {
  return rr.status === 'ENABLED' || (rr.status === undefined && rr.mode === 'ENABLE');
}

function EnableToggle({ rr, onChange }: { rr: RecurringRun; onChange: (err?: string) => void }) {
  const on = enabled(rr);
  return (
    <button
      className={on ? 'btn small' : 'btn small primary'}
      onClick={async () => {
        try {
          await (on ? api.disableRecurringRun(rr.recurring_run_id) : api.enableRecurringRun(rr.recurring_run_id));
          onChange();
        } catch (e) {
          onChange((e as Error).message);
        }
      }}
    >
      {on ? 'Disable' : 'Enable'}
    </button>
  );
}

export function RecurringRunsPage() {
  const [tokens, setTokens] = useState<string[]>(['']);
  const [pageSize, setPageSize] = useState(20);
  const [err, setErr] = useState<string>();
  const token = tokens[tokens.length - 1];
  const list = useAsync(() => api.listRecurringRuns({ page_size: pageSize, page_token: token || undefined, sort_by: 'created_at desc' }), [pageSize, token]);
  const names = useNames();
  const items = list.data?.items ?? [];
  return (
    <>
      <PageHeader
        title="Recurring runs"
        subtitle="Pipelines started on a schedule (cron or every N seconds)."
        actions={
          <Link className="btn primary" to="/runs/new?recurring=1">
            + Create recurring run
          </Link>
        }
      />
      <ErrorBox error={list.error} title="Could not load recurring runs" onRetry={list.reload} />
      <ErrorBox error={err} title="The action failed" />
      <div className="card flush">
        {list.loading && !list.data ? (
          <Loading what="recurring runs" />
        ) : !items.length ? (
          <EmptyState title="No recurring runs" action={<Link className="btn primary" to="/runs/new?recurring=1">Schedule a pipeline</Link>}>
            In the run form choose “Recurring” and give a cron expression or an interval.
          </EmptyState>
        ) : (
          <table className="list">
            <thead>
              <tr>
                <th>Name</th>
                <th>Status</th>
                <th>Trigger</th>
                <th>Pipeline</th>
                <th>Experiment</th>
                <th>Created</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {items.map((rr) => {
                const pid = rr.pipeline_version_reference?.pipeline_id;
                return (
                  <tr key={rr.recurring_run_id}>
                    <td>
                      <Link to={`/recurring/${rr.recurring_run_id}`}>
                        <strong>{rr.display_name}</strong>
                      </Link>
                    </td>
                    <td>{enabled(rr) ? <span className="badge state-succeeded">Enabled</span> : <span className="badge state-skipped">Disabled</span>}</td>
                    <td className="mono">{triggerText(rr)}</td>
                    <td>{pid ? <Link to={`/pipelines/${pid}`}>{names.pipelines.get(pid) ?? pid.slice(0, 8)}</Link> : '—'}</td>
                    <td>{rr.experiment_id ? <Link to={`/experiments/${rr.experiment_id}`}>{names.experiments.get(rr.experiment_id) ?? rr.experiment_id.slice(0, 8)}</Link> : '—'}</td>
                    <td className="nowrap">{formatDate(rr.created_at)}</td>
                    <td style={{ textAlign: 'right' }}>
                      <EnableToggle rr={rr} onChange={(e) => { setErr(e); list.reload(); }} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
        <Pager page={tokens.length - 1} hasPrev={tokens.length > 1} hasNext={!!list.data?.next_page_token} onPrev={() => setTokens((t) => t.slice(0, -1))} onNext={() => setTokens((t) => [...t, list.data!.next_page_token!])} pageSize={pageSize} onPageSize={(n) => { setPageSize(n); setTokens(['']); }} total={list.data?.total_size} />
      </div>
    </>
  );
}

export function RecurringRunDetailPage({ recurringRunId }: { recurringRunId: string }) {
  const r = useAsync(() => api.getRecurringRun(recurringRunId), [recurringRunId]);
  const [err, setErr] = useState<string>();
  const names = useNames();
  const rr = r.data;
  const pid = rr?.pipeline_version_reference?.pipeline_id;
  return (
    <>
      <PageHeader
        crumbs={<Link to="/recurring">Recurring runs</Link>}
        title={<>{rr?.display_name ?? 'Recurring run'} {rr && (enabled(rr) ? <span className="badge state-succeeded">Enabled</span> : <span className="badge state-skipped">Disabled</span>)}</>}
        subtitle={rr?.description}
        actions={rr && <EnableToggle rr={rr} onChange={(e) => { setErr(e); r.reload(); }} />}
      />
      <ErrorBox error={r.error} title="Could not load the recurring run" onRetry={r.reload} />
      <ErrorBox error={err} title="The action failed" />
      {rr && (
        <div className="two-col">
          <div className="card">
            <h2>Schedule</h2>
            <KV
              rows={[
                ['Trigger', <span className="mono">{triggerText(rr)}</span>],
                ['Max concurrent runs', String(rr.max_concurrency ?? '—')],
                ['Catch up missed runs', rr.no_catchup ? 'no' : 'yes'],
                ['Pipeline', pid ? <Link to={`/pipelines/${pid}`}>{names.pipelines.get(pid) ?? pid}</Link> : '—'],
                ['Experiment', rr.experiment_id ? <Link to={`/experiments/${rr.experiment_id}`}>{names.experiments.get(rr.experiment_id) ?? rr.experiment_id}</Link> : '—'],
                ['Created', formatDate(rr.created_at)],
                ['Updated', formatDate(rr.updated_at)],
              ]}
            />
          </div>
          <div className="card">
            <h2>Parameters</h2>
            {Object.keys(rr.runtime_config?.parameters ?? {}).length ? (
              <KV rows={Object.entries(rr.runtime_config?.parameters ?? {}).map(([k, v]) => [k, <span className="mono">{valueText(v)}</span>])} />
            ) : (
              <p className="muted">Defaults of the pipeline.</p>
            )}
          </div>
        </div>
      )}
      <h2 style={{ marginTop: 8 }}>Runs it started</h2>
      <RecurringRuns recurringRunId={recurringRunId} experimentId={rr?.experiment_id} active={!!rr && enabled(rr)} />
    </>
  );
}

function RecurringRuns({ recurringRunId, experimentId, active }: { recurringRunId: string; experimentId?: string; active: boolean }) {
  // KFP lists a recurring run's runs by filtering on recurring_run_id
  const list = useAsync(
    () => api.listRuns({ page_size: 50, sort_by: 'created_at desc', experiment_id: experimentId, filter: JSON.stringify({ predicates: [{ key: 'recurring_run_id', operation: 'EQUALS', string_value: recurringRunId }] }) }),
    [recurringRunId, experimentId],
  );
  const runs = (list.data?.items ?? []).filter((x) => !x.recurring_run_id || x.recurring_run_id === recurringRunId);
  const going = active || runs.some((x) => !isFinished(x.state));
  const now = useNow(going);
  // new runs come from the schedule: refresh while it is enabled or its runs are going
  useEffect(() => {
    if (!going) return;
    const id = setInterval(list.reload, 2000);
    return () => clearInterval(id);
  }, [going, list.reload]);
  if (list.error && !list.data) return <ErrorBox error={list.error} title="Could not load its runs" onRetry={list.reload} />;
  if (!list.data) return <Loading what="runs" />;
  if (!runs.length)
    return (
      <div className="card">
        <EmptyState title="No runs yet">{active ? 'The first run starts at the next scheduled time.' : 'The schedule is disabled: enable it to start runs.'}</EmptyState>
      </div>
    );
  return (
    <div className="card flush">
      {list.error && <ErrorBox error={list.error} title="Could not refresh its runs" />}
      <table className="list" data-testid="recurring-runs">
        <thead>
          <tr>
            <th>Run name</th>
            <th>Status</th>
            <th>Duration</th>
            <th>Start time</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((x) => (
            <tr key={x.run_id} data-run-id={x.run_id}>
              <td>
                <Link to={`/runs/${x.run_id}`}>
                  <strong>{x.display_name || x.run_id}</strong>
                </Link>
              </td>
              <td>
                <StatusBadge state={x.state} />
              </td>
              <td className="nowrap">{formatDuration(durationBetween(x.created_at, isFinished(x.state) ? x.finished_at : undefined, now))}</td>
              <td className="nowrap">{formatDate(x.created_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {list.data.next_page_token && <div className="muted small" style={{ padding: '8px 12px' }}>The 50 newest runs are shown; the Runs page lists them all.</div>}
    </div>
  );
}

export { RunsTable };
