import type { CSSProperties } from 'react';
import type { Task } from '../api/types';
import { visualState } from '../lib/graph';
import { durationBetween, formatDuration, parseTime } from '../lib/format';
import { durationAxis, tickLabel } from '../lib/ticks';
import { EmptyState } from './common';

/** Gantt chart of the run's container tasks, by start time. */
export function Timeline({ tasks, now, onSelect }: { tasks: Task[]; now: number; onSelect: (t: Task) => void }) {
  const rows = tasks
    .filter((t) => (t.kind === 'CONTAINER' || t.kind === 'IMPORTER') && parseTime(t.started_at) !== undefined)
    .sort((a, b) => (parseTime(a.started_at)! - parseTime(b.started_at)!) || a.path.localeCompare(b.path));
  if (!rows.length) return <EmptyState title="No task has started yet">The timeline fills in as tasks run.</EmptyState>;
  const t0 = Math.min(...rows.map((t) => parseTime(t.started_at)!));
  const t1 = Math.max(...rows.map((t) => parseTime(t.finished_at) ?? now), t0 + 1);
  // the axis runs to a round duration, so that its ticks fall on round values
  const axis = durationAxis(t1 - t0);
  const pct = (v: number) => `${((v - t0) / axis.end) * 100}%`;
  const tickPct = `${(axis.step / axis.end) * 100}%`;
  return (
    // the grid lines of the tracks repeat at the tick interval (a CSS variable: it depends on the data)
    <div className="timeline" data-testid="timeline" style={{ '--tick': tickPct } as CSSProperties}>
      {rows.map((t) => {
        const s = parseTime(t.started_at)!;
        const e = parseTime(t.finished_at) ?? now;
        const v = visualState(t.state, t.cached);
        return (
          <div className="tl-row" key={t.task_id}>
            <div className="tl-name" title={t.path}>
              {t.path}
            </div>
            <div className="tl-track">
              <div
                className={`tl-bar ${v}`}
                style={{ left: pct(s), width: `max(2px, calc(${pct(e)} - ${pct(s)}))` }}
                title={`${t.path}: ${t.state.toLowerCase()}${t.cached ? ' (cached)' : ''}, ${formatDuration(e - s)}`}
                onClick={() => onSelect(t)}
              />
            </div>
            <div className="tl-dur">{formatDuration(durationBetween(t.started_at, t.finished_at, now))}</div>
          </div>
        );
      })}
      <div className="tl-axis" data-testid="timeline-axis">
        {axis.ticks.map((t) => (
          <span key={t} style={{ left: `${(t / axis.end) * 100}%` }}>
            {tickLabel(t)}
          </span>
        ))}
      </div>
    </div>
  );
}
