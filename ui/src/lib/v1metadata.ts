// KFP v1 visualizations: the `mlpipeline-ui-metadata` outputs of a kfp 1.x step, kept by
// the server as the artifact's `metadata.v1_ui_metadata` (a list of KFP v1 output
// viewers: markdown, table, confusion_matrix, roc, web-app, tensorboard), with the text
// of a local `source` file read in as `content` (see pipeyard/v1/visuals.py).
import type { ConfusionMatrix, RocPoint } from './metrics';

export interface V1Output {
  type: string;
  storage?: string;
  source?: string;
  content?: string;
  format?: string;
  header?: string[];
  labels?: string[];
  schema?: { name: string; type?: string }[];
  note?: string;
}

export function v1Outputs(metadata: Record<string, unknown> | undefined): V1Output[] {
  const list = metadata?.v1_ui_metadata;
  if (!Array.isArray(list)) return [];
  return list.filter((o): o is V1Output => typeof o === 'object' && o !== null && typeof (o as V1Output).type === 'string');
}

/** The text a viewer shows: inline `source`, else the file content the server read. */
export function v1Text(o: V1Output): string | undefined {
  if (o.storage === 'inline') return o.source;
  return o.content;
}

/** Rows of a header-less CSV (KFP v1 sources name their columns in `schema`/`header`). */
export function csvRows(text: string): string[][] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .map((l) => l.split(',').map((c) => c.trim()));
}

function column(o: V1Output, name: string, fallback: number): number {
  const i = (o.schema ?? []).findIndex((s) => s.name === name);
  return i >= 0 ? i : fallback;
}

/** A confusion matrix from rows of (target, predicted, count), as KFP v1's viewer reads them. */
export function v1ConfusionMatrix(o: V1Output): ConfusionMatrix | null {
  const text = v1Text(o);
  if (!text) return null;
  const [ti, pi, ci] = [column(o, 'target', 0), column(o, 'predicted', 1), column(o, 'count', 2)];
  const rows = csvRows(text);
  const labels = o.labels?.length ? [...o.labels] : [...new Set(rows.flatMap((r) => [r[ti], r[pi]]))];
  const index = new Map(labels.map((l, i) => [l, i]));
  const m = labels.map(() => labels.map(() => 0));
  for (const r of rows) {
    const a = index.get(r[ti]);
    const b = index.get(r[pi]);
    const n = Number(r[ci]);
    if (a === undefined || b === undefined || !Number.isFinite(n)) continue;
    m[a][b] += n;
  }
  return { labels, rows: m, max: Math.max(0, ...m.flat()) };
}

/** ROC points from rows of (fpr, tpr, thresholds), sorted by false positive rate. */
export function v1Roc(o: V1Output): RocPoint[] {
  const text = v1Text(o);
  if (!text) return [];
  const [fi, ti, hi] = [column(o, 'fpr', 0), column(o, 'tpr', 1), column(o, 'thresholds', 2)];
  return csvRows(text)
    .map((r) => ({ fpr: Number(r[fi]), tpr: Number(r[ti]), threshold: Number(r[hi]) }))
    .filter((p) => Number.isFinite(p.fpr) && Number.isFinite(p.tpr))
    .sort((a, b) => a.fpr - b.fpr);
}
