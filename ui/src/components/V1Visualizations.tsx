// KFP v1 output viewers for a kfp 1.x step's `mlpipeline-ui-metadata` artifact. Not wired
// in yet: ArtifactVisualization (ArtifactView.tsx) can render
// `<V1Visualizations metadata={a.metadata} />` when `a.metadata.v1_ui_metadata` is present.
import { marked } from 'marked';
import DOMPurify from 'dompurify';
import { csvRows, v1ConfusionMatrix, v1Outputs, v1Roc, v1Text, type V1Output } from '../lib/v1metadata';
import { ConfusionMatrixView, RocChart } from './Charts';

function Viewer({ o }: { o: V1Output }) {
  const text = v1Text(o);
  switch (o.type) {
    case 'markdown':
      return text ? <div className="markdown" dangerouslySetInnerHTML={{ __html: DOMPurify.sanitize(marked.parse(text, { async: false }) as string) }} /> : null;
    case 'table': {
      const rows = text ? csvRows(text) : [];
      return (
        <table className="list" data-testid="v1-table">
          {o.header?.length ? (
            <thead>
              <tr>{o.header.map((h) => <th key={h}>{h}</th>)}</tr>
            </thead>
          ) : null}
          <tbody>
            {rows.slice(0, 200).map((r, i) => (
              <tr key={i}>{r.map((c, j) => <td key={j}>{c}</td>)}</tr>
            ))}
          </tbody>
        </table>
      );
    }
    case 'confusion_matrix': {
      const cm = v1ConfusionMatrix(o);
      return cm ? <ConfusionMatrixView cm={cm} /> : null;
    }
    case 'roc': {
      const points = v1Roc(o);
      return points.length ? <RocChart series={[{ label: 'ROC', points }]} /> : null;
    }
    case 'web-app':
      // The step's HTML, never with this page's origin or scripts.
      return text ? <iframe title="web app" sandbox="" srcDoc={text} style={{ width: '100%', height: 360, border: 0 }} /> : null;
    case 'tensorboard':
      return <div className="muted small">TensorBoard ({o.source}) is not available locally.</div>;
    default:
      return <div className="muted small">No local viewer for “{o.type}”.</div>;
  }
}

export function V1Visualizations({ metadata }: { metadata: Record<string, unknown> | undefined }) {
  const outputs = v1Outputs(metadata);
  if (!outputs.length) return null;
  return (
    <div className="viz" data-testid="v1-visualizations">
      {outputs.map((o, i) => (
        <div key={i} data-v1-type={o.type}>
          <div className="viz-title">{o.type.replace('_', ' ')}</div>
          {!v1Text(o) && o.type !== 'tensorboard' ? (
            <div className="muted small">The source {o.source ? `(${o.source})` : ''} could not be read locally.</div>
          ) : (
            <Viewer o={o} />
          )}
        </div>
      ))}
    </div>
  );
}
