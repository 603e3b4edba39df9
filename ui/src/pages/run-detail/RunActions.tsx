import { useState } from 'react';
import { api } from '../../api/client';
import type { Run } from '../../api/types';
import { isFinished } from '../../lib/format';
import type { RunLive } from '../../lib/live';
import { Link } from '../../router';

/** Terminate, retry, clone, archive or restore a run; save a package run as a pipeline. */
export function RunActions({ run, live, canSave, onSave, onError }: { run: Run; live: RunLive; canSave: boolean; onSave: () => void; onError: (message: string | undefined) => void }) {
  const [busy, setBusy] = useState<string>();
  const runId = run.run_id;
  const act = async (label: string, fn: () => Promise<unknown>) => {
    setBusy(label);
    onError(undefined);
    try {
      await fn();
      await live.reload();
    } catch (e) {
      onError(`${label}: ${(e as Error).message}`);
    } finally {
      setBusy(undefined);
    }
  };
  const archived = run.storage_state === 'ARCHIVED';
  return (
    <>
      {!isFinished(run.state) && (
        <button className="btn danger" disabled={!!busy || run.state === 'CANCELING'} onClick={() => act('Terminate', () => api.terminateRun(runId))}>
          Terminate
        </button>
      )}
      {(run.state === 'FAILED' || run.state === 'CANCELED') && (
        <button className="btn" disabled={!!busy} onClick={() => act('Retry', () => api.retryRun(runId))}>
          Retry
        </button>
      )}
      {canSave && (
        <button className="btn" onClick={onSave} data-testid="save-as-pipeline">
          Save as pipeline
        </button>
      )}
      <Link className="btn" to={`/runs/new?clone=${runId}`}>
        Clone
      </Link>
      {archived ? (
        <button className="btn" disabled={!!busy} onClick={() => act('Restore', () => api.unarchiveRun(runId))}>
          Restore
        </button>
      ) : (
        <button className="btn" disabled={!!busy} onClick={() => act('Archive', () => api.archiveRun(runId))}>
          Archive
        </button>
      )}
    </>
  );
}
