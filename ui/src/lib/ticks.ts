// Axis ticks at round durations (1, 2, 5 × 10^k ms; then seconds, minutes and
// hours people count in), so a timeline reads "0, 10 s, 20 s" and not "0, 7.3 s".

const STEPS = [
  1, 2, 5, 10, 20, 50, 100, 200, 500,
  1_000, 2_000, 5_000, 10_000, 15_000, 30_000,
  60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000,
  3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000,
];

export interface Axis {
  /** the axis end: the first round tick at or after the span */
  end: number;
  step: number;
  ticks: number[];
}

/** Round ticks covering [0, span] with about `target` intervals. */
export function durationAxis(span: number, target = 5): Axis {
  const want = Math.max(span, 1) / target;
  const step = STEPS.find((s) => s >= want) ?? Math.ceil(want / 86_400_000) * 86_400_000;
  const n = Math.max(1, Math.ceil(Math.max(span, 1) / step));
  return { end: n * step, step, ticks: Array.from({ length: n + 1 }, (_, i) => i * step) };
}

/** A round duration as a tick label: "500 ms", "15 s", "2m 30s", "1h". */
export function tickLabel(ms: number): string {
  if (ms === 0) return '0';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${ms / 1000} s`;
  if (ms < 3_600_000) {
    const m = Math.floor(ms / 60_000);
    const s = Math.round((ms % 60_000) / 1000);
    return s ? `${m}m ${s}s` : `${m}m`;
  }
  const h = Math.floor(ms / 3_600_000);
  const m = Math.round((ms % 3_600_000) / 60_000);
  return m ? `${h}h ${m}m` : `${h}h`;
}
