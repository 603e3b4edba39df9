import { useMemo, useState, type ReactNode } from "react";
import { dump } from 'js-yaml';
import { api } from '../api/client';
import { EmptyState, ErrorBox, KV, Loading, PageHeader, Tabs } from '../components/common';
import { PipelineGraph } from '../components/Graph';
import { TagChips, TagEditor } from '../components/TagEditor';
import { buildScopeGraph, type GNode } from '../lib/graph';
import { formatDate } from '../lib/format';
import { useAsync } from '../lib/hooks';
import { component, executorOf, normalizeSpec, rootParameters, type PipelineSpec } from '../lib/spec';
import { typeLabel } from '../lib/params';
import { Link, navigate } from '../router';
import { UploadDialog } from './PipelinesPage';

type Tab = 'graph' | 'spec' | 'versions';

export function PipelineDetailPage({ pipelineId, versionId }: { pipelineId: string; versionId?: string }) {
  const [tab, setTab] = useState<Tab>('graph');
  const [scope, setScope] = useState('');
  const [selected, setSelected] = useState<GNode>();
  const [format, setFormat] = useState<'yaml' | 'json'>('yaml');
  const [upload, setUpload] = useState(false);
  const pipeline = useAsync(() => api.getPipeline(pipelineId), [pipelineId]);
  const versions = useAsync(() => api.listVersions(pipelineId, { page_size: 100, sort_by: 'created_at desc' }), [pipelineId]);
  const vid = versionId ?? versions.data?.items[0]?.pipeline_version_id;
  const version = useAsync(() => (vid ? api.getVersion(pipelineId, vid) : Promise.resolve(undefined)), [pipelineId, vid]);
  const spec = useMemo(() => normalizeSpec(version.data?.pipeline_spec), [version.data]);
  const graph = useMemo(() => (spec ? buildScopeGraph(spec, scope) : undefined), [spec, scope]);
  const specText = useMemo(() => {
    const raw = version.data?.pipeline_spec;
    if (!raw) return '';
    return format === 'yaml' ? dump(raw, { lineWidth: 120, noRefs: true }) : JSON.stringify(raw, null, 2);
  }, [version.data, format]);
  const p = pipeline.data;
  const name = p?.display_name || p?.name || pipelineId;
  const params = rootParameters(spec);

  return (
    <>
      <PageHeader
        crumbs={<Link to="/pipelines">Pipelines</Link>}
        title={name}
        subtitle={p?.description}
        actions={
          <>
            <button className="btn" onClick={() => setUpload(true)}>
              Upload version
            </button>
            <Link className="btn primary" to={`/runs/new?pipeline=${pipelineId}${vid ? `&version=${vid}` : ''}`}>
              Create run
            </Link>
          </>
        }
      />
      <ErrorBox error={pipeline.error} title="Could not load the pipeline" onRetry={pipeline.reload} />
      <ErrorBox error={versions.error} title="Could not load its versions" onRetry={versions.reload} />
      <ErrorBox error={version.error} title="Could not load the version" onRetry={version.reload} />
      <div className="stat-row">
        <div className="stat">
          <span className="k">Version</span>
          <span className="v">
            <select
              value={vid ?? ''}
              onChange={(e) => {
                setScope('');
                navigate(`/pipelines/${pipelineId}?version=${e.target.value}`, true);
              }}
            >
              {(versions.data?.items ?? []).map((v) => (
                <option key={v.pipeline_version_id} value={v.pipeline_version_id}>
                  {v.display_name || v.name || v.pipeline_version_id}
                </option>
              ))}
            </select>
          </span>
        </div>
        <div className="stat">
          <span className="k">Created</span>
          <span className="v">{formatDate(version.data?.created_at ?? p?.created_at)}</span>
        </div>
        <div className="stat">
          <span className="k">Parameters</span>
          <span className="v">{params.length ? params.map((x) => `${x.name}: ${x.literals ? x.literals.map((l) => JSON.stringify(l)).join(' | ') : typeLabel(x.type)}`).join(', ') : 'none'}</span>
        </div>
        <div className="stat">
          <span className="k">Pipeline tags</span>
          <span className="v">
            {p && (
              <TagEditor
                testId="pipeline-tags"
                tags={p.tags}
                onSave={async (tags) => {
                  await api.updatePipeline(pipelineId, { tags });
                  pipeline.reload();
                }}
              />
            )}
          </span>
        </div>
        <div className="stat">
          <span className="k">Version tags</span>
          <span className="v">
            {version.data && vid && (
              <TagEditor
                testId="version-tags"
                tags={version.data.tags}
                onSave={async (tags) => {
                  await api.updateVersion(pipelineId, vid, { tags });
                  version.reload();
                  versions.reload();
                }}
              />
            )}
          </span>
        </div>
        {spec?.sdkVersion && (
          <div className="stat">
            <span className="k">Compiled with</span>
            <span className="v">{spec.sdkVersion}</span>
          </div>
        )}
      </div>
      <Tabs<Tab>
        tabs={[
          { id: 'graph', label: 'Graph' },
          { id: 'spec', label: 'Pipeline spec' },
          { id: 'versions', label: `Versions${versions.data ? ` (${versions.data.total_size ?? versions.data.items.length})` : ''}` },
        ]}
        value={tab}
        onChange={setTab}
      />
      {tab === 'graph' &&
        (version.loading && !version.data ? (
          <Loading what="graph" />
        ) : !spec || !graph ? (
          <EmptyState title="No graph to show">This version has no pipeline spec the UI can read.</EmptyState>
        ) : (
          <div className="run-layout pipeline-layout">
            <div className="run-graph">
              <PipelineGraph graph={graph} fitKey={selected ? 'panel' : ''} selectedId={selected?.id} onSelect={setSelected} onOpen={(pth) => { setScope(pth); setSelected(undefined); }} onCrumb={setScope} />
            </div>
            {selected && <StaticNodePanel spec={spec} node={selected} scope={scope} onClose={() => setSelected(undefined)} />}
          </div>
        ))}
      {tab === 'spec' && (
        <div className="card">
          <div className="card-title">
            <div className="radio-row">
              <label>
                <input type="radio" checked={format === 'yaml'} onChange={() => setFormat('yaml')} /> YAML
              </label>
              <label>
                <input type="radio" checked={format === 'json'} onChange={() => setFormat('json')} /> JSON
              </label>
            </div>
            <button className="btn small" onClick={() => navigator.clipboard?.writeText(specText)}>
              Copy
            </button>
          </div>
          <pre className="spec-view">{specText}</pre>
        </div>
      )}
      {tab === 'versions' && (
        <div className="card flush">
          <table className="list">
            <thead>
              <tr>
                <th>Version</th>
                <th>Description</th>
                <th>Tags</th>
                <th>Created</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {(versions.data?.items ?? []).map((v) => (
                <tr key={v.pipeline_version_id} className={v.pipeline_version_id === vid ? 'selected' : ''}>
                  <td>
                    <Link to={`/pipelines/${pipelineId}?version=${v.pipeline_version_id}`} onClick={() => setTab('graph')}>
                      {v.display_name || v.name || v.pipeline_version_id}
                    </Link>
                  </td>
                  <td className="muted">{v.description || '—'}</td>
                  <td>
                    <TagChips tags={v.tags} />
                  </td>
                  <td>{formatDate(v.created_at)}</td>
                  <td className="right">
                    <Link className="btn small" to={`/runs/new?pipeline=${pipelineId}&version=${v.pipeline_version_id}`}>
                      Create run
                    </Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {upload && p && (
        <UploadDialog
          pipeline={p}
          onClose={() => setUpload(false)}
          onDone={(r) => {
            setUpload(false);
            versions.reload();
            navigate(`/pipelines/${pipelineId}?version=${r.pipeline_version_id}`, true);
          }}
        />
      )}
    </>
  );
}

function StaticNodePanel({ spec, node, onClose }: { spec: PipelineSpec; node: GNode; scope: string; onClose: () => void }) {
  // find the task spec by walking the scope is overkill here: components are unique by task name in most specs
  const taskSpec = findTaskSpec(spec, node);
  const comp = component(spec, taskSpec?.componentRef?.name);
  const ex = taskSpec ? executorOf(spec, taskSpec) : undefined;
  return (
    <div className="side-panel">
      <div className="side-head">
        <div>
          <h2>{node.label}</h2>
          <div className="muted small">{node.type === 'artifact' ? `Artifact · ${node.artifactType ?? ''}` : taskSpec?.componentRef?.name}</div>
        </div>
        <button className="icon-btn" onClick={onClose} aria-label="Close panel">
          ×
        </button>
      </div>
      <div className="side-body padded">
        {node.type === 'artifact' ? (
          <KV rows={[['Produced by', node.producer], ['Output', node.outputKey], ['Type', node.artifactType]]} />
        ) : (
          <>
            {taskSpec?.triggerPolicy?.condition && (
              <>
                <h3>Condition</h3>
                <pre className="preview">{taskSpec.triggerPolicy.condition}</pre>
              </>
            )}
            <h3>Inputs</h3>
            <KV
              rows={[
                ...Object.entries(comp?.inputDefinitions?.parameters ?? {}).map(([k, v]) => [k, <span className="mono">{typeLabel(v.parameterType ?? 'STRING')}{v.defaultValue !== undefined ? ` = ${JSON.stringify(v.defaultValue)}` : ''}</span>] as [string, ReactNode]),
                ...Object.entries(comp?.inputDefinitions?.artifacts ?? {}).map(([k, v]) => [k, <span className="mono">{v.artifactType?.schemaTitle}</span>] as [string, ReactNode]),
              ]}
            />
            <h3>Outputs</h3>
            <KV
              rows={[
                ...Object.entries(comp?.outputDefinitions?.parameters ?? {}).map(([k, v]) => [k, <span className="mono">{typeLabel(v.parameterType ?? 'STRING')}</span>] as [string, ReactNode]),
                ...Object.entries(comp?.outputDefinitions?.artifacts ?? {}).map(([k, v]) => [k, <span className="mono">{v.artifactType?.schemaTitle}</span>] as [string, ReactNode]),
              ]}
            />
            {ex?.container && (
              <>
                <h3>Container</h3>
                <KV rows={[['Image', <span className="mono">{ex.container.image}</span>]]} />
                <h3>Command</h3>
                <pre className="preview">{[...(ex.container.command ?? []), ...(ex.container.args ?? [])].join(' \\\n  ')}</pre>
              </>
            )}
          </>
        )}
      </div>
    </div>
  );
}

function findTaskSpec(spec: PipelineSpec, node: GNode) {
  const name = node.type === 'artifact' ? node.producer : node.id.replace(/^task:/, '');
  if (!name) return undefined;
  const dags = [spec.root?.dag, ...Object.values(spec.components ?? {}).map((c) => c.dag)];
  for (const d of dags) if (d?.tasks?.[name]) return d.tasks[name];
  return undefined;
}
