import { useEffect, type ReactNode } from 'react';
import type { RuntimeState } from '../api/types';
import { visualState, type VisualState } from '../lib/graph';

const STATE_TEXT: Record<VisualState, string> = {
  pending: 'Pending',
  running: 'Running',
  succeeded: 'Succeeded',
  failed: 'Failed',
  skipped: 'Skipped',
  cached: 'Cached',
  canceled: 'Canceled',
  none: 'Not run',
};

export function StateIcon({ state, size = 14 }: { state: VisualState; size?: number }) {
  const s = size;
  const c = s / 2;
  const r = s / 2 - 1;
  switch (state) {
    case 'succeeded':
      return (
        <svg width={s} height={s} viewBox={`0 0 ${s} ${s}`} className="state-icon succeeded" aria-hidden>
          <circle cx={c} cy={c} r={r} />
          <path d={`M${s * 0.28} ${s * 0.52} L${s * 0.44} ${s * 0.68} L${s * 0.72} ${s * 0.36}`} />
        </svg>
      );
    case 'cached':
      return (
        <svg width={s} height={s} viewBox={`0 0 ${s} ${s}`} className="state-icon cached" aria-hidden>
          <circle cx={c} cy={c} r={r} />
          <path d={`M${s * 0.3} ${s * 0.5} L${s * 0.7} ${s * 0.5} M${s * 0.5} ${s * 0.3} L${s * 0.5} ${s * 0.7}`} />
        </svg>
      );
    case 'failed':
      return (
        <svg width={s} height={s} viewBox={`0 0 ${s} ${s}`} className="state-icon failed" aria-hidden>
          <circle cx={c} cy={c} r={r} />
          <path d={`M${s * 0.33} ${s * 0.33} L${s * 0.67} ${s * 0.67} M${s * 0.67} ${s * 0.33} L${s * 0.33} ${s * 0.67}`} />
        </svg>
      );
    case 'running':
      return (
        <svg width={s} height={s} viewBox={`0 0 ${s} ${s}`} className="state-icon running spin" aria-hidden>
          <circle cx={c} cy={c} r={r - 1} />
        </svg>
      );
    case 'skipped':
      return (
        <svg width={s} height={s} viewBox={`0 0 ${s} ${s}`} className="state-icon skipped" aria-hidden>
          <circle cx={c} cy={c} r={r} />
          <path d={`M${s * 0.3} ${s * 0.5} L${s * 0.7} ${s * 0.5}`} />
        </svg>
      );
    case 'canceled':
      return (
        <svg width={s} height={s} viewBox={`0 0 ${s} ${s}`} className="state-icon canceled" aria-hidden>
          <circle cx={c} cy={c} r={r} />
          <path d={`M${s * 0.28} ${s * 0.72} L${s * 0.72} ${s * 0.28}`} />
        </svg>
      );
    default:
      return (
        <svg width={s} height={s} viewBox={`0 0 ${s} ${s}`} className={`state-icon ${state}`} aria-hidden>
          <circle cx={c} cy={c} r={r} />
        </svg>
      );
  }
}

export function StatusBadge({ state, cached }: { state: RuntimeState | undefined; cached?: boolean }) {
  const v = visualState(state, cached);
  return (
    <span className={`badge state-${v}`} data-state={state ?? 'NONE'}>
      <StateIcon state={v} />
      {state === 'CANCELING' ? 'Canceling' : state === 'PAUSED' ? 'Paused' : STATE_TEXT[v]}
    </span>
  );
}

export function ErrorBox({ error, title, onRetry }: { error: string | undefined; title?: string; onRetry?: () => void }) {
  if (!error) return null;
  return (
    <div className="error-box" role="alert">
      <strong>{title ?? 'Something went wrong'}</strong>
      <span>{error}</span>
      {onRetry && (
        <button className="btn small" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function EmptyState({ title, children, action }: { title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className="empty">
      <div className="empty-title">{title}</div>
      {children && <div className="empty-body">{children}</div>}
      {action && <div className="empty-action">{action}</div>}
    </div>
  );
}

export function Loading({ what }: { what?: string }) {
  return <div className="loading">Loading{what ? ` ${what}` : ''}…</div>;
}

export function PageHeader({ title, subtitle, actions, crumbs }: { title: ReactNode; subtitle?: ReactNode; actions?: ReactNode; crumbs?: ReactNode }) {
  return (
    <div className="page-header">
      {crumbs && <div className="crumbs">{crumbs}</div>}
      <div className="page-header-row">
        <div>
          <h1>{title}</h1>
          {subtitle && <div className="subtitle">{subtitle}</div>}
        </div>
        {actions && <div className="actions">{actions}</div>}
      </div>
    </div>
  );
}

export function Tabs<T extends string>({ tabs, value, onChange }: { tabs: { id: T; label: ReactNode }[]; value: T; onChange: (t: T) => void }) {
  return (
    <div className="tabs" role="tablist">
      {tabs.map((t) => (
        <button key={t.id} role="tab" aria-selected={t.id === value} className={t.id === value ? 'tab active' : 'tab'} onClick={() => onChange(t.id)}>
          {t.label}
        </button>
      ))}
    </div>
  );
}

export function Modal({ title, children, onClose, footer }: { title: string; children: ReactNode; onClose: () => void; footer?: ReactNode }) {
  useEffect(() => {
    const k = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    window.addEventListener('keydown', k);
    return () => window.removeEventListener('keydown', k);
  }, [onClose]);
  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className="modal" role="dialog" aria-label={title}>
        <div className="modal-head">
          <h2>{title}</h2>
          <button className="icon-btn" aria-label="Close" onClick={onClose}>
            ×
          </button>
        </div>
        <div className="modal-body">{children}</div>
        {footer && <div className="modal-foot">{footer}</div>}
      </div>
    </div>
  );
}

export function KV({ rows }: { rows: [ReactNode, ReactNode][] }) {
  return (
    <table className="kv">
      <tbody>
        {rows.map(([k, v], i) => (
          <tr key={i}>
            <th>{k}</th>
            <td>{v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Pager({ page, hasPrev, hasNext, onPrev, onNext, pageSize, onPageSize, total }: {
  page: number;
  hasPrev: boolean;
  hasNext: boolean;
  onPrev: () => void;
  onNext: () => void;
  pageSize: number;
  onPageSize: (n: number) => void;
  total?: number;
}) {
  return (
    <div className="pager">
      <label>
        Rows per page{' '}
        <select value={pageSize} onChange={(e) => onPageSize(Number(e.target.value))}>
          {[10, 20, 50, 100].map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
      </label>
      <span className="muted">
        Page {page + 1}
        {total !== undefined ? ` · ${total.toLocaleString()} total` : ''}
      </span>
      <button className="btn small" disabled={!hasPrev} onClick={onPrev}>
        ‹ Previous
      </button>
      <button className="btn small" disabled={!hasNext} onClick={onNext}>
        Next ›
      </button>
    </div>
  );
}

/** Token-stack paging over KFP's page_token lists. */
export function nextTokens(tokens: string[], next: string | undefined): string[] {
  return next ? [...tokens, next] : tokens;
}
