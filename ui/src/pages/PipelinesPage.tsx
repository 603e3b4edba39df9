import { useState } from 'react';
import { api } from '../api/client';
import type { Pipeline } from '../api/types';
import { EmptyState, ErrorBox, Modal, PageHeader } from '../components/common';
import { ListTable, type Column } from '../components/ListTable';
import { TagChips } from '../components/TagEditor';
import { buildNameFilter, tagPredicates } from '../lib/filter';
import { formatDate } from '../lib/format';
import { useAsync } from '../lib/hooks';
import { usePagedList } from '../lib/paging';
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
        <textarea id="upload-desc" rows={2} value={description} onChange={(e) => setDescription(e.target.value)} className="inherit-font" />
      </div>
    </Modal>
  );
}

export function PipelinesPage() {
  const [search, setSearch] = useState('');
  const [tagFilter, setTagFilter] = useState('');
  const [sortDesc, setSortDesc] = useState(true);
  const [upload, setUpload] = useState(false);
  const paged = usePagedList(
    (p) => api.listPipelines({ ...p, sort_by: `created_at${sortDesc ? ' desc' : ''}`, filter: buildNameFilter(search, tagPredicates(tagFilter)) }),
    [search, tagFilter, sortDesc],
  );
  const filtering = !!search || tagPredicates(tagFilter).length > 0;
  const columns: Column<Pipeline>[] = [
    {
      id: 'name',
      label: 'Name',
      cell: (p) => (
        <Link to={`/pipelines/${p.pipeline_id}`}>
          <strong>{p.display_name || p.name || p.pipeline_id}</strong>
        </Link>
      ),
    },
    { id: 'description', label: 'Description', className: 'muted', cell: (p) => <div className="cell-sub">{p.description || '—'}</div> },
    { id: 'tags', label: 'Tags', cell: (p) => <TagChips tags={p.tags} /> },
    { id: 'versions', label: 'Versions', cell: (p) => <VersionCount pipelineId={p.pipeline_id} /> },
    { id: 'created', label: 'Created', className: 'nowrap', sort: { active: true, desc: sortDesc, onClick: () => setSortDesc((s) => !s) }, cell: (p) => formatDate(p.created_at) },
    {
      id: 'actions',
      label: '',
      className: 'right',
      cell: (p) => (
        <Link to={`/runs/new?pipeline=${p.pipeline_id}`} className="btn small">
          Create run
        </Link>
      ),
    },
  ];
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
      <ErrorBox error={paged.list.error} title="Could not load pipelines" onRetry={paged.list.reload} />
      <div className="card flush">
        <div className="toolbar">
          <input type="search" className="filter-input wide" placeholder="Filter by name" value={search} onChange={(e) => setSearch(e.target.value)} />
          <input type="search" className="filter-input" placeholder="Filter by tag: team=ml" aria-label="Filter by tag" value={tagFilter} onChange={(e) => setTagFilter(e.target.value)} />
        </div>
        <ListTable
          paged={paged}
          columns={columns}
          rowKey={(p) => p.pipeline_id}
          what="pipelines"
          testId="pipelines-table"
          empty={
            <EmptyState
              title={filtering ? 'No pipeline matches this filter' : 'No pipelines yet'}
              action={
                !filtering && (
                  <button className="btn primary" onClick={() => setUpload(true)}>
                    Upload a pipeline
                  </button>
                )
              }
            >
              {!filtering && (
                <>
                  Compile one with <code>kfp.compiler.Compiler().compile(my_pipeline, "pipeline.yaml")</code> and upload the YAML.
                </>
              )}
            </EmptyState>
          }
        />
      </div>
      {upload && <UploadDialog onClose={() => setUpload(false)} onDone={(r) => navigate(`/pipelines/${r.pipeline_id}`)} />}
    </>
  );
}

function VersionCount({ pipelineId }: { pipelineId: string }) {
  const r = useAsync(() => api.listVersions(pipelineId, { page_size: 1 }), [pipelineId]);
  if (r.error) return <span className="muted" title={r.error}>?</span>;
  if (!r.data) return <span className="muted">…</span>;
  const n = r.data.total_size ?? r.data.items.length;
  return <span>{n}</span>;
}
