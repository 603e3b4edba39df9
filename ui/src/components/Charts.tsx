import { useState } from 'react';
import { auc, coincidentCurves, formatMetric, type ConfusionMatrix, type RocPoint } from '../lib/metrics';

export const SERIES_COLORS = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563', '#65a30d', '#9333ea'];

export interface RocSeries {
  label: string;
  points: RocPoint[];
}

/** ROC curves (FPR on x, TPR on y), hand-drawn SVG with a hover readout. */
export function RocChart({ series, width = 420, height = 320 }: { series: RocSeries[]; width?: number; height?: number }) {
  const [hover, setHover] = useState<{ s: number; p: RocPoint } | null>(null);
  const m = { l: 44, r: 12, t: 12, b: 38 };
  const w = width - m.l - m.r;
  const h = height - m.t - m.b;
  const x = (v: number) => m.l + v * w;
  const y = (v: number) => m.t + (1 - v) * h;
  const ticks = [0, 0.2, 0.4, 0.6, 0.8, 1];
  const shown = series.slice(0, 10);
  // a curve equal to an earlier one hides it: draw it dashed and say so in the legend
  const sameAs = coincidentCurves(shown.map((s) => s.points));
  return (
    <div className="roc-chart" data-testid="roc-curve">
      <svg
        width={width}
        height={height}
        role="img"
        aria-label="ROC curve"
        onMouseLeave={() => setHover(null)}
        onMouseMove={(e) => {
          const rect = (e.currentTarget as SVGSVGElement).getBoundingClientRect();
          const fx = (e.clientX - rect.left - m.l) / w;
          const fy = 1 - (e.clientY - rect.top - m.t) / h;
          let best: { s: number; p: RocPoint; d: number } | null = null;
          shown.forEach((s, si) =>
            s.points.forEach((p) => {
              const d = (p.fpr - fx) ** 2 + (p.tpr - fy) ** 2;
              if (!best || d < best.d) best = { s: si, p, d };
            }),
          );
          const b = best as { s: number; p: RocPoint; d: number } | null;
          setHover(b && b.d < 0.01 ? { s: b.s, p: b.p } : null);
        }}
      >
        {ticks.map((t) => (
          <g key={t}>
            <line x1={x(t)} x2={x(t)} y1={m.t} y2={m.t + h} stroke="#eef0f3" />
            <line x1={m.l} x2={m.l + w} y1={y(t)} y2={y(t)} stroke="#eef0f3" />
            <text x={x(t)} y={m.t + h + 14} fontSize="10.5" textAnchor="middle" fill="#667085">
              {t}
            </text>
            <text x={m.l - 6} y={y(t) + 3.5} fontSize="10.5" textAnchor="end" fill="#667085">
              {t}
            </text>
          </g>
        ))}
        <rect x={m.l} y={m.t} width={w} height={h} fill="none" stroke="#cdd2da" />
        <line x1={x(0)} y1={y(0)} x2={x(1)} y2={y(1)} stroke="#b8c0cc" strokeDasharray="4 4" />
        {shown.map((s, i) => (
          <polyline
            key={i}
            fill="none"
            stroke={SERIES_COLORS[i % SERIES_COLORS.length]}
            strokeWidth={2}
            strokeDasharray={sameAs[i] !== undefined ? '6 5' : undefined}
            points={s.points.map((p) => `${x(p.fpr)},${y(p.tpr)}`).join(' ')}
          />
        ))}
        {hover && (
          <g>
            <circle cx={x(hover.p.fpr)} cy={y(hover.p.tpr)} r={4} fill={SERIES_COLORS[hover.s % SERIES_COLORS.length]} />
            <text x={m.l + 8} y={m.t + 16} fontSize="11" fill="#1d2430">
              FPR {formatMetric(hover.p.fpr)} · TPR {formatMetric(hover.p.tpr)}
              {Number.isFinite(hover.p.threshold) ? ` · threshold ${formatMetric(hover.p.threshold)}` : ''}
            </text>
          </g>
        )}
        <text x={m.l + w / 2} y={height - 4} fontSize="11.5" textAnchor="middle" fill="#344054">
          False positive rate
        </text>
        <text x={12} y={m.t + h / 2} fontSize="11.5" textAnchor="middle" fill="#344054" transform={`rotate(-90 12 ${m.t + h / 2})`}>
          True positive rate
        </text>
      </svg>
      <div className="chart-legend">
        {shown.map((s, i) => (
          <span key={i}>
            <i className="swatch" style={{ background: SERIES_COLORS[i % SERIES_COLORS.length] }} />
            {s.label} (AUC {auc(s.points).toFixed(3)})
            {sameAs[i] !== undefined && (
              <span className="muted" data-testid="roc-coincide">
                {' '}
                — the same curve as {shown[sameAs[i]!].label}
              </span>
            )}
          </span>
        ))}
        {series.length > 10 && <span className="muted">showing the first 10 of {series.length} curves</span>}
      </div>
    </div>
  );
}

export function ConfusionMatrixView({ cm }: { cm: ConfusionMatrix }) {
  return (
    <div data-testid="confusion-matrix">
      <table className="cm">
        <thead>
          <tr>
            <th className="cm-axis right">
              actual ↓ / predicted →
            </th>
            {cm.labels.map((l) => (
              <th key={l}>{l}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {cm.rows.map((row, i) => (
            <tr key={i}>
              <th className="rowh">{cm.labels[i]}</th>
              {row.map((v, j) => {
                const a = cm.max ? v / cm.max : 0;
                return (
                  <td key={j} className="cell" style={{ background: `rgba(37, 99, 235, ${0.06 + a * 0.84})`, color: a > 0.5 ? '#fff' : '#1d2430', fontWeight: i === j ? 600 : 400 }} title={`actual ${cm.labels[i]}, predicted ${cm.labels[j]}: ${v}`}>
                    {formatMetric(v)}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
