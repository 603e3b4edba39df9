// For a Model artifact: a "Serve" button (to the Deployments page's form, prefilled) and the
// deployments that serve it (lineage model -> deployment). Drop <ModelServing artifact={a} />
// into any panel that shows an artifact; it renders nothing for other artifact types.
import { deploymentsApi } from '../api/deployments';
import type { Artifact } from '../api/types';
import { useAsync } from '../lib/hooks';
import { Link } from '../router';

// A full artifact (artifacts page) or a task's output reference (run page).
type Served = Pick<Artifact, 'type' | 'uri'> & { artifact_id?: string | null; name?: string; display_name?: string | null };

function suggestedName(a: Served): string {
  const base = (a.display_name || a.name || 'model').toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[-._]+|[-._]+$/g, '');
  return base || 'model';
}

export function ModelServing({ artifact }: { artifact: Served }) {
  const isModel = artifact.type === 'system.Model';
  const serving = useAsync(async () => (isModel ? (await deploymentsApi.list()).filter((d) => d.artifact_id === artifact.artifact_id || d.model_uri === artifact.uri) : []), [artifact.artifact_id, isModel]);
  if (!isModel) return null;
  const to = `/deployments?model=${encodeURIComponent(artifact.uri)}&name=${encodeURIComponent(suggestedName(artifact))}`;
  return (
    <div data-testid="model-serving">
      <h3>Served by</h3>
      {serving.data?.length ? (
        <ul>
          {serving.data.map((d) => (
            <li key={d.name}>
              <Link to={`/deployments/${encodeURIComponent(d.name)}`}>{d.name}</Link> <span className="muted">{d.state.toLowerCase()}</span>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">No deployment serves this model.</p>
      )}
      <Link className="btn small" to={to} data-testid="serve-model">
        Serve
      </Link>
    </div>
  );
}
