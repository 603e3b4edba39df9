import { useState } from 'react';
import { api } from '../api/client';
import { ArtifactCard } from '../components/ArtifactView';
import type { Artifact } from '../api/types';
import { ModelServing } from '../components/ModelServing';
import { EmptyState, ErrorBox, KV, Loading, PageHeader } from '../components/common';
import { ListTable, type Column } from '../components/ListTable';
import { NameLink } from '../components/NameLink';
import { formatDate } from '../lib/format';
import { useAsync } from '../lib/hooks';
import { usePagedList } from '../lib/paging';
import { Link } from '../router';

const TYPES = ['system.Dataset', 'system.Model', 'system.Metrics', 'system.ClassificationMetrics', 'system.SlicedClassificationMetrics', 'system.HTML', 'system.Markdown', 'system.Artifact'];

export function ArtifactsPage() {
  const [type, setType] = useState('');
  const paged = usePagedList((p) => api.listArtifacts({ ...p, type: type || undefined }), [type]);
  const items = paged.items;
  // run names for the page: one list request filtered on the page's run ids
  const pageRunIds = [...new Set(items.map((a) => a.run_id).filter((x): x is string => !!x))];
  const runNames = useAsync(
    async () =>
      pageRunIds.length
        ? new Map(
            (await api.listRuns({ page_size: pageRunIds.length, filter: JSON.stringify({ predicates: [{ key: 'run_id', operation: 'IN', string_values: { values: pageRunIds } }] }) })).items.map((x) => [
              x.run_id,
              x.display_name || x.run_id,
            ]),
          )
        : new Map<string, string>(),
    [pageRunIds.join(',')],
  );
  const columns: Column<Artifact>[] = [
    {
      id: 'name',
      label: 'Name',
      cell: (a) => (
        <Link to={`/artifacts/${a.artifact_id}`}>
          <strong>{a.display_name || a.name}</strong>
        </Link>
      ),
    },
    { id: 'type', label: 'Type', cell: (a) => <span className="tag">{a.type}</span> },
    { id: 'run', label: 'Run', cell: (a) => (a.run_id ? <RunName id={a.run_id} names={runNames.data} /> : '—') },
    {
      id: 'uri',
      label: 'URI',
      cell: (a) => (
        <div className="cell-sub mono uri-cell" title={a.uri}>
          {a.uri}
        </div>
      ),
    },
    { id: 'created', label: 'Created', className: 'nowrap', cell: (a) => formatDate(a.created_at) },
  ];
  return (
    <>
      <PageHeader title="Artifacts" subtitle="Everything tasks produced: datasets, models, metrics, reports." />
      <ErrorBox error={paged.list.error} title="Could not load artifacts" onRetry={paged.list.reload} />
      {runNames.error && <ErrorBox error={runNames.error} title="Could not load the names of the runs" onRetry={runNames.reload} />}
      <div className="card flush">
        <div className="toolbar">
          <select value={type} onChange={(e) => setType(e.target.value)} aria-label="Filter by type">
            <option value="">All types</option>
            {TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </div>
        <ListTable
          paged={paged}
          columns={columns}
          rowKey={(a) => a.artifact_id}
          what="artifacts"
          testId="artifacts-table"
          empty={
            <EmptyState title={type ? `No ${type} artifacts` : 'No artifacts yet'} action={<Link className="btn primary" to="/runs/new">Start a run</Link>}>
              Artifacts appear here when tasks write their outputs.
            </EmptyState>
          }
        />
      </div>
    </>
  );
}

function RunName({ id, names }: { id: string; names: Map<string, string> | undefined }) {
  return (
    <Link to={`/runs/${id}`} title={id}>
      {names?.get(id) ?? id.slice(0, 8)}
    </Link>
  );
}

export function ArtifactDetailPage({ artifactId }: { artifactId: string }) {
  const r = useAsync(() => api.getArtifact(artifactId), [artifactId]);
  const a = r.data;
  return (
    <>
      <PageHeader crumbs={<Link to="/artifacts">Artifacts</Link>} title={a ? a.display_name || a.name : 'Artifact'} subtitle={a?.type} />
      <ErrorBox error={r.error} title="Could not load the artifact" onRetry={r.reload} />
      {!a ? (
        !r.error && <Loading />
      ) : (
        <div className="two-col wide-left">
          <div>
            <ArtifactCard a={a} showLink={false} />
          </div>
          <div>
            <div className="card" data-testid="lineage">
              <h2>Lineage</h2>
              <h3>Produced by</h3>
              {a.lineage?.producer ? (
                <KV
                  rows={[
                    ['Task', <Link to={`/runs/${a.lineage.producer.run_id}?task=${a.lineage.producer.task_id}`}>{a.lineage.producer.task_name}</Link>],
                    ['Run', <NameLink kind="run" id={a.lineage.producer.run_id} />],
                  ]}
                />
              ) : (
                <p className="muted">Imported or produced outside a task.</p>
              )}
              <h3>Consumed by</h3>
              {a.lineage?.consumers.length ? (
                <table className="list">
                  <thead>
                    <tr>
                      <th>Task</th>
                      <th>Input</th>
                      <th>Run</th>
                    </tr>
                  </thead>
                  <tbody>
                    {a.lineage.consumers.map((c, i) => (
                      <tr key={i}>
                        <td>
                          <Link to={`/runs/${c.run_id}?task=${c.task_id}`}>{c.task_name}</Link>
                        </td>
                        <td className="mono">{c.input_name}</td>
                        <td>
                          <NameLink kind="run" id={c.run_id} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              ) : (
                <p className="muted">No task has read it yet.</p>
              )}
              <ModelServing artifact={a} />
            </div>
            <div className="card">
              <h2>Details</h2>
              <KV
                rows={[
                  ['ID', <span className="mono">{a.artifact_id}</span>],
                  ['URI', <span className="mono break">{a.uri}</span>],
                  ['Digest', <span className="mono">{a.digest || '—'}</span>],
                  ['Created', formatDate(a.created_at)],
                ]}
              />
            </div>
          </div>
        </div>
      )}
    </>
  );
}
