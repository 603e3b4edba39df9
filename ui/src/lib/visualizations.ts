// Which task outputs are visualizations (KFP's Visualizations tab): metrics,
// classification metrics (confusion matrix, ROC), HTML and Markdown.
import type { ArtifactRef, Task } from '../api/types';

export const VISUAL_TYPES: ReadonlySet<string> = new Set([
  'system.Metrics',
  'system.ClassificationMetrics',
  'system.SlicedClassificationMetrics',
  'system.HTML',
  'system.Markdown',
]);

export interface Visualization {
  task: Task;
  /** the output's name in the component, with [i] when it is one of several */
  title: string;
  artifact: ArtifactRef;
}

/** The visualizations a task produced, in the order of its outputs. */
export function taskVisualizations(t: Task): Visualization[] {
  const out: Visualization[] = [];
  for (const [key, list] of Object.entries(t.outputs?.artifacts ?? {})) {
    list.forEach((a, i) => {
      if ((a.type && VISUAL_TYPES.has(a.type)) || a.metadata?.v1_ui_metadata) out.push({ task: t, title: list.length > 1 ? `${key} [${i}]` : key, artifact: a });
    });
  }
  return out;
}

/**
 * Every visualization of a run, by task path. Only the tasks that ran a container
 * (or an importer) count: a DAG task re-exports its children's outputs, which
 * would show the same artifact twice.
 */
export function runVisualizations(tasks: Task[]): Visualization[] {
  const seen = new Set<string>();
  const out: Visualization[] = [];
  const leaves = tasks.filter((t) => t.kind === 'CONTAINER' || t.kind === 'IMPORTER').sort((a, b) => a.path.localeCompare(b.path));
  for (const t of leaves) {
    for (const v of taskVisualizations(t)) {
      const id = v.artifact.artifact_id || `${t.task_id}/${v.title}`;
      if (seen.has(id)) continue;
      seen.add(id);
      out.push(v);
    }
  }
  return out;
}
