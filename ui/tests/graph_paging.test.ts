import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import type { Task } from '../src/api/types';
import { buildScopeGraph, indexTasks, ITERATIONS_PER_PAGE, type GNode } from '../src/lib/graph';
import { nodeSize } from '../src/lib/layout';
import { normalizeSpec, type PipelineSpec } from '../src/lib/spec';

const spec = normalizeSpec(load(readFileSync(new URL('./fixtures/parallel_loop.yaml', import.meta.url), 'utf8'))) as PipelineSpec;

function iteration(i: number, state: Task['state']): Task {
  return { task_id: `it-${i}`, run_id: 'r', path: `for-loop-1[${i}]`, name: 'for-loop-1', kind: 'ITERATION', state, iteration_index: i };
}

describe('a large loop', () => {
  const tasks: Task[] = [{ task_id: 'loop', run_id: 'r', path: 'for-loop-1', name: 'for-loop-1', kind: 'LOOP', state: 'RUNNING' }];
  for (let i = 0; i < 2500; i++) tasks.push(iteration(i, i === 2400 ? 'FAILED' : 'SUCCEEDED'));
  const byPath = indexTasks(tasks);

  it('draws its iterations a page at a time, in index order', () => {
    const first = buildScopeGraph(spec, 'for-loop-1', byPath, { live: true });
    expect(first.nodes).toHaveLength(ITERATIONS_PER_PAGE);
    expect(first.iterationPage).toEqual({ page: 0, pages: 25, total: 2500, first: 0, last: 99 });
    const last = buildScopeGraph(spec, 'for-loop-1', byPath, { live: true, iterationPage: 24 });
    expect(last.nodes.map((n) => n.label)).toContain('Iteration 2400');
    expect(last.nodes.find((n) => n.label === 'Iteration 2400')?.state).toBe('FAILED');
    expect(last.iterationPage).toMatchObject({ page: 24, first: 2400, last: 2499 });
    // a page past the end shows the last one
    expect(buildScopeGraph(spec, 'for-loop-1', byPath, { iterationPage: 99 }).iterationPage?.page).toBe(24);
  });

  it('still counts every iteration on the loop node', () => {
    const root = buildScopeGraph(spec, '', byPath, { live: true });
    const loop = root.nodes.find((n) => n.shape === 'loop')!;
    expect(loop.iterations).toMatchObject({ total: 2500, failed: 1, succeeded: 2499 });
  });
});

describe('node sizes', () => {
  const node = (type: GNode['type'], label: string): GNode => ({ id: label, type, label }) as GNode;
  it('reserve room for a wrapped long label, up to four lines', () => {
    expect(nodeSize(node('task', 'train')).height).toBe(58);
    const long = 'a-very-long-component-name-that-does-not-fit-on-one-line';
    expect(nodeSize(node('task', long)).height).toBeGreaterThan(58);
    expect(nodeSize(node('artifact', long)).height).toBeGreaterThan(44);
    expect(nodeSize(node('task', long.repeat(10))).height).toBe(58 + 3 * 17);
  });
});
