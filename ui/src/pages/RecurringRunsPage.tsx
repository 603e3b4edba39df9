import { useEffect, useState } from 'react';
import { api } from '../api/client';
import type { RecurringRun } from '../api/types';
import { EmptyState, ErrorBox, KV, Loading, PageHeader, StatusBadge } from '../components/common';
import { ListTable, type Column } from '../components/ListTable';
import { NameLink } from '../components/NameLink';
import { RunsTable } from '../components/RunsTable';
import { durationBetween, formatDate, formatDuration, isFinished, valueText } from '../lib/format';
import { useAsync, useNow } from '../lib/hooks';
import { usePagedList } from '../lib/paging';
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
  const [err, setErr] = useState<string>();
  const paged = usePagedList((p) => api.listRecurringRuns({ ...p, sort_by: 'created_at desc' }), []);
  const columns: Column<RecurringRun>[] = [
    {
      id: 'name',
      label: 'Name',
      cell: (rr) => (
        <Link to={`/recurring/${rr.recurring_run_id}`}>
          <strong>{rr.display_name}</strong>
        </Link>
      ),
    },
    { id: 'status', label: 'Status', cell: (rr) => (enabled(rr) ? <span className="badge state-succeeded">Enabled</span> : <span className="badge state-skipped">Disabled</span>) },
    { id: 'trigger', label: 'Trigger', className: 'mono', cell: (rr) => triggerText(rr) },
    { id: 'pipeline', label: 'Pipeline', cell: (rr) => (rr.pipeline_version_reference?.pipeline_id ? <NameLink kind="pipeline" id={rr.pipeline_version_reference.pipeline_id} /> : '—') },
    { id: 'experiment', label: 'Experiment', cell: (rr) => (rr.experiment_id ? <NameLink kind="experiment" id={rr.experiment_id} /> : '—') },
    { id: 'created', label: 'Created', className: 'nowrap', cell: (rr) => formatDate(rr.created_at) },
    {
      id: 'actions',
      label: '',
      className: 'right',
      cell: (rr) => (
        <EnableToggle
          rr={rr}
          onChange={(e) => {
            setErr(e);
            paged.list.reload();
          }}
        />
      ),
    },
  ];
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
      <ErrorBox error={paged.list.error} title="Could not load recurring runs" onRetry={paged.list.reload} />
      <ErrorBox error={err} title="The action failed" />
      <div className="card flush">
        <ListTable
          paged={paged}
          columns={columns}
          rowKey={(rr) => rr.recurring_run_id}
          what="recurring runs"
          testId="recurring-runs-table"
          empty={
            <EmptyState title="No recurring runs" action={<Link className="btn primary" to="/runs/new?recurring=1">Schedule a pipeline</Link>}>
              In the run form choose “Recurring” and give a cron expression or an interval.
            </EmptyState>
          }
        />
      </div>
    </>
  );
}

export function RecurringRunDetailPage({ recurringRunId }: { recurringRunId: string }) {
  const r = useAsync(() => api.getRecurringRun(recurringRunId), [recurringRunId]);
  const [err, setErr] = useState<string>();
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
                ['Pipeline', pid ? <NameLink kind="pipeline" id={pid} full /> : '—'],
                ['Experiment', rr.experiment_id ? <NameLink kind="experiment" id={rr.experiment_id} full /> : '—'],
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
      <h2 className="spaced">Runs it started</h2>
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
      {list.data.next_page_token && <div className="muted small table-note">The 50 newest runs are shown; the Runs page lists them all.</div>}
    </div>
  );
}

export { RunsTable };
