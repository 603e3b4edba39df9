import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import type { Task } from '../src/api/types';
import { buildScopeGraph, indexTasks, parsePath, visualState } from '../src/lib/graph';
import { normalizeSpec, rootParameters, type PipelineSpec } from '../src/lib/spec';
import { layoutGraph } from '../src/lib/layout';

const spec = (name: string) => normalizeSpec(load(readFileSync(new URL(`./fixtures/${name}.yaml`, import.meta.url), 'utf8'))) as PipelineSpec;

function task(path: string, state: Task['state'], extra: Partial<Task> = {}): Task {
  const name = path.split('/').pop()!.replace(/\[\d+\]$/, '');
  return { task_id: `id-${path}`, run_id: 'r', path, name, kind: 'CONTAINER', state, ...extra };
}

describe('buildScopeGraph', () => {
  it('draws artifact nodes between producer and consumer tasks (iris)', () => {
    const g = buildScopeGraph(spec('iris_pipeline'), '');
    const ids = g.nodes.map((n) => n.id);
    expect(ids).toContain('task:train');
    expect(ids).toContain('artifact:preprocess:train_data');
    expect(g.edges.map((e) => e.id)).toEqual(
      expect.arrayContaining(['task:preprocess->artifact:preprocess:train_data', 'artifact:preprocess:train_data->task:train', 'artifact:train:model->task:evaluate']),
    );
    // no direct task->task edge where an artifact already links them
    expect(g.edges.find((e) => e.id === 'task:preprocess->task:train')).toBeUndefined();
    const metrics = g.nodes.filter((n) => n.type === 'artifact' && n.producer === 'evaluate').map((n) => n.artifactType);
    expect(metrics).toEqual(expect.arrayContaining(['system.Metrics', 'system.ClassificationMetrics']));
  });

  it('colours tasks from the run and marks unstarted ones pending when live', () => {
    const s = spec('iris_pipeline');
    const tasks = [task('load-data', 'SUCCEEDED', { cached: true }), task('preprocess', 'RUNNING')];
    const g = buildScopeGraph(s, '', indexTasks(tasks), { live: true });
    const by = Object.fromEntries(g.nodes.map((n) => [n.id, n]));
    expect(by['task:load-data'].state).toBe('SUCCEEDED');
    expect(visualState(by['task:load-data'].state, by['task:load-data'].cached)).toBe('cached');
    expect(by['task:preprocess'].state).toBe('RUNNING');
    expect(by['task:train'].state).toBe('PENDING');
  });

  it('shows a loop as a group whose iterations open one by one', () => {
    const s = spec('parallel_loop');
    const root = buildScopeGraph(s, '');
    const loop = root.nodes.find((n) => n.shape === 'loop')!;
    expect(loop.type).toBe('group');
    expect(loop.openPath).toBe('for-loop-1');
    expect(root.edges.some((e) => e.source === loop.id)).toBe(true);

    const tasks = [
      task('for-loop-1', 'RUNNING', { kind: 'LOOP' }),
      task('for-loop-1[0]', 'SUCCEEDED', { kind: 'ITERATION', iteration_index: 0 }),
      task('for-loop-1[1]', 'FAILED', { kind: 'ITERATION', iteration_index: 1 }),
      task('for-loop-1[0]/square', 'SUCCEEDED'),
      task('for-loop-1[1]/square', 'FAILED'),
    ];
    const byPath = indexTasks(tasks);
    const withRun = buildScopeGraph(s, '', byPath);
    const l2 = withRun.nodes.find((n) => n.id === loop.id)!;
    expect(l2.iterations).toEqual({ total: 2, succeeded: 1, failed: 1, running: 0 });

    const its = buildScopeGraph(s, 'for-loop-1', byPath);
    expect(its.nodes.map((n) => n.label)).toEqual(['Iteration 0', 'Iteration 1']);
    expect(its.nodes[1].openPath).toBe('for-loop-1[1]');

    const body = buildScopeGraph(s, 'for-loop-1[1]', byPath);
    expect(body.nodes.find((n) => n.id === 'task:square')?.state).toBe('FAILED');
    expect(body.crumbs.map((c) => c.label)).toEqual([expect.any(String), 'for-loop-1', 'iteration 1']);
  });

  it('opens the loop body when no iteration ran yet (static view)', () => {
    const g = buildScopeGraph(spec('parallel_loop'), 'for-loop-1');
    expect(g.path).toBe('for-loop-1[*]');
    expect(g.nodes.some((n) => n.id === 'task:square')).toBe(true);
  });

  it('shows condition groups with their condition and opens nested sub-DAGs', () => {
    const s = spec('conditions');
    const root = buildScopeGraph(s, '');
    const branches = root.nodes.find((n) => n.id === 'task:condition-branches-1')!;
    expect(branches.type).toBe('group');
    const inner = buildScopeGraph(s, 'condition-branches-1');
    const conds = inner.nodes.filter((n) => n.shape === 'condition');
    expect(conds.length).toBe(3);
    expect(conds.find((n) => n.label === 'high')?.sublabel).toBe('int(pick-number-Output) > 66');
    const tasks = [task('condition-branches-1/condition-2', 'SKIPPED', { kind: 'DAG' }), task('condition-branches-1/condition-2/describe', 'SKIPPED')];
    const leaf = buildScopeGraph(s, 'condition-branches-1/condition-2', indexTasks(tasks));
    expect(leaf.nodes.find((n) => n.type === 'task')?.state).toBe('SKIPPED');
  });

  it('reports an unknown path in words', () => {
    expect(buildScopeGraph(spec('iris_pipeline'), 'nope').error).toMatch(/No task "nope"/);
  });

  it('lays out every node', () => {
    const g = buildScopeGraph(spec('iris_pipeline'), '');
    const pos = layoutGraph(g.nodes, g.edges);
    expect(pos.size).toBe(g.nodes.length);
    expect(pos.get('task:load-data')!.y).toBeLessThan(pos.get('task:evaluate')!.y);
  });
});

describe('spec helpers', () => {
  it('parses paths with iteration indexes', () => {
    expect(parsePath('for-loop-2[3]/train')).toEqual([{ name: 'for-loop-2', index: '3' }, { name: 'train' }]);
  });
  it('accepts KFP\'s {pipeline_spec, platform_spec} wrapper', () => {
    const s = spec('iris_pipeline');
    expect(normalizeSpec({ pipeline_spec: s, platform_spec: {} })).toBe(s);
  });
  it('reads root parameters with defaults', () => {
    const ps = rootParameters(spec('iris_pipeline'));
    const c = ps.find((p) => p.name === 'C')!;
    expect(c.type).toBe('NUMBER_DOUBLE');
    expect(c.hasDefault).toBe(true);
  });
});
