import { useMemo } from 'react';
import { api } from '../api/client';
import type { Artifact, Run } from '../api/types';
import { RocChart, type RocSeries } from '../components/Charts';
import { ConfusionMatrixView } from '../components/Charts';
import { EmptyState, ErrorBox, Loading, PageHeader, StatusBadge } from '../components/common';
import { durationBetween, formatDuration, valueText } from '../lib/format';
import { useAsync } from '../lib/hooks';
import { confusionMatrix, formatMetric, rocClass, rocPoints, scalarMetrics } from '../lib/metrics';
import { Link } from '../router';

export interface CompareData {
  run: Run;
  artifacts: Artifact[];
}

/** Rows of parameter values per run, flagging rows whose values differ. */
export function paramRows(runs: Run[]): { name: string; values: string[]; differs: boolean }[] {
  const names = [...new Set(runs.flatMap((r) => Object.keys(r.runtime_config?.parameters ?? {})))].sort();
  return names.map((name) => {
    const values = runs.map((r) => {
      const p = r.runtime_config?.parameters ?? {};
      return name in p ? valueText(p[name]) : '—';
    });
    return { name, values, differs: new Set(values).size > 1 };
  });
}

/**
 * Scalar metrics per run from each run's system.Metrics artifacts, by metric name;
 * "artifact/metric" only when a run has several metrics artifacts (else the prefix is noise).
 */
export function metricRows(data: CompareData[]): { name: string; values: (number | undefined)[]; differs: boolean }[] {
  const prefixed = data.some((d) => d.artifacts.filter((a) => a.type === 'system.Metrics').length > 1);
  const perRun = data.map((d) => {
    const m = new Map<string, number>();
    for (const a of d.artifacts) {
      if (a.type !== 'system.Metrics') continue;
      for (const [k, v] of scalarMetrics(a.metadata)) m.set(prefixed ? `${a.name}/${k}` : k, v);
    }
    return m;
  });
  const names = [...new Set(perRun.flatMap((m) => [...m.keys()]))].sort();
  return names.map((name) => {
    const values = perRun.map((m) => m.get(name));
    return { name, values, differs: new Set(values.map(String)).size > 1 };
  });
}

export function ComparePage({ runIds }: { runIds: string[] }) {
  const r = useAsync(
    () =>
      Promise.all(
        runIds.map(async (id) => {
          const [run, arts] = await Promise.all([api.getRun(id), api.listArtifacts({ run_id: id, page_size: 200 })]);
          return { run, artifacts: arts.items } as CompareData;
        }),
      ),
    [runIds.join(',')],
  );
  const data = useMemo(() => r.data ?? [], [r.data]);
  const runs = useMemo(() => data.map((d) => d.run), [data]);
  const params = useMemo(() => paramRows(runs), [runs]);
  const metrics = useMemo(() => metricRows(data), [data]);
  const roc: RocSeries[] = [];
  const cms: { run: Run; name: string; cm: NonNullable<ReturnType<typeof confusionMatrix>> }[] = [];
  for (const d of data) {
    for (const a of d.artifacts) {
      if (a.type !== 'system.ClassificationMetrics') continue;
      const pts = rocPoints(a.metadata);
      const cls = rocClass(a.metadata, d.run.runtime_config?.parameters);
      const several = d.artifacts.filter((x) => x.type === a.type).length > 1;
      if (pts.length) roc.push({ label: `${d.run.display_name ?? d.run.run_id}${several ? ` · ${a.name}` : ''}${cls ? ` · ${cls} vs rest` : ''}`, points: pts });
      const cm = confusionMatrix(a.metadata);
      if (cm) cms.push({ run: d.run, name: a.name, cm });
    }
  }
  if (runIds.length < 2)
    return (
      <>
        <PageHeader crumbs={<Link to="/runs">Runs</Link>} title="Compare runs" />
        <EmptyState title="Pick at least two runs" action={<Link className="btn primary" to="/runs">Go to runs</Link>}>
          Tick two or more runs in the runs list and press Compare.
        </EmptyState>
      </>
    );
  return (
    <>
      <PageHeader crumbs={<Link to="/runs">Runs</Link>} title={`Compare ${runIds.length} runs`} subtitle="Differences are highlighted." />
      <ErrorBox error={r.error} title="Could not load the runs" onRetry={r.reload} />
      {r.loading && !r.data ? (
        <Loading what="runs" />
      ) : (
        <>
          <div className="card flush">
            <table className="list" data-testid="compare-overview">
              <thead>
                <tr>
                  <th>Run</th>
                  {runs.map((x) => (
                    <th key={x.run_id} className="as-written">
                      <Link to={`/runs/${x.run_id}`}>{x.display_name}</Link>
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                <tr>
                  <td className="muted">Status</td>
                  {runs.map((x) => (
                    <td key={x.run_id}>
                      <StatusBadge state={x.state} />
                    </td>
                  ))}
                </tr>
                <tr>
                  <td className="muted">Duration</td>
                  {runs.map((x) => (
                    <td key={x.run_id}>{formatDuration(durationBetween(x.created_at, x.finished_at))}</td>
                  ))}
                </tr>
              </tbody>
            </table>
          </div>
          <div className="card flush">
            <div className="card-pad-top">
              <h2>Parameters</h2>
            </div>
            {params.length ? (
              <table className="list" data-testid="compare-params">
                <thead>
                  <tr>
                    <th>Parameter</th>
                    {runs.map((x) => (
                      <th key={x.run_id} className="as-written">
                        {x.display_name}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {params.map((p) => (
                    <tr key={p.name} className={p.differs ? 'diff' : ''} data-differs={p.differs}>
                      <td>
                        {p.name}
                        {p.differs && <span className="tag gap-left">differs</span>}
                      </td>
                      {p.values.map((v, i) => (
                        <td key={i} className="mono">
                          {v}
                        </td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : (
              <p className="muted padded-all">These runs have no parameters.</p>
            )}
          </div>
          <div className="card flush">
            <div className="card-pad-top">
              <h2>Scalar metrics</h2>
            </div>
            {metrics.length ? (
              <table className="list" data-testid="compare-metrics">
                <thead>
                  <tr>
                    <th>Metric</th>
                    {runs.map((x) => (
                      <th key={x.run_id} className="as-written">
                        {x.display_name}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {metrics.map((m) => (
                    <tr key={m.name} className={m.differs ? 'diff' : ''}>
                      <td>{m.name}</td>
                      {m.values.map((v, i) => (
                        <td key={i} className="mono">
                          {v === undefined ? '—' : formatMetric(v)}
                        </td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : (
              <p className="muted padded-all">No system.Metrics artifacts in these runs.</p>
            )}
          </div>
          <div className="card">
            <h2>ROC curves</h2>
            {roc.length ? <RocChart series={roc} width={560} height={380} /> : <p className="muted">No ClassificationMetrics with ROC data in these runs.</p>}
          </div>
          {cms.length > 0 && (
            <div className="card">
              <h2>Confusion matrices</h2>
              <div className="chart-row">
                {cms.map((c, i) => (
                  <div key={i}>
                    <div className="viz-title">
                      {c.run.display_name} · {c.name}
                    </div>
                    <ConfusionMatrixView cm={c.cm} />
                  </div>
                ))}
              </div>
            </div>
          )}
        </>
      )}
    </>
  );
}
