import { useName, type NameKind } from '../lib/names';
import { Link } from '../router';

function target(kind: NameKind, id: string, pipelineId?: string): string {
  if (kind === 'experiment') return `/experiments/${id}`;
  if (kind === 'run') return `/runs/${id}`;
  if (kind === 'version') return `/pipelines/${pipelineId}/versions/${id}`;
  return `/pipelines/${id}`;
}

/**
 * A link to a pipeline, version or experiment showing its name; while the name
 * loads (or when it could not be read) the short id, with the reason as tooltip.
 */
export function NameLink({ kind, id, pipelineId, full = false }: { kind: NameKind; id: string; pipelineId?: string; full?: boolean }) {
  const n = useName(kind, id, pipelineId);
  const text = n.name ?? (full ? id : id.slice(0, 8));
  return (
    <Link to={target(kind, id, pipelineId)} title={n.error ? `name not available: ${n.error}` : id} data-name-error={n.error ? 'true' : undefined}>
      {text}
    </Link>
  );
}
