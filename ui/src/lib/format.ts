export function parseTime(s: string | null | undefined): number | undefined {
  if (!s) return undefined;
  const t = Date.parse(s);
  // KFP sends 1970-01-01T00:00:00Z for "not set"
  if (!Number.isFinite(t) || t <= 0) return undefined;
  return t;
}

export function formatDate(s: string | null | undefined): string {
  const t = parseTime(s);
  if (t === undefined) return '—';
  const d = new Date(t);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const m = Math.floor(s / 60);
  const rs = Math.round(s % 60);
  if (m < 60) return `${m}m ${String(rs).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return `${h}h ${String(m % 60).padStart(2, '0')}m`;
}

/** Duration between start and end, or start and now while still going. */
export function durationBetween(start?: string | null, end?: string | null, now = Date.now()): number | undefined {
  const a = parseTime(start);
  if (a === undefined) return undefined;
  const b = parseTime(end);
  // still going: a start a moment "after" now (a clock tick behind, or clock skew) is 0, not unknown
  if (b === undefined) return Math.max(0, now - a);
  return b - a;
}

export function isFinished(state: string | undefined): boolean {
  return state === 'SUCCEEDED' || state === 'FAILED' || state === 'SKIPPED' || state === 'CANCELED';
}

export function shortId(id: string | undefined): string {
  return id ? id.slice(0, 8) : '';
}

export function valueText(v: unknown): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}
