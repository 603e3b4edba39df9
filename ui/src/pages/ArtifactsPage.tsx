import { useState } from 'react';
import { api } from '../api/client';
import { ArtifactCard } from '../components/ArtifactView';
import { ModelServing } from '../components/ModelServing';
import { EmptyState, ErrorBox, KV, Loading, PageHeader, Pager } from '../components/common';
import { formatDate } from '../lib/format';
import { useAsync } from '../lib/hooks';
import { Link } from '../router';

const TYPES = ['system.Dataset', 'system.Model', 'system.Metrics', 'system.ClassificationMetrics', 'system.SlicedClassificationMetrics', 'system.HTML', 'system.Markdown', 'system.Artifact'];

export function ArtifactsPage() {
  const [type, setType] = useState('');
  const [tokens, setTokens] = useState<string[]>(['']);
  const [pageSize, setPageSize] = useState(20);
  const token = tokens[tokens.length - 1];
  const list = useAsync(() => api.listArtifacts({ type: type || undefined, page_size: pageSize, page_token: token || undefined }), [type, pageSize, token]);
  const items = list.data?.items ?? [];
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
  return (
    <>
      <PageHeader title="Artifacts" subtitle="Everything tasks produced: datasets, models, metrics, reports." />
      <ErrorBox error={list.error} title="Could not load artifacts" onRetry={list.reload} />
      <div className="card flush">
        <div className="toolbar">
          <select value={type} onChange={(e) => { setType(e.target.value); setTokens(['']); }} aria-label="Filter by type">
            <option value="">All types</option>
            {TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </div>
        {list.loading && !list.data ? (
          <Loading what="artifacts" />
        ) : !items.length ? (
          <EmptyState title={type ? `No ${type} artifacts` : 'No artifacts yet'} action={<Link className="btn primary" to="/runs/new">Start a run</Link>}>
            Artifacts appear here when tasks write their outputs.
          </EmptyState>
        ) : (
          <table className="list">
            <thead>
              <tr>
                <th>Name</th>
                <th>Type</th>
                <th>Run</th>
                <th>URI</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {items.map((a) => (
                <tr key={a.artifact_id}>
                  <td>
                    <Link to={`/artifacts/${a.artifact_id}`}>
                      <strong>{a.display_name || a.name}</strong>
                    </Link>
                  </td>
                  <td>
                    <span className="tag">{a.type}</span>
                  </td>
                  <td>{a.run_id ? <RunName id={a.run_id} names={runNames.data} /> : '—'}</td>
                  <td>
                    <div className="cell-sub mono" style={{ maxWidth: 380 }} title={a.uri}>
                      {a.uri}
                    </div>
                  </td>
                  <td className="nowrap">{formatDate(a.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <Pager page={tokens.length - 1} hasPrev={tokens.length > 1} hasNext={!!list.data?.next_page_token} onPrev={() => setTokens((t) => t.slice(0, -1))} onNext={() => setTokens((t) => [...t, list.data!.next_page_token!])} pageSize={pageSize} onPageSize={(n) => { setPageSize(n); setTokens(['']); }} total={list.data?.total_size} />
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
  // the runs of the lineage by name (usually one or two runs)
  const runIds = a ? [...new Set([a.lineage?.producer?.run_id, ...(a.lineage?.consumers ?? []).map((c) => c.run_id)].filter((x): x is string => !!x))] : [];
  const runNames = useAsync(async () => {
    const runs = await Promise.all(runIds.slice(0, 20).map((id) => api.getRun(id).catch(() => undefined)));
    return new Map(runs.filter((x) => !!x).map((x) => [x!.run_id, x!.display_name || x!.run_id]));
  }, [runIds.join(',')]);
  return (
    <>
      <PageHeader crumbs={<Link to="/artifacts">Artifacts</Link>} title={a ? a.display_name || a.name : 'Artifact'} subtitle={a?.type} />
      <ErrorBox error={r.error} title="Could not load the artifact" onRetry={r.reload} />
      {!a ? (
        !r.error && <Loading />
      ) : (
        <div className="two-col" style={{ gridTemplateColumns: 'minmax(0, 3fr) minmax(0, 2fr)' }}>
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
                    ['Run', <RunName id={a.lineage.producer.run_id} names={runNames.data} />],
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
                          <RunName id={c.run_id} names={runNames.data} />
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
                  ['URI', <span className="mono" style={{ wordBreak: 'break-all' }}>{a.uri}</span>],
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
