import { ModelServing } from '../../components/ModelServing';
import { ArtifactCard } from '../../components/ArtifactView';
import type { GNode } from '../../lib/graph';

/** The side panel of an artifact node. */
export function ArtifactPanel({ node, onClose }: { node: GNode; onClose: () => void }) {
  const t = node.task;
  return (
    <div className="side-panel" data-testid="side-panel">
      <div className="side-head">
        <div>
          <h2>{node.label}</h2>
          <div className="muted small">
            Output of {node.producer} · {node.artifactType}
          </div>
        </div>
        <button className="icon-btn" onClick={onClose} aria-label="Close panel">
          ×
        </button>
      </div>
      <div className="side-body padded">{node.artifact ? <><ArtifactCard a={node.artifact} /><ModelServing artifact={{ ...node.artifact, type: node.artifact.type ?? '', uri: node.artifact.uri ?? '' }} /></> : <p className="muted">Not produced{t ? ` (task is ${t.state.toLowerCase()})` : ''}.</p>}</div>
    </div>
  );
}
