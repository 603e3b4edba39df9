import { useState, type ReactNode } from 'react';
import { api } from '../../api/client';
import type { Task } from '../../api/types';
import { KV, StatusBadge } from '../../components/common';
import { debugPause } from '../../lib/debugPause';
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

/** A task held by set_debug_pause: where it waits, its kept working directory, and Resume. */
function PauseBox({ t }: { t: Task }) {
  const pause = debugPause(t);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  if (!pause) return null;
  const resume = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await api.resumeTask(t.run_id, t.task_id);
    } catch (e) {
      setError((e as Error).message);
      setBusy(false);
    }
  };
  return (
    <div className="error-box" role="status" data-testid="debug-pause">
      <strong>Paused {pause.when} running (set_debug_pause)</strong>
      <span>
        Working directory kept: <span className="mono break">{pause.work_dir}</span>
      </span>
      <span>
        <button className="btn" disabled={busy} onClick={resume} data-testid="resume-task">
          Resume
        </button>{' '}
        <span className="muted small mono">pipeyard resume {t.run_id} {t.path}</span>
      </span>
      {error && <span className="error-text">{error}</span>}
    </div>
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
    ['State', <StatusBadge state={debugPause(t) ? 'PAUSED' : t.state} cached={t.cached} />],
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
      <PauseBox t={t} />
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
