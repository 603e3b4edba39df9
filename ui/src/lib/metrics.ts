// Reads the metadata kfp's artifact classes write (kfp/dsl/types/artifact_types.py):
// Metrics.log_metric -> metadata[key] = number; ClassificationMetrics.log_roc_curve ->
// metadata.confidenceMetrics [{confidenceThreshold, recall, falsePositiveRate}];
// log_confusion_matrix -> metadata.confusionMatrix {annotationSpecs:[{displayName}], rows:[{row}]};
// SlicedClassificationMetrics -> metadata.evaluationSlices [{slice, sliceClassificationMetrics}].

export interface RocPoint {
  fpr: number;
  tpr: number;
  threshold: number;
}

export interface ConfusionMatrix {
  labels: string[];
  rows: number[][];
  max: number;
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

/** ROC points sorted by false positive rate; points missing a coordinate are dropped. */
export function rocPoints(metadata: Record<string, unknown> | undefined): RocPoint[] {
  const raw = metadata?.confidenceMetrics;
  const list = Array.isArray(raw) ? raw : raw && typeof raw === 'object' && Array.isArray((raw as { list?: unknown }).list) ? (raw as { list: unknown[] }).list : [];
  const pts: RocPoint[] = [];
  for (const p of list) {
    if (!p || typeof p !== 'object') continue;
    const o = p as Record<string, unknown>;
    const fpr = num(o.falsePositiveRate);
    const tpr = num(o.recall ?? o.truePositiveRate);
    const threshold = num(o.confidenceThreshold) ?? NaN;
    if (fpr === undefined || tpr === undefined) continue;
    pts.push({ fpr, tpr, threshold });
  }
  return pts.sort((a, b) => a.fpr - b.fpr || a.tpr - b.tpr);
}

/** Area under the ROC curve by the trapezoid rule over the given points. */
export function auc(points: RocPoint[]): number {
  let a = 0;
  for (let i = 1; i < points.length; i++) {
    a += ((points[i].fpr - points[i - 1].fpr) * (points[i].tpr + points[i - 1].tpr)) / 2;
  }
  return a;
}

export function confusionMatrix(metadata: Record<string, unknown> | undefined): ConfusionMatrix | null {
  const cm = metadata?.confusionMatrix as { annotationSpecs?: { displayName?: string }[]; rows?: ({ row?: unknown[] } | unknown[])[] } | undefined;
  if (!cm || typeof cm !== 'object') return null;
  const labels = (cm.annotationSpecs ?? []).map((a, i) => a?.displayName ?? String(i));
  const rows = (cm.rows ?? []).map((r) => {
    const arr = Array.isArray(r) ? r : (r?.row ?? []);
    return arr.map((v) => num(v) ?? 0);
  });
  if (!labels.length && !rows.length) return null;
  const n = Math.max(labels.length, rows.length);
  while (labels.length < n) labels.push(String(labels.length));
  const square = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => rows[i]?.[j] ?? 0));
  const max = Math.max(0, ...square.flat());
  return { labels, rows: square, max };
}

/** Scalar metrics of a system.Metrics artifact: numeric metadata entries (display_name excluded). */
export function scalarMetrics(metadata: Record<string, unknown> | undefined): [string, number][] {
  if (!metadata) return [];
  return Object.entries(metadata)
    .filter(([k, v]) => k !== 'display_name' && num(v) !== undefined && typeof v !== 'boolean')
    .map(([k, v]) => [k, num(v)!] as [string, number])
    .sort((a, b) => a[0].localeCompare(b[0]));
}

export interface Slice {
  slice: string;
  metadata: Record<string, unknown>;
}

export function slices(metadata: Record<string, unknown> | undefined): Slice[] {
  const raw = metadata?.evaluationSlices;
  if (!Array.isArray(raw)) return [];
  return raw
    .filter((s) => s && typeof s === 'object')
    .map((s) => {
      const o = s as Record<string, unknown>;
      return {
        slice: String(o.slice ?? ''),
        metadata: (o.sliceClassificationMetrics as Record<string, unknown>) ?? {},
      };
    });
}

export function formatMetric(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(3);
  return String(Number(v.toPrecision(4)));
}

const CLASS_KEYS = ['positive_class', 'roc_class', 'pos_label', 'positive_label'];

/**
 * The class a (binary, one-vs-rest) ROC curve is for, in words: KFP's
 * log_roc_curve does not record it, so look for it in the artifact's metadata,
 * then in the parameters the task (or run) was given; an index is named by the
 * confusion matrix's labels. Undefined when nothing says.
 */
export function rocClass(metadata: Record<string, unknown> | undefined, params: Record<string, unknown> | undefined = {}): string | undefined {
  const labels = confusionMatrix(metadata)?.labels ?? [];
  for (const source of [metadata ?? {}, params]) {
    for (const k of CLASS_KEYS) {
      const v = source[k];
      if (v === undefined || v === null || v === '') continue;
      const i = num(v);
      if (i !== undefined && Number.isInteger(i) && labels[i] !== undefined) return labels[i];
      return String(v);
    }
  }
  return undefined;
}

/** For each curve, the index of an earlier curve with the very same points (drawn on top of each other). */
export function coincidentCurves(curves: RocPoint[][]): (number | undefined)[] {
  const same = (a: RocPoint[], b: RocPoint[]) => a.length === b.length && a.every((p, i) => Math.abs(p.fpr - b[i].fpr) < 1e-9 && Math.abs(p.tpr - b[i].tpr) < 1e-9);
  return curves.map((c, i) => {
    const j = curves.slice(0, i).findIndex((d) => same(c, d));
    return j < 0 ? undefined : j;
  });
}
