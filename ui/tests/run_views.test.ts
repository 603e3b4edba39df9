import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import type { ArtifactRef, Task } from '../src/api/types';
import { buildScopeGraph, indexTasks, visualState } from '../src/lib/graph';
import { kfpAlias, targetUrl } from '../src/lib/kfpRoutes';
import { normalizeSpec, type PipelineSpec } from '../src/lib/spec';
import { runVisualizations, taskVisualizations } from '../src/lib/visualizations';
import { specYaml } from '../src/pages/run-detail/specYaml';

const iris = normalizeSpec(load(readFileSync(new URL('./fixtures/iris_pipeline.yaml', import.meta.url), 'utf8'))) as PipelineSpec;

function task(path: string, state: Task['state'], extra: Partial<Task> = {}): Task {
  return { task_id: `id-${path}`, run_id: 'r', path, name: path.split('/').pop()!, kind: 'CONTAINER', state, ...extra };
}

const art = (name: string, type: string, id = name): ArtifactRef => ({ artifact_id: id, name, uri: `file:///a/${name}`, type });

describe('KFP hash routes', () => {
  const to = (h: string) => {
    const [p, q] = h.split('?');
    const t = kfpAlias(p, new URLSearchParams(q ?? ''));
    return t ? targetUrl(t) : null;
  };
  it('maps the links kfp.Client prints onto pipeyard pages', () => {
    expect(to('/runs/details/abc-1')).toBe('/runs/abc-1');
    expect(to('/experiments/details/x1')).toBe('/experiments/x1');
    expect(to('/pipelines/details/p1')).toBe('/pipelines/p1');
    expect(to('/pipelines/details/p1/version/v1')).toBe('/pipelines/p1/versions/v1');
  });
  it("maps KFP's other routes and leaves pipeyard's own alone", () => {
    expect(to('/recurringruns')).toBe('/recurring');
    expect(to('/recurringrun/details/rr1')).toBe('/recurring/rr1');
    expect(to('/compare?runlist=a,b')).toBe('/compare?runs=a%2Cb');
    expect(to('/runs/new?pipelineId=p&experimentId=e')).toBe('/runs/new?pipeline=p&experiment=e');
    for (const own of ['/runs', '/pipelines', '/experiments', '/artifacts', '/runs/abc', '/compare?runs=a,b', '/runs/new?pipeline=p']) expect(to(own)).toBeNull();
  });
});

describe('visualizations', () => {
  const evaluate = task('evaluate', 'SUCCEEDED', {
    outputs: { artifacts: { metrics: [art('metrics', 'system.Metrics')], roc: [art('roc', 'system.ClassificationMetrics')], model: [art('model', 'system.Model')] } },
  });
  it("are a task's metrics, classification metrics, HTML and Markdown outputs", () => {
    expect(taskVisualizations(evaluate).map((v) => v.title)).toEqual(['metrics', 'roc']);
    expect(taskVisualizations(task('train', 'SUCCEEDED', { outputs: { artifacts: { model: [art('model', 'system.Model')] } } }))).toEqual([]);
  });
  it('of a run come once each, from the tasks that ran containers', () => {
    const dag = task('inner', 'SUCCEEDED', { kind: 'DAG', outputs: { artifacts: { metrics: [art('metrics', 'system.Metrics')] } } });
    const report = task('report', 'SUCCEEDED', { outputs: { artifacts: { page: [art('page', 'system.HTML')], notes: [art('n1', 'system.Markdown'), art('n2', 'system.Markdown')] } } });
    const vs = runVisualizations([report, dag, evaluate]);
    expect(vs.map((v) => `${v.task.name}:${v.title}`)).toEqual(['evaluate:metrics', 'evaluate:roc', 'report:page', 'report:notes [0]', 'report:notes [1]']);
  });
});

describe('tasks that never ran', () => {
  it('show as not run once the run has ended, pending while it goes', () => {
    const tasks = [task('load-data', 'SUCCEEDED'), task('preprocess', 'FAILED'), task('train', 'PENDING')];
    const ended = buildScopeGraph(iris, '', indexTasks(tasks), { live: true, ended: true });
    const by = Object.fromEntries(ended.nodes.map((n) => [n.id, n]));
    expect(by['task:preprocess'].state).toBe('FAILED');
    expect(visualState(by['task:train'].state)).toBe('none');
    expect(visualState(by['task:evaluate'].state)).toBe('none');
    expect([by['task:load-data'].notRun, by['task:preprocess'].notRun, by['task:train'].notRun, by['task:evaluate'].notRun]).toEqual([undefined, undefined, true, true]);
    const going = buildScopeGraph(iris, '', indexTasks(tasks), { live: true, ended: false });
    expect(going.nodes.find((n) => n.id === 'task:evaluate')!.state).toBe('PENDING');
    expect(going.nodes.some((n) => n.notRun)).toBe(false);
  });
});

describe('spec YAML', () => {
  it('is the pipeline spec, then the platform spec as a second document', () => {
    const one = specYaml({ pipelineInfo: { name: 'p' } });
    expect(load(one)).toEqual({ pipelineInfo: { name: 'p' } });
    const two = specYaml({ pipelineInfo: { name: 'p' } }, { platforms: { kubernetes: {} } });
    const docs = two.split(/^---$/m).map((d) => load(d));
    expect(docs).toEqual([{ pipelineInfo: { name: 'p' } }, { platforms: { kubernetes: {} } }]);
  });
});

describe('KFP executor lines in a log', () => {
  it('are its INFO lines and the executor input dump, not what the task printed or its errors', async () => {
    const { executorLines } = await import('../src/lib/logs');
    const log = [
      '[KFP Executor 2026-12-01 13:08:47,446 INFO]: Looking for component `score` in --component_module_path `/tmp/x.py`',
      '[KFP Executor 2026-12-01 13:08:47,449 INFO]: Got executor_input:',
      '{',
      '    "inputs": {',
      '        "parameterValues": {}',
      '    }',
      '}',
      'training with C=0.5',
      '{"a": 1}',
      '[KFP Executor 2026-12-01 13:08:47,450 ERROR]: the component raised',
      '[KFP Executor 2026-12-01 13:08:47,459 INFO]: Wrote executor output file to /tmp/out.json.',
    ];
    expect(executorLines(log)).toEqual([true, true, true, true, true, true, true, false, false, false, true]);
  });
});

describe('timeline ticks', () => {
  it('fall on round durations and cover the span', async () => {
    const { durationAxis, tickLabel } = await import('../src/lib/ticks');
    const a = durationAxis(7300);
    expect(a.ticks.map(tickLabel)).toEqual(['0', '2 s', '4 s', '6 s', '8 s']);
    expect(a.end).toBe(8000);
    expect(durationAxis(45 * 60_000).ticks.map(tickLabel)).toEqual(['0', '10m', '20m', '30m', '40m', '50m']);
    expect(durationAxis(850).ticks.map(tickLabel)).toEqual(['0', '200 ms', '400 ms', '600 ms', '800 ms', '1 s']);
    expect(tickLabel(150_000)).toBe('2m 30s');
    for (const span of [1, 999, 61_000, 5 * 3_600_000]) expect(durationAxis(span).end).toBeGreaterThanOrEqual(span);
  });
});

describe('compare and ROC polish', () => {
  it('names the class of a one-vs-rest ROC curve from the metadata or the parameters', async () => {
    const { rocClass } = await import('../src/lib/metrics');
    const cm = { confusionMatrix: { annotationSpecs: [{ displayName: 'setosa' }, { displayName: 'versicolor' }, { displayName: 'virginica' }], rows: [] } };
    expect(rocClass(cm, { roc_class: 2 })).toBe('virginica');
    expect(rocClass({ ...cm, positive_class: 'versicolor' }, { roc_class: 2 })).toBe('versicolor');
    expect(rocClass({}, { pos_label: 'spam' })).toBe('spam');
    expect(rocClass(cm, { C: 0.5 })).toBeUndefined();
  });
  it('finds curves that lie on top of an earlier one', async () => {
    const { coincidentCurves } = await import('../src/lib/metrics');
    const a = [{ fpr: 0, tpr: 0, threshold: 1 }, { fpr: 1, tpr: 1, threshold: 0 }];
    const b = [{ fpr: 0, tpr: 0, threshold: 1 }, { fpr: 0.2, tpr: 0.9, threshold: 0.5 }, { fpr: 1, tpr: 1, threshold: 0 }];
    expect(coincidentCurves([a, b, a.map((p) => ({ ...p })), b])).toEqual([undefined, undefined, 0, 1]);
  });
  it('prefixes metric names with their artifact only when a run has several metrics artifacts', async () => {
    const { metricRows } = await import('../src/pages/ComparePage');
    const m = (name: string, metadata: Record<string, unknown>) => ({ artifact_id: name, name, uri: '', type: 'system.Metrics', metadata });
    const run = (id: string) => ({ run_id: id });
    expect(metricRows([{ run: run('a'), artifacts: [m('metrics', { f1: 0.5 })] }, { run: run('b'), artifacts: [m('metrics', { f1: 0.5 })] }])).toEqual([{ name: 'f1', values: [0.5, 0.5], differs: false }]);
    const rows = metricRows([{ run: run('a'), artifacts: [m('train_metrics', { loss: 1 }), m('test_metrics', { loss: 2 })] }, { run: run('b'), artifacts: [] }]);
    expect(rows.map((r) => r.name)).toEqual(['test_metrics/loss', 'train_metrics/loss']);
  });
});

describe('collapsed groups', () => {
  const conditions = normalizeSpec(load(readFileSync(new URL('./fixtures/conditions.yaml', import.meta.url), 'utf8'))) as PipelineSpec;
  it('say which If/Elif/Else branch ran and how many were skipped', () => {
    const tasks = [
      task('pick-number', 'SUCCEEDED'),
      task('condition-branches-1', 'SUCCEEDED', { kind: 'DAG' }),
      task('condition-branches-1/condition-2', 'SKIPPED', { kind: 'DAG' }),
      task('condition-branches-1/condition-3', 'SUCCEEDED', { kind: 'DAG' }),
      task('condition-branches-1/condition-4', 'SKIPPED', { kind: 'DAG' }),
    ];
    const g = buildScopeGraph(conditions, '', indexTasks(tasks), { live: true, ended: true });
    expect(g.nodes.find((n) => n.id === 'task:condition-branches-1')!.sublabel).toBe('ran condition-3 · 2 skipped');
    const inner = buildScopeGraph(conditions, 'condition-branches-1', indexTasks(tasks), { live: true, ended: true });
    expect(inner.nodes.find((n) => n.id === 'task:condition-2')!.sublabel).toBe('int(pick-number-Output) > 66 · skipped');
    expect(inner.nodes.find((n) => n.id === 'task:condition-3')!.sublabel).toMatch(/ · ran$/);
  });
  it("show a loop's iteration states on its node", async () => {
    const { nodeSubText } = await import('../src/components/Graph');
    expect(nodeSubText({ id: 'l', type: 'group', label: 'loop', sublabel: 'loop · 4 iterations', iterations: { total: 4, succeeded: 2, failed: 1, running: 1 } })).toBe('loop · 4 iterations · 1 running · 1 failed · 2 done');
    expect(nodeSubText({ id: 'l', type: 'group', label: 'loop', sublabel: 'loop · 3 iterations', iterations: { total: 3, succeeded: 3, failed: 0, running: 0 } })).toBe('loop · 3 iterations');
  });
});
