import { useEffect, useMemo, useState } from 'react';
import { ErrorBox, Loading } from '../../components/common';
import type { Async } from '../../lib/hooks';
import { specYaml } from './specYaml';

export type RunSpec = { pipeline_spec: Record<string, unknown>; platform_spec?: Record<string, unknown> | null };

/** The YAML the run ran, to read, download or save as a pipeline. */
export function SpecTab({ spec, fileName }: { spec: Async<RunSpec>; fileName: string }) {
  const text = useMemo(() => (spec.data ? specYaml(spec.data.pipeline_spec, spec.data.platform_spec) : ''), [spec.data]);
  // the download link points at a blob of the text, released when the text changes or the tab closes
  const [url, setUrl] = useState('');
  useEffect(() => {
    if (!text) return;
    const u = URL.createObjectURL(new Blob([text], { type: 'application/x-yaml' }));
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [text]);
  if (spec.error) return <ErrorBox error={spec.error} title="Could not load the run's pipeline spec" onRetry={spec.reload} />;
  if (!spec.data) return <Loading what="spec" />;
  return (
    <div className="card flush">
      <div className="toolbar">
        <span className="muted small">The pipeline spec this run ran (as the server stored it).</span>
        <span className="spacer" />
        <a className="btn small" href={url} download={fileName}>
          Download YAML
        </a>
      </div>
      <pre className="preview spec-yaml" data-testid="run-spec-yaml">
        {text}
      </pre>
    </div>
  );
}
