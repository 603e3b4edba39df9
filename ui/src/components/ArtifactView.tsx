import { useMemo, useState } from 'react';
import { marked } from 'marked';
import DOMPurify from 'dompurify';
import { api } from '../api/client';
import type { ArtifactRef } from '../api/types';
import { parseDelimited } from '../lib/csv';
import { useAsync } from '../lib/hooks';
import { confusionMatrix, formatMetric, rocClass, rocPoints, scalarMetrics, slices } from '../lib/metrics';
import { valueText } from '../lib/format';
import { Link } from '../router';
import { ConfusionMatrixView, RocChart } from './Charts';
import { ErrorBox, KV, Loading } from './common';
import { V1Visualizations } from './V1Visualizations';

const PREVIEW_BYTES = 64 * 1024;

export function ArtifactCard({ a, title, showLink = true, params }: { a: ArtifactRef; title?: string; showLink?: boolean; params?: Record<string, unknown> }) {
  return (
    <div className="artifact-card" data-artifact-type={a.type} data-testid={`artifact-${a.name}`}>
      <div className="artifact-card-head">
        <div>
          <strong>{title ?? a.name}</strong> <span className="tag">{a.type}</span>
        </div>
        <div className="row-gap">
          {showLink && a.artifact_id && (
            <Link className="btn small" to={`/artifacts/${a.artifact_id}`}>
              Lineage
            </Link>
          )}
          {a.artifact_id && (
            <a className="btn small" href={api.artifactContentUrl(a.artifact_id, { download: true })} download>
              Download
            </a>
          )}
        </div>
      </div>
      <div className="uri">{a.uri}</div>
      <ArtifactVisualization a={a} params={params} />
    </div>
  );
}

/** `params`: the producing task's input parameters (they may say which class a ROC curve is for). */
export function ArtifactVisualization({ a, params }: { a: ArtifactRef; params?: Record<string, unknown> }) {
  const md = a.metadata ?? {};
  // A kfp 1.x step's mlpipeline-ui-metadata (tables, confusion matrix, ROC, markdown, web app).
  if (md.v1_ui_metadata) return <V1Visualizations metadata={md} />;
  switch (a.type) {
    case 'system.Metrics':
      return <MetricsTable metadata={md} />;
    case 'system.ClassificationMetrics':
      return <ClassificationView metadata={md} params={params} />;
    case 'system.SlicedClassificationMetrics':
      return <SlicedView metadata={md} />;
    case 'system.HTML':
      return a.artifact_id ? <HtmlView id={a.artifact_id} /> : null;
    case 'system.Markdown':
      return a.artifact_id ? <MarkdownView id={a.artifact_id} /> : null;
    default:
      return (
        <>
          <MetadataTable metadata={md} />
          {a.artifact_id && <ContentPreview id={a.artifact_id} />}
        </>
      );
  }
}

export function MetricsTable({ metadata }: { metadata: Record<string, unknown> }) {
  const scalars = scalarMetrics(metadata);
  const others = Object.entries(metadata).filter(([k, v]) => k !== 'display_name' && !scalars.some(([s]) => s === k) && v !== undefined);
  if (!scalars.length && !others.length) return <div className="muted small viz">No metrics were logged.</div>;
  return (
    <div className="viz" data-testid="metrics-table">
      <table className="list">
        <thead>
          <tr>
            <th>Metric</th>
            <th>Value</th>
          </tr>
        </thead>
        <tbody>
          {scalars.map(([k, v]) => (
            <tr key={k}>
              <td>{k}</td>
              <td className="mono">{formatMetric(v)}</td>
            </tr>
          ))}
          {others.map(([k, v]) => (
            <tr key={k}>
              <td>{k}</td>
              <td className="mono">{valueText(v)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function MetadataTable({ metadata }: { metadata: Record<string, unknown> }) {
  const entries = Object.entries(metadata).filter(([k]) => k !== 'display_name');
  if (!entries.length) return null;
  return (
    <div className="viz">
      <div className="viz-title">Metadata</div>
      <KV rows={entries.map(([k, v]) => [k, <span className="mono">{valueText(v)}</span>])} />
    </div>
  );
}

export function ClassificationView({ metadata, params }: { metadata: Record<string, unknown>; params?: Record<string, unknown> }) {
  const cm = confusionMatrix(metadata);
  const roc = rocPoints(metadata);
  const cls = rocClass(metadata, params);
  const rest = Object.fromEntries(Object.entries(metadata).filter(([k]) => k !== 'confusionMatrix' && k !== 'confidenceMetrics'));
  if (!cm && !roc.length) return <MetadataTable metadata={metadata} />;
  return (
    <div className="viz">
      {cm && (
        <>
          <div className="viz-title">Confusion matrix</div>
          <ConfusionMatrixView cm={cm} />
        </>
      )}
      {roc.length > 0 && (
        <>
          <div className="viz-title">ROC curve</div>
          <RocChart series={[{ label: cls ? `${cls} vs rest` : 'ROC', points: roc }]} width={400} height={300} />
        </>
      )}
      <MetadataTable metadata={rest} />
    </div>
  );
}

function SlicedView({ metadata }: { metadata: Record<string, unknown> }) {
  const ss = slices(metadata);
  const [i, setI] = useState(0);
  if (!ss.length) return <MetadataTable metadata={metadata} />;
  const cur = ss[Math.min(i, ss.length - 1)];
  return (
    <div className="viz" data-testid="sliced-metrics">
      <div className="radio-row wrap-row">
        <span className="muted small">Slice:</span>
        {ss.map((s, k) => (
          <button key={k} className={k === i ? 'btn small primary' : 'btn small'} onClick={() => setI(k)}>
            {s.slice || `slice ${k + 1}`}
          </button>
        ))}
      </div>
      <ClassificationView metadata={cur.metadata} />
    </div>
  );
}

const HTML_BYTES = 5 * 1024 * 1024;

function HtmlView({ id }: { id: string }) {
  // The page is passed as srcdoc, not src: KFP writes HTML artifacts to files without
  // an extension, which the server sends as application/octet-stream (a blank frame).
  const r = useAsync(() => api.artifactText(id, HTML_BYTES), [id]);
  if (r.error) return <ErrorBox error={r.error} title="Could not read the HTML" />;
  if (!r.data) return <Loading what="HTML" />;
  return (
    <div className="viz">
      {/* scripts may run but the page gets a unique origin: it cannot touch pipeyard */}
      <iframe className="html-viz" title="HTML artifact" sandbox="allow-scripts" srcDoc={r.data.text} />
      {r.data.text.length >= HTML_BYTES - 4 && <div className="muted small">Only the first 5 MB are shown: use Download for the whole page.</div>}
    </div>
  );
}

function MarkdownView({ id }: { id: string }) {
  const r = useAsync(() => api.artifactText(id, 512 * 1024), [id]);
  const html = useMemo(() => (r.data ? DOMPurify.sanitize(marked.parse(r.data.text, { async: false }) as string) : ''), [r.data]);
  if (r.error) return <ErrorBox error={r.error} title="Could not read the markdown" />;
  if (!r.data) return <Loading />;
  return <div className="viz markdown" dangerouslySetInnerHTML={{ __html: html }} />;
}

function looksBinary(s: string): boolean {
  const sample = s.slice(0, 2000);
  let bad = 0;
  for (let i = 0; i < sample.length; i++) {
    const c = sample.charCodeAt(i);
    if (c === 0xfffd || (c < 9 && c !== 0)) bad++;
    if (c === 0) return true;
  }
  return bad > sample.length * 0.05;
}

export function ContentPreview({ id }: { id: string }) {
  const r = useAsync(() => api.artifactText(id, PREVIEW_BYTES), [id]);
  if (r.error) return <div className="muted small viz">Preview unavailable: {r.error}</div>;
  if (!r.data) return <Loading what="preview" />;
  const { text, contentType } = r.data;
  if (!text) return <div className="muted small viz">The artifact is empty.</div>;
  if (looksBinary(text)) return <div className="muted small viz">Binary content ({contentType || 'unknown type'}): use Download.</div>;
  const truncated = text.length >= PREVIEW_BYTES - 4;
  let body: React.ReactNode = null;
  const trimmed = text.trimStart();
  if (/json/.test(contentType) || ((trimmed.startsWith('{') || trimmed.startsWith('[')) && !truncated)) {
    try {
      body = <pre className="preview">{JSON.stringify(JSON.parse(text), null, 2).slice(0, 20000)}</pre>;
    } catch {
      /* not JSON after all */
    }
  }
  if (!body && !/html/.test(contentType)) {
    const t = parseDelimited(text, 20, truncated);
    if (t && t.rows.length && t.header.length >= 2) {
      body = (
        <table className="preview-table" data-testid="dataset-preview">
          <thead>
            <tr>
              {t.header.map((h, i) => (
                <th key={i}>{h}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {t.rows.map((row, i) => (
              <tr key={i}>
                {row.map((c, j) => (
                  <td key={j}>{c}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      );
    }
  }
  if (!body) body = <pre className="preview">{text.split('\n').slice(0, 40).join('\n')}</pre>;
  return (
    <div className="viz">
      <div className="viz-title">Preview {truncated ? '(first 64 KB)' : ''}</div>
      {body}
    </div>
  );
}
