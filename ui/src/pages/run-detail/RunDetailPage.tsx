import { useMemo, useState } from 'react';
import { api } from '../../api/client';
import type { Task } from '../../api/types';
import { ErrorBox, Loading, PageHeader, StatusBadge, Tabs } from '../../components/common';
import { PipelineGraph } from '../../components/Graph';
import { NameLink } from '../../components/NameLink';
import { Timeline } from '../../components/Timeline';
import { buildScopeGraph, indexTasks } from '../../lib/graph';
import { durationBetween, formatDate, formatDuration, isFinished } from '../../lib/format';
import { useAsync, useNow } from '../../lib/hooks';
import { useRunLive } from '../../lib/live';
import { normalizeSpec } from '../../lib/spec';
import { windowFor } from '../../lib/taskWindow';
import { Link } from '../../router';
import { FailureBanner } from './FailureBanner';
import { Legend } from './Legend';
import { NodePanel } from './NodePanel';
import { RunActions } from './RunActions';
import { RunDetails } from './RunDetails';
import { RunPipeline } from './RunPipeline';
import { SaveAsPipelineDialog, type Saved } from './SaveAsPipeline';
import { SpecTab } from './SpecTab';
import { RunOutput } from './Visualizations';

type Tab = 'graph' | 'timeline' | 'output' | 'details' | 'spec';

export function RunDetailPage({ runId, query }: { runId: string; query: URLSearchParams }) {
  const [scope, setScopeOnly] = useState('');
  const [iterationPage, setIterationPage] = useState(0);
  // only the tasks the scope can draw: a huge loop's iterations a page at a time
  const taskWindow = useMemo(() => windowFor(scope, iterationPage), [scope, iterationPage]);
  const live = useRunLive(runId, taskWindow);
  const { run, tasks, loops } = live;
  const specR = useAsync(() => api.runSpec(runId), [runId]);
  const spec = useMemo(() => normalizeSpec(specR.data?.pipeline_spec ?? run?.pipeline_spec), [specR.data, run?.pipeline_spec]);
  const [tab, setTab] = useState<Tab>(() => (query.get('tab') as Tab | null) ?? 'graph');
  const setScope = (p: string) => {
    setScopeOnly(p);
    setIterationPage(0);
  };
  const [selectedId, setSelectedId] = useState<string>();
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState<Saved>();
  const [actionError, setActionError] = useState<string>();
  const finished = isFinished(run?.state);
  const now = useNow(!finished);
  const byPath = useMemo(() => indexTasks(tasks), [tasks]);
  const graph = useMemo(
    () => (spec ? buildScopeGraph(spec, scope, byPath, { live: true, ended: finished, iterationPage, loops }) : undefined),
    [spec, scope, byPath, finished, iterationPage, loops],
  );
  const selected = graph?.nodes.find((n) => n.id === selectedId);
  const failedTasks = tasks.filter((t) => t.state === 'FAILED' && (t.kind === 'CONTAINER' || t.kind === 'IMPORTER'));

  const selectTask = (t: Task) => {
    // open the scope that holds the task and select its node
    const slash = t.path.lastIndexOf('/');
    setTab('graph');
    setScope(slash < 0 ? '' : t.path.slice(0, slash));
    setSelectedId(`task:${t.path.slice(slash + 1)}`);
  };

  // ?task=<task id> (from an artifact's lineage): open that task once the tasks are known
  const wantTask = query.get('task');
  const [openedTask, setOpenedTask] = useState(false);
  if (wantTask && !openedTask) {
    const t = tasks.find((x) => x.task_id === wantTask);
    if (t) {
      setOpenedTask(true);
      selectTask(t);
    }
  }
  // a run from a package has no stored pipeline: its name comes from the spec
  const specName = (spec?.pipelineInfo as { name?: string } | undefined)?.name;

  if (live.error && !run) {
    return (
      <>
        <PageHeader crumbs={<Link to="/runs">Runs</Link>} title="Run" />
        <ErrorBox error={live.error} title="Could not load the run" onRetry={live.reload} />
      </>
    );
  }
  if (!run) return <Loading what="run" />;
  const archived = run.storage_state === 'ARCHIVED';
  const fromPackage = !run.pipeline_version_reference?.pipeline_id;
  const runWithName = fromPackage && !run.pipeline_name && specName ? { ...run, pipeline_name: specName } : run;

  return (
    <>
      <PageHeader
        crumbs={
          <>
            <Link to="/runs">Runs</Link>
            {run.experiment_id && (
              <>
                {' › '}
                <NameLink kind="experiment" id={run.experiment_id} />
              </>
            )}
          </>
        }
        title={
          <span className="title-row">
            {run.display_name || run.run_id} <StatusBadge state={run.state} />
            {archived && <span className="tag archived">archived</span>}
          </span>
        }
        subtitle={
          <>
            Pipeline <RunPipeline run={runWithName} /> · started {formatDate(run.created_at)} · {formatDuration(durationBetween(run.created_at, finished ? run.finished_at : undefined, now))}
            {!finished && (live.connected ? ' · live' : ' · reconnecting…')}
          </>
        }
        actions={<RunActions run={run} live={live} canSave={fromPackage && !!specR.data} onSave={() => setSaving(true)} onError={setActionError} />}
      />
      <ErrorBox error={actionError} title="The action failed" />
      {live.error && <ErrorBox error={live.error} title="Could not refresh the run" onRetry={live.reload} />}
      {saved && (
        <div className="banner info" role="status" data-testid="saved-as-pipeline">
          <span>
          Saved this run's spec as pipeline <Link to={`/pipelines/${saved.pipelineId}`}>{saved.pipelineName}</Link>
          {saved.versionId && (
            <>
              {', version '}
              <NameLink kind="version" id={saved.versionId} pipelineId={saved.pipelineId} />
            </>
          )}
          . <Link to={`/runs/new?pipeline=${saved.pipelineId}${saved.versionId ? `&version=${saved.versionId}` : ''}`}>Start a run of it</Link>
          </span>
        </div>
      )}
      {run.state === 'FAILED' && <FailureBanner run={run} failed={failedTasks} onOpen={selectTask} />}
      <Tabs<Tab>
        tabs={[
          { id: 'graph', label: 'Graph' },
          { id: 'timeline', label: 'Timeline' },
          { id: 'output', label: 'Run output' },
          { id: 'details', label: 'Run details' },
          { id: 'spec', label: 'Spec' },
        ]}
        value={tab}
        onChange={setTab}
      />
      {tab === 'graph' &&
        (!graph ? (
          specR.error ? <ErrorBox error={specR.error} title="Could not load the run's pipeline spec" /> : <Loading what="graph" />
        ) : (
          <div className="run-layout">
            <div className="run-graph">
              {graph.iterationPage && graph.iterationPage.pages > 1 && (
                <div className="iteration-pager" data-testid="iteration-pager">
                  <button className="btn small" disabled={graph.iterationPage.page === 0} onClick={() => setIterationPage(graph.iterationPage!.page - 1)}>
                    ‹ previous
                  </button>
                  <span>
                    iterations {graph.iterationPage.first}–{graph.iterationPage.last} of {graph.iterationPage.total} · page {graph.iterationPage.page + 1} of {graph.iterationPage.pages}
                  </span>
                  <button className="btn small" disabled={graph.iterationPage.page + 1 >= graph.iterationPage.pages} onClick={() => setIterationPage(graph.iterationPage!.page + 1)}>
                    next ›
                  </button>
                </div>
              )}
              <PipelineGraph
                graph={graph}
                now={now}
                fitKey={selected ? 'panel' : ''}
                selectedId={selectedId}
                onSelect={(n) => setSelectedId(n.id)}
                onOpen={(p) => {
                  setScope(p);
                  setSelectedId(undefined);
                }}
                onCrumb={(p) => {
                  setScope(p);
                  setSelectedId(undefined);
                }}
              />
              <Legend />
            </div>
            {selected && (
              <NodePanel
                key={selected.id}
                node={selected}
                run={run}
                live={live}
                onClose={() => setSelectedId(undefined)}
                onOpenScope={(p) => {
                  setScope(p);
                  setSelectedId(undefined);
                }}
              />
            )}
          </div>
        ))}
      {tab === 'timeline' && (
        <div className="card">
          <Timeline tasks={tasks} now={now} onSelect={selectTask} />
        </div>
      )}
      {tab === 'output' && <RunOutput tasks={tasks} onOpenTask={selectTask} />}
      {tab === 'details' && <RunDetails run={runWithName} />}
      {tab === 'spec' && <SpecTab spec={specR} fileName={`${run.pipeline_name || specName || 'pipeline'}.yaml`} />}
      {saving && specR.data && (
        <SaveAsPipelineDialog
          spec={specR.data}
          defaultName={run.pipeline_name || specName || run.display_name || 'pipeline'}
          onClose={() => setSaving(false)}
          onSaved={(s) => {
            setSaving(false);
            setSaved(s);
            // the run now shows the version it ran, after a reload too
            if (s.versionId) {
              api.linkRunVersion(runId, s.versionId).then(
                () => live.reload(),
                (e: unknown) => setActionError(`Saved, but the run could not be linked to the version: ${(e as Error).message}`),
              );
            }
          }}
        />
      )}
    </>
  );
}
