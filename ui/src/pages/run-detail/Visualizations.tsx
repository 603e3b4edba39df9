import type { Task } from '../../api/types';
import { ArtifactVisualization } from '../../components/ArtifactView';
import { runVisualizations, taskVisualizations, type Visualization } from '../../lib/visualizations';
import { Link } from '../../router';

function VizCard({ v, showTask }: { v: Visualization; showTask: boolean }) {
  return (
    <div className="artifact-card" data-testid={`viz-${v.title}`} data-artifact-type={v.artifact.type}>
      <div className="artifact-card-head">
        <div>
          <strong>{showTask ? `${v.task.display_name || v.task.name} · ${v.title}` : v.title}</strong> <span className="tag">{v.artifact.type}</span>
        </div>
        {v.artifact.artifact_id && (
          <Link className="btn small" to={`/artifacts/${v.artifact.artifact_id}`}>
            Lineage
          </Link>
        )}
      </div>
      <ArtifactVisualization a={v.artifact} params={v.task.inputs?.parameters} />
    </div>
  );
}

/** The Visualizations tab of the task side panel. */
export function TaskVisualizations({ t }: { t: Task }) {
  const vs = taskVisualizations(t);
  if (!vs.length) return <p className="muted">This task produced no metrics, HTML or Markdown.</p>;
  return (
    <div data-testid="task-visualizations">
      {vs.map((v) => (
        <VizCard key={v.title} v={v} showTask={false} />
      ))}
    </div>
  );
}

/** The run's "Run output" tab: every visualization of every task. */
export function RunOutput({ tasks, onOpenTask }: { tasks: Task[]; onOpenTask: (t: Task) => void }) {
  const vs = runVisualizations(tasks);
  if (!vs.length) return <div className="card muted">No task of this run has produced metrics, HTML or Markdown{tasks.length ? '' : ' yet'}.</div>;
  const byTask = new Map<string, Visualization[]>();
  for (const v of vs) byTask.set(v.task.task_id, [...(byTask.get(v.task.task_id) ?? []), v]);
  return (
    <div className="run-output" data-testid="run-output">
      {[...byTask.values()].map((list) => (
        <section key={list[0].task.task_id} className="card">
          <h2>
            <button className="link-btn" onClick={() => onOpenTask(list[0].task)}>
              {list[0].task.display_name || list[0].task.name}
            </button>
            {list[0].task.path.includes('[') && <span className="muted small"> {list[0].task.path}</span>}
          </h2>
          <div className="viz-grid">
            {list.map((v) => (
              <VizCard key={v.title} v={v} showTask={false} />
            ))}
          </div>
        </section>
      ))}
    </div>
  );
}
