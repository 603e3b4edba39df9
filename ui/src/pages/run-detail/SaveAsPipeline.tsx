import { useEffect, useState } from 'react';
import { api, ApiError } from '../../api/client';
import type { Pipeline } from '../../api/types';
import { Modal } from '../../components/common';
import { rememberName } from '../../lib/names';
import { Link } from '../../router';
import { specYaml } from './specYaml';
import type { RunSpec } from './SpecTab';

export interface Saved {
  pipelineId: string;
  pipelineName: string;
  versionId?: string;
}

/**
 * Store the spec a run ran (a run from a package has no stored pipeline) as a new
 * pipeline, or as a new version of the pipeline of the same name when one exists.
 * It goes through the ordinary upload endpoints, as a YAML file.
 */
export function SaveAsPipelineDialog({ spec, defaultName, onClose, onSaved }: { spec: RunSpec; defaultName: string; onClose: () => void; onSaved: (s: Saved) => void }) {
  const [name, setName] = useState(defaultName);
  const [existing, setExisting] = useState<Pipeline | null>(null);
  const [mode, setMode] = useState<'pipeline' | 'version'>('pipeline');
  const [versionName, setVersionName] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  // is there already a pipeline of this name? then offer to add a version to it
  useEffect(() => {
    let live = true;
    const n = name.trim();
    if (!n) {
      setExisting(null);
      return;
    }
    const id = setTimeout(() => {
      api.getPipelineByName(n).then(
        (p) => {
          if (!live) return;
          setExisting(p);
          setMode('version');
        },
        (e: unknown) => {
          if (!live) return;
          setExisting(null);
          setMode('pipeline');
          if (!(e instanceof ApiError && e.status === 404)) setError((e as Error).message);
        },
      );
    }, 250);
    return () => {
      live = false;
      clearTimeout(id);
    };
  }, [name]);

  const submit = async () => {
    const n = name.trim();
    if (!n) return setError('Give the pipeline a name.');
    setBusy(true);
    setError(undefined);
    const file = new File([specYaml(spec.pipeline_spec, spec.platform_spec)], `${n}.yaml`, { type: 'application/x-yaml' });
    try {
      if (mode === 'version' && existing) {
        const v = await api.uploadVersion(existing.pipeline_id, file, versionName.trim(), '');
        rememberName('version', v.pipeline_version_id, v.display_name || v.name || v.pipeline_version_id, existing.pipeline_id);
        onSaved({ pipelineId: existing.pipeline_id, pipelineName: existing.display_name || n, versionId: v.pipeline_version_id });
      } else {
        const p = await api.uploadPipeline(file, n, '');
        rememberName('pipeline', p.pipeline_id, p.display_name || n);
        const vs = await api.listVersions(p.pipeline_id, { page_size: 1 });
        onSaved({ pipelineId: p.pipeline_id, pipelineName: p.display_name || n, versionId: vs.items[0]?.pipeline_version_id });
      }
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal
      title="Save as pipeline"
      onClose={onClose}
      footer={
        <>
          <button className="btn" onClick={onClose}>
            Cancel
          </button>
          <button className="btn primary" onClick={submit} disabled={busy || !name.trim()} data-testid="save-pipeline-submit">
            {busy ? 'Saving…' : mode === 'version' && existing ? 'Add version' : 'Create pipeline'}
          </button>
        </>
      }
    >
      {error && (
        <div className="error-box" role="alert" data-testid="save-pipeline-error">
          <strong>Not saved</strong>
          <span>{error}</span>
        </div>
      )}
      <div className="form-row">
        <label htmlFor="save-name">Pipeline name</label>
        <input id="save-name" type="text" value={name} onChange={(e) => setName(e.target.value)} />
      </div>
      {existing && (
        <div className="form-row" data-testid="save-pipeline-existing">
          <span className="hint">
            A pipeline named <Link to={`/pipelines/${existing.pipeline_id}`}>{existing.display_name || existing.name}</Link> exists.
          </span>
          <label className="radio-row">
            <input type="radio" checked={mode === 'version'} onChange={() => setMode('version')} /> Add this spec as a new version of it
          </label>
          <label className="radio-row">
            <input type="radio" checked={mode === 'pipeline'} onChange={() => setMode('pipeline')} /> Create another pipeline (the name must then differ)
          </label>
        </div>
      )}
      {mode === 'version' && existing && (
        <div className="form-row">
          <label htmlFor="save-version">Version name</label>
          <input id="save-version" type="text" value={versionName} placeholder="(generated)" onChange={(e) => setVersionName(e.target.value)} />
        </div>
      )}
    </Modal>
  );
}
