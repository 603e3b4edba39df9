import { useState } from 'react';
import type { Run, Task } from '../../api/types';
import { StatusBadge, Tabs } from '../../components/common';
import { LogViewer } from '../../components/LogViewer';
import { debugPause } from '../../lib/debugPause';
import { durationBetween, formatDuration, isFinished } from '../../lib/format';
import type { GNode } from '../../lib/graph';
import type { RunLive } from '../../lib/live';
import { taskVisualizations } from '../../lib/visualizations';
import { ArtifactPanel } from './ArtifactPanel';
import { TaskDetails } from './TaskDetails';
import { TaskIO } from './TaskIO';
import { TaskVisualizations } from './Visualizations';

type PanelTab = 'viz' | 'io' | 'details' | 'logs';

/** The tab a task's panel opens on: its visualizations when it has any, the logs while it runs or when it failed. */
export function firstTab(t: Task | undefined): PanelTab {
  if (!t) return 'io';
  if (debugPause(t)) return 'details'; // where its Resume button is
  if (taskVisualizations(t).length) return 'viz';
  const container = t.kind === 'CONTAINER' || t.kind === 'IMPORTER';
  if (container && (t.state === 'RUNNING' || t.state === 'FAILED')) return 'logs';
  return 'io';
}

/** Why a node has no task record: it has not started yet, or the run ended before it could. */
function noRecordText(run: Run): string {
  if (!isFinished(run.state)) return 'This task has not started yet.';
  const how = run.state === 'FAILED' ? 'failed' : run.state === 'CANCELED' ? 'was canceled' : 'ended';
  return `Not run: the run ${how} before this task started.`;
}

export function NodePanel({ node, run, live, onClose, onOpenScope }: { node: GNode; run: Run; live: RunLive; onClose: () => void; onOpenScope: (p: string) => void }) {
  const t = node.task;
  const isContainer = !!t && (t.kind === 'CONTAINER' || t.kind === 'IMPORTER');
  const hasViz = !!t && taskVisualizations(t).length > 0;
  const [chosen, setTab] = useState<PanelTab>(() => firstTab(node.type === 'task' ? t : undefined));
  // a tab the task does not offer (e.g. logs of a group) falls back to inputs/outputs
  const tab: PanelTab = (chosen === 'logs' && !isContainer) || (chosen === 'viz' && !hasViz) ? 'io' : chosen;

  if (node.type === 'artifact') return <ArtifactPanel node={node} onClose={onClose} />;
  const notRun = isFinished(run.state) && (!t || t.state === 'PENDING');
  return (
    <div className="side-panel" data-testid="side-panel">
      <div className="side-head">
        <div className="min0">
          <h2>{node.label}</h2>
          <div className="side-meta">
            <StatusBadge state={notRun ? undefined : node.state} cached={node.cached} />
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
          ...(hasViz ? [{ id: 'viz' as const, label: 'Visualizations' }] : []),
          { id: 'io', label: 'Input/Output' },
          { id: 'details', label: 'Details' },
          ...(isContainer ? [{ id: 'logs' as const, label: 'Logs' }] : []),
        ]}
        value={tab}
        onChange={setTab}
      />
      <div className="side-body">
        {!t ? (
          <p className="muted" data-testid="not-run-note">
            {noRecordText(run)}
          </p>
        ) : tab === 'viz' ? (
          <TaskVisualizations t={t} />
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
