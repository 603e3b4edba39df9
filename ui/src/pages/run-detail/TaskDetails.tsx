import type { ReactNode } from 'react';
import type { Task } from '../../api/types';
import { KV, StatusBadge } from '../../components/common';
import { durationBetween, formatDate, formatDuration } from '../../lib/format';

interface Placement {
  ray_node_ip?: string;
  ray_node_id?: string;
  hostname?: string;
  tries?: Placement[];
}

/** Where an attempt ran (the Ray launcher records each attempt's node, and every
 * try when a lost node made it resubmit), as "10.0.0.2 (node 91b0…)". */
export function attemptNode(t: Task, attempt: number): string | null {
  const all = (t.details?.attempts ?? {}) as Record<string, Placement>;
  const p = all[String(attempt)];
  if (!p) return null;
  const one = (x: Placement) =>
    `${x.ray_node_ip ?? x.hostname ?? '?'}${x.ray_node_id ? ` (node ${x.ray_node_id.slice(0, 8)}…)` : ''}`;
  return p.tries && p.tries.length > 1 ? p.tries.map(one).join(' → ') : one(p);
}

function Attempts({ t }: { t: Task }) {
  if (!t.attempt_list?.length) return null;
  const placed = t.attempt_list.some((a) => attemptNode(t, a.attempt) !== null);
  return (
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
            {placed && <th>Node</th>}
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
              {placed && (
                <td className="mono" data-testid="attempt-node">
                  {attemptNode(t, a.attempt) ?? '—'}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function TaskDetails({ t, tasks }: { t: Task; tasks: Task[] }) {
  const cachedFrom = t.cached_from_task_id;
  const cmd = Array.isArray(t.command) ? t.command.join(' ') : t.command;
  const src = cachedFrom ? tasks.find((x) => x.task_id === cachedFrom) : undefined;
  const rows: [string, ReactNode][] = [
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
          {cachedFrom ? (
            <>
              reused from task <span className="mono">{src ? src.path : cachedFrom}</span>
            </>
          ) : null}
        </span>
      ) : (
        'executed (not from cache)'
      ),
    ],
  ];
  if (t.fingerprint) rows.push(['Cache key', <span className="mono break">{t.fingerprint}</span>]);
  return (
    <>
      <KV rows={rows} />
      {t.error && (
        <>
          <h3>Error</h3>
          <pre className="preview wrap error-text">{t.error}</pre>
        </>
      )}
      <Attempts t={t} />
      {cmd && (
        <>
          <h3>Command</h3>
          <pre className="preview wrap break short">{cmd}</pre>
        </>
      )}
    </>
  );
}
