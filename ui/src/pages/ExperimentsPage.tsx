import { useState } from 'react';
import { api } from '../api/client';
import type { Experiment } from '../api/types';
import { EmptyState, ErrorBox, Modal, PageHeader } from '../components/common';
import { ListTable, type Column } from '../components/ListTable';
import { RunsTable } from '../components/RunsTable';
import { buildNameFilter } from '../lib/filter';
import { formatDate } from '../lib/format';
import { useAsync } from '../lib/hooks';
import { usePagedList } from '../lib/paging';
import { Link, navigate } from '../router';

export function ExperimentsPage() {
  const [archived, setArchived] = useState(false);
  const [search, setSearch] = useState('');
  const [creating, setCreating] = useState(false);
  const [actionError, setActionError] = useState<string>();
  const filter = buildNameFilter(search, [{ key: 'storage_state', operation: archived ? 'EQUALS' : 'NOT_EQUALS', string_value: 'ARCHIVED' }]);
  const paged = usePagedList((p) => api.listExperiments({ ...p, sort_by: 'created_at desc', filter }), [filter]);
  const act = async (fn: () => Promise<unknown>) => {
    setActionError(undefined);
    try {
      await fn();
    } catch (e) {
      setActionError((e as Error).message);
    }
    paged.list.reload();
  };
  const columns: Column<Experiment>[] = [
    {
      id: 'name',
      label: 'Name',
      cell: (x) => (
        <Link to={`/experiments/${x.experiment_id}`}>
          <strong>{x.display_name}</strong>
        </Link>
      ),
    },
    { id: 'description', label: 'Description', className: 'muted', cell: (x) => x.description || '—' },
    { id: 'created', label: 'Created', className: 'nowrap', cell: (x) => formatDate(x.created_at) },
    { id: 'last', label: 'Last run', className: 'nowrap', cell: (x) => formatDate(x.last_run_created_at) },
    {
      id: 'actions',
      label: '',
      className: 'right',
      cell: (x) =>
        archived ? (
          <button className="btn small" onClick={() => act(() => api.unarchiveExperiment(x.experiment_id))}>
            Restore
          </button>
        ) : (
          <button className="btn small" onClick={() => act(() => api.archiveExperiment(x.experiment_id))}>
            Archive
          </button>
        ),
    },
  ];
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
      <ErrorBox error={paged.list.error} title="Could not load experiments" onRetry={paged.list.reload} />
      <ErrorBox error={actionError} title="The action failed" />
      <div className="card flush">
        <div className="toolbar">
          <div className="tabs inline">
            <button className={!archived ? 'tab active' : 'tab'} onClick={() => setArchived(false)}>
              Active
            </button>
            <button className={archived ? 'tab active' : 'tab'} onClick={() => setArchived(true)}>
              Archived
            </button>
          </div>
          <input type="search" className="filter-input" placeholder="Filter by name" value={search} onChange={(e) => setSearch(e.target.value)} />
        </div>
        <ListTable
          paged={paged}
          columns={columns}
          rowKey={(x) => x.experiment_id}
          what="experiments"
          testId="experiments-table"
          empty={
            <EmptyState
              title={archived ? 'No archived experiments' : search ? 'No experiment matches' : 'No experiments yet'}
              action={
                !archived &&
                !search && (
                  <button className="btn primary" onClick={() => setCreating(true)}>
                    Create an experiment
                  </button>
                )
              }
            >
              {!archived && !search && 'Experiments group related runs so you can compare them.'}
            </EmptyState>
          }
        />
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
