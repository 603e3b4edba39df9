import { useState } from 'react';
import { api } from '../api/client';
import type { Pipeline } from '../api/types';
import { EmptyState, ErrorBox, Loading, Modal, PageHeader, Pager } from '../components/common';
import { buildNameFilter } from '../lib/filter';
import { formatDate } from '../lib/format';
import { useAsync } from '../lib/hooks';
import { Link, navigate } from '../router';

export function UploadDialog({ onClose, onDone, pipeline }: { onClose: () => void; onDone: (p: { pipeline_id: string; pipeline_version_id?: string }) => void; pipeline?: Pipeline }) {
  const [file, setFile] = useState<File | null>(null);
  const [name, setName] = useState('');
  const [nameTouched, setNameTouched] = useState(false);
  const [description, setDescription] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const onFile = (f: File | null) => {
    setFile(f);
    setError(undefined);
    if (f && !nameTouched) setName(f.name.replace(/\.(ya?ml|json|zip|tar\.gz|tgz)$/i, ''));
  };
  const submit = async () => {
    if (!file) return setError('Choose a pipeline file first.');
    if (!name.trim()) return setError('Give the pipeline a name.');
    setBusy(true);
    setError(undefined);
    try {
      if (pipeline) {
        const v = await api.uploadVersion(pipeline.pipeline_id, file, name.trim(), description);
        onDone({ pipeline_id: pipeline.pipeline_id, pipeline_version_id: v.pipeline_version_id });
      } else {
        const p = await api.uploadPipeline(file, name.trim(), description);
        onDone({ pipeline_id: p.pipeline_id });
      }
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      title={pipeline ? `Upload a new version of ${pipeline.display_name ?? pipeline.name}` : 'Upload pipeline'}
      onClose={onClose}
      footer={
        <>
          <button className="btn" onClick={onClose}>
            Cancel
          </button>
          <button className="btn primary" onClick={submit} disabled={busy || !file} data-testid="upload-submit">
            {busy ? 'Uploading…' : 'Upload'}
          </button>
        </>
      }
    >
      {error && (
        <div className="error-box" role="alert" data-testid="upload-error">
          <strong>Upload failed</strong>
          <span>{error}</span>
        </div>
      )}
      <div className="form-row">
        <label htmlFor="upload-file">Pipeline file</label>
        <input id="upload-file" type="file" accept=".yaml,.yml,.json,.zip,.tar.gz,.tgz" onChange={(e) => onFile(e.target.files?.[0] ?? null)} />
        <span className="hint">A pipeline compiled with kfp (YAML or JSON), or a .zip / .tar.gz holding one.</span>
      </div>
      <div className="form-row">
        <label htmlFor="upload-name">{pipeline ? 'Version name' : 'Pipeline name'}</label>
        <input
          id="upload-name"
          type="text"
          value={name}
          onChange={(e) => {
            setName(e.target.value);
            setNameTouched(true);
          }}
        />
      </div>
      <div className="form-row">
        <label htmlFor="upload-desc">Description</label>
        <textarea id="upload-desc" rows={2} value={description} onChange={(e) => setDescription(e.target.value)} style={{ fontFamily: 'inherit' }} />
      </div>
    </Modal>
  );
}

export function PipelinesPage() {
  const [pageSize, setPageSize] = useState(20);
  const [tokens, setTokens] = useState<string[]>(['']);
  const [search, setSearch] = useState('');
  const [sortDesc, setSortDesc] = useState(true);
  const [upload, setUpload] = useState(false);
  const token = tokens[tokens.length - 1];
  const list = useAsync(
    () => api.listPipelines({ page_size: pageSize, page_token: token || undefined, sort_by: `created_at${sortDesc ? ' desc' : ''}`, filter: buildNameFilter(search) }),
    [pageSize, token, search, sortDesc],
  );
  const items = list.data?.items ?? [];
  return (
    <>
      <PageHeader
        title="Pipelines"
        subtitle="Compiled KFP pipelines you can run. Upload a YAML produced by kfp's compiler."
        actions={
          <button className="btn primary" onClick={() => setUpload(true)}>
            + Upload pipeline
          </button>
        }
      />
      <ErrorBox error={list.error} title="Could not load pipelines" onRetry={list.reload} />
      <div className="card flush">
        <div className="toolbar">
          <input
            type="search"
            placeholder="Filter by name"
            value={search}
            onChange={(e) => {
              setSearch(e.target.value);
              setTokens(['']);
            }}
            style={{ width: 280 }}
          />
        </div>
        {list.loading && !list.data ? (
          <Loading what="pipelines" />
        ) : items.length === 0 ? (
          <EmptyState
            title={search ? 'No pipeline matches this filter' : 'No pipelines yet'}
            action={
              !search && (
                <button className="btn primary" onClick={() => setUpload(true)}>
                  Upload a pipeline
                </button>
              )
            }
          >
            {!search && (
              <>
                Compile one with <code>kfp.compiler.Compiler().compile(my_pipeline, "pipeline.yaml")</code> and upload the YAML.
              </>
            )}
          </EmptyState>
        ) : (
          <table className="list">
            <thead>
              <tr>
                <th>Name</th>
                <th>Description</th>
                <th>Versions</th>
                <th className="sortable" onClick={() => setSortDesc((s) => !s)}>
                  Created {sortDesc ? '↓' : '↑'}
                </th>
                <th />
              </tr>
            </thead>
            <tbody>
              {items.map((p) => (
                <PipelineRow key={p.pipeline_id} p={p} />
              ))}
            </tbody>
          </table>
        )}
        <Pager
          page={tokens.length - 1}
          hasPrev={tokens.length > 1}
          hasNext={!!list.data?.next_page_token}
          onPrev={() => setTokens((t) => t.slice(0, -1))}
          onNext={() => setTokens((t) => [...t, list.data!.next_page_token!])}
          pageSize={pageSize}
          onPageSize={(n) => {
            setPageSize(n);
            setTokens(['']);
          }}
          total={list.data?.total_size}
        />
      </div>
      {upload && <UploadDialog onClose={() => setUpload(false)} onDone={(r) => navigate(`/pipelines/${r.pipeline_id}`)} />}
    </>
  );
}

function PipelineRow({ p }: { p: Pipeline }) {
  return (
    <tr>
      <td>
        <Link to={`/pipelines/${p.pipeline_id}`}>
          <strong>{p.display_name || p.name || p.pipeline_id}</strong>
        </Link>
      </td>
      <td className="muted">
        <div className="cell-sub" style={{ fontSize: 13 }}>{p.description || '—'}</div>
      </td>
      <td>
        <VersionCount pipelineId={p.pipeline_id} />
      </td>
      <td className="nowrap">{formatDate(p.created_at)}</td>
      <td style={{ textAlign: 'right' }}>
        <Link to={`/runs/new?pipeline=${p.pipeline_id}`} className="btn small">
          Create run
        </Link>
      </td>
    </tr>
  );
}

function VersionCount({ pipelineId }: { pipelineId: string }) {
  const r = useAsync(() => api.listVersions(pipelineId, { page_size: 1 }), [pipelineId]);
  if (r.error) return <span className="muted" title={r.error}>?</span>;
  if (!r.data) return <span className="muted">…</span>;
  const n = r.data.total_size ?? r.data.items.length;
  return <span>{n}</span>;
}
