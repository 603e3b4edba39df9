import type { Run, Task } from '../../api/types';
import { StateIcon } from '../../components/common';
import { summarizeError } from './summarizeError';

export function FailureBanner({ run, failed, onOpen }: { run: Run; failed: Task[]; onOpen: (t: Task) => void }) {
  const msg = run.error?.message || failed[0]?.error || 'The run failed.';
  return (
    <div className="banner failed" role="alert" data-testid="failure-banner">
      <StateIcon state="failed" size={20} />
      <div className="banner-body">
        <strong>This run failed</strong>
        {failed.length > 0 && (
          <span>
            {' '}
            in{' '}
            {failed.map((t, i) => (
              <span key={t.task_id}>
                {i > 0 && ', '}
                <button className="btn small" onClick={() => onOpen(t)}>
                  {t.display_name || t.name}
                  {t.path.includes('[') ? ` (${t.path})` : ''}
                </button>
              </span>
            ))}
          </span>
        )}
        <div className="banner-summary">
          <strong className="mono">{summarizeError(msg)}</strong>
        </div>
        {msg.includes('\n') && (
          <details>
            <summary className="small clickable">Full error</summary>
            <pre>{msg}</pre>
          </details>
        )}
      </div>
    </div>
  );
}
