import type { ReactNode } from 'react';
import type { Run } from '../../api/types';
import { KV, StatusBadge } from '../../components/common';
import { NameLink } from '../../components/NameLink';
import { durationBetween, formatDate, formatDuration, valueText } from '../../lib/format';
import { Link } from '../../router';

export function RunDetails({ run }: { run: Run }) {
  const params = run.runtime_config?.parameters ?? {};
  const ref = run.pipeline_version_reference;
  const rows: [string, ReactNode][] = [
    ['Run ID', <span className="mono">{run.run_id}</span>],
    ['Status', <StatusBadge state={run.state} />],
    ['Description', run.description || '—'],
    ['Pipeline', ref?.pipeline_id ? <NameLink kind="pipeline" id={ref.pipeline_id} full /> : <>{run.pipeline_name || '—'} <span className="muted">(from a pipeline package; see the Spec tab)</span></>],
    ['Pipeline version', ref?.pipeline_id && ref.pipeline_version_id ? <NameLink kind="version" id={ref.pipeline_version_id} pipelineId={ref.pipeline_id} full /> : '—'],
    ['Experiment', run.experiment_id ? <NameLink kind="experiment" id={run.experiment_id} full /> : '—'],
    ['Recurring run', run.recurring_run_id ? <Link to={`/recurring/${run.recurring_run_id}`}>{run.recurring_run_id}</Link> : '—'],
    ['Created', formatDate(run.created_at)],
    ['Finished', formatDate(run.finished_at)],
    ['Duration', formatDuration(durationBetween(run.created_at, run.finished_at))],
    ['Pipeline root', <span className="mono">{run.runtime_config?.pipeline_root || 'default'}</span>],
  ];
  return (
    <div className="two-col" data-testid="run-details">
      <div className="card">
        <h2>Overview</h2>
        <KV rows={rows} />
      </div>
      <div className="card">
        <h2>Parameters</h2>
        {Object.keys(params).length ? <KV rows={Object.entries(params).map(([k, v]) => [k, <span className="mono">{valueText(v)}</span>])} /> : <p className="muted">No parameters.</p>}
        {run.state_history && run.state_history.length > 0 && (
          <>
            <h2 className="spaced">State history</h2>
            <KV rows={run.state_history.map((h) => [formatDate(h.update_time), <StatusBadge state={h.state} />])} />
          </>
        )}
      </div>
    </div>
  );
}
