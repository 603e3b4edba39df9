import type { Run } from '../../api/types';
import { NameLink } from '../../components/NameLink';

/** "Pipeline X · version Y" of a run, or the spec's name for a run from a package. */
export function RunPipeline({ run, full = false }: { run: Run; full?: boolean }) {
  const ref = run.pipeline_version_reference;
  if (ref?.pipeline_id) {
    return (
      <span data-testid="run-pipeline">
        <NameLink kind="pipeline" id={ref.pipeline_id} full={full} />
        {ref.pipeline_version_id && (
          <>
            {' '}
            · version <NameLink kind="version" id={ref.pipeline_version_id} pipelineId={ref.pipeline_id} full={full} />
          </>
        )}
      </span>
    );
  }
  return (
    <span data-testid="run-pipeline">
      {run.pipeline_name || 'unnamed pipeline'} <span className="tag" title="Run from a pipeline package: no stored pipeline or version">package</span>
    </span>
  );
}
