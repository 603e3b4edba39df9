import { useState } from 'react';
import { api } from '../api/client';
import { EmptyState, ErrorBox, Loading, Modal, PageHeader, Pager } from '../components/common';
import { RunsTable } from '../components/RunsTable';
import { buildNameFilter } from '../lib/filter';
import { formatDate } from '../lib/format';
import { useAsync } from '../lib/hooks';
import { Link, navigate } from '../router';

export function ExperimentsPage() {
  const [archived, setArchived] = useState(false);
  const [search, setSearch] = useState('');
  const [tokens, setTokens] = useState<string[]>(['']);
  const [pageSize, setPageSize] = useState(20);
  const [creating, setCreating] = useState(false);
  const [actionError, setActionError] = useState<string>();
  const token = tokens[tokens.length - 1];
  const filter = buildNameFilter(search, [{ key: 'storage_state', operation: archived ? 'EQUALS' : 'NOT_EQUALS', string_value: 'ARCHIVED' }]);
  const list = useAsync(() => api.listExperiments({ page_size: pageSize, page_token: token || undefined, sort_by: 'created_at desc', filter }), [pageSize, token, filter]);
  const items = list.data?.items ?? [];
  const act = async (fn: () => Promise<unknown>) => {
    setActionError(undefined);
    try {
      await fn();
    } catch (e) {
      setActionError((e as Error).message);
    }
    list.reload();
  };
  return (
    <>
      <PageHeader
        title="Experiments"
        subtitle="Groups of runs. Runs started without an experiment land in Default."
        actions={
          <button className="btn primary" onClick={() => setCreating(true)}>
            + Create experiment
          </button>
        }
      />
      <ErrorBox error={list.error} title="Could not load experiments" onRetry={list.reload} />
      <ErrorBox error={actionError} title="The action failed" />
      <div className="card flush">
        <div className="toolbar">
          <div className="tabs" style={{ margin: 0, border: 'none' }}>
            <button className={!archived ? 'tab active' : 'tab'} onClick={() => { setArchived(false); setTokens(['']); }}>
              Active
            </button>
            <button className={archived ? 'tab active' : 'tab'} onClick={() => { setArchived(true); setTokens(['']); }}>
              Archived
            </button>
          </div>
          <input type="search" placeholder="Filter by name" value={search} onChange={(e) => { setSearch(e.target.value); setTokens(['']); }} style={{ width: 240 }} />
        </div>
        {list.loading && !list.data ? (
          <Loading what="experiments" />
        ) : !items.length ? (
          <EmptyState title={archived ? 'No archived experiments' : search ? 'No experiment matches' : 'No experiments yet'} action={!archived && !search && <button className="btn primary" onClick={() => setCreating(true)}>Create an experiment</button>}>
            {!archived && !search && 'Experiments group related runs so you can compare them.'}
          </EmptyState>
        ) : (
          <table className="list">
            <thead>
              <tr>
                <th>Name</th>
                <th>Description</th>
                <th>Created</th>
                <th>Last run</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {items.map((x) => (
                <tr key={x.experiment_id}>
                  <td>
                    <Link to={`/experiments/${x.experiment_id}`}>
                      <strong>{x.display_name}</strong>
                    </Link>
                  </td>
                  <td className="muted">{x.description || '—'}</td>
                  <td className="nowrap">{formatDate(x.created_at)}</td>
                  <td className="nowrap">{formatDate(x.last_run_created_at)}</td>
                  <td style={{ textAlign: 'right' }}>
                    {archived ? (
                      <button className="btn small" onClick={() => act(() => api.unarchiveExperiment(x.experiment_id))}>
                        Restore
                      </button>
                    ) : (
                      <button className="btn small" onClick={() => act(() => api.archiveExperiment(x.experiment_id))}>
                        Archive
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <Pager page={tokens.length - 1} hasPrev={tokens.length > 1} hasNext={!!list.data?.next_page_token} onPrev={() => setTokens((t) => t.slice(0, -1))} onNext={() => setTokens((t) => [...t, list.data!.next_page_token!])} pageSize={pageSize} onPageSize={(n) => { setPageSize(n); setTokens(['']); }} total={list.data?.total_size} />
      </div>
      {creating && <CreateExperiment onClose={() => setCreating(false)} />}
    </>
  );
}

function CreateExperiment({ onClose }: { onClose: () => void }) {
  const [name, setName] = useState('');
  const [desc, setDesc] = useState('');
  const [error, setError] = useState<string>();
  const submit = async () => {
    try {
      const x = await api.createExperiment(name.trim(), desc);
      navigate(`/experiments/${x.experiment_id}`);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <Modal title="Create experiment" onClose={onClose} footer={<><button className="btn" onClick={onClose}>Cancel</button><button className="btn primary" disabled={!name.trim()} onClick={submit}>Create</button></>}>
      <ErrorBox error={error} title="Not created" />
      <div className="form-row">
        <label htmlFor="exp-name">Name</label>
        <input id="exp-name" type="text" value={name} onChange={(e) => setName(e.target.value)} autoFocus />
      </div>
      <div className="form-row">
        <label htmlFor="exp-desc">Description</label>
        <input id="exp-desc" type="text" value={desc} onChange={(e) => setDesc(e.target.value)} />
      </div>
    </Modal>
  );
}

export function ExperimentDetailPage({ experimentId }: { experimentId: string }) {
  const x = useAsync(() => api.getExperiment(experimentId), [experimentId]);
  const [err, setErr] = useState<string>();
  const archived = x.data?.storage_state === 'ARCHIVED';
  const toggle = async () => {
    try {
      await (archived ? api.unarchiveExperiment(experimentId) : api.archiveExperiment(experimentId));
      x.reload();
    } catch (e) {
      setErr((e as Error).message);
    }
  };
  return (
    <>
      <PageHeader
        crumbs={<Link to="/experiments">Experiments</Link>}
        title={<>{x.data?.display_name ?? 'Experiment'} {archived && <span className="tag archived">archived</span>}</>}
        subtitle={x.data?.description}
        actions={
          <>
            <button className="btn" onClick={toggle} disabled={!x.data}>
              {archived ? 'Restore' : 'Archive'}
            </button>
            <Link className="btn" to={`/runs/new?experiment=${experimentId}&recurring=1`}>
              Create recurring run
            </Link>
            <Link className="btn primary" to={`/runs/new?experiment=${experimentId}`}>
              Create run
            </Link>
          </>
        }
      />
      <ErrorBox error={x.error} title="Could not load the experiment" onRetry={x.reload} />
      <ErrorBox error={err} title="The action failed" />
      <RunsTable experimentId={experimentId} showExperiment={false} />
    </>
  );
}
