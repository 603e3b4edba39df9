import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import type { Task } from '../src/api/types';
import { buildScopeGraph, indexTasks } from '../src/lib/graph';
import { normalizeSpec, type PipelineSpec } from '../src/lib/spec';
import { FIRST_WINDOW, inWindow, windowFor, type LoopCounts } from '../src/lib/taskWindow';

const spec = normalizeSpec(load(readFileSync(new URL('./fixtures/parallel_loop.yaml', import.meta.url), 'utf8'))) as PipelineSpec;

describe('the window of a huge run', () => {
  it('holds every loop index on its page, as the server decides', () => {
    expect(inWindow('prep', FIRST_WINDOW)).toBe(true);
    expect(inWindow('loop[99]/step', FIRST_WINDOW)).toBe(true);
    expect(inWindow('loop[100]/step', FIRST_WINDOW)).toBe(false);
    const second = { loop: 'loop', offset: 100 };
    expect(inWindow('loop[100]/inner[5]', second)).toBe(true);
    expect(inWindow('loop[99]', second)).toBe(false);
    expect(inWindow('loop[150]/inner[100]', second)).toBe(false);
    expect(inWindow('other[3]', second)).toBe(true);
  });

  it("follows the scope: a loop's page, or the page of the iteration opened", () => {
    expect(windowFor('', 0)).toEqual(FIRST_WINDOW);
    expect(windowFor('loop', 3)).toEqual({ loop: 'loop', offset: 300 });
    expect(windowFor('loop[42]/inner', 0)).toEqual(FIRST_WINDOW);
    expect(windowFor('sub/loop[250]/inner', 0)).toEqual({ loop: 'sub/loop', offset: 200 });
  });

  // What the server sends for page 37 of a 10,000-item loop: that page's iterations and the counts.
  const loopTask: Task = { task_id: 'loop', run_id: 'r', path: 'for-loop-1', name: 'for-loop-1', kind: 'LOOP', state: 'RUNNING' };
  const page: Task[] = [loopTask];
  for (let i = 3700; i < 3800; i++) {
    page.push({ task_id: `it-${i}`, run_id: 'r', path: `for-loop-1[${i}]`, name: 'for-loop-1', kind: 'ITERATION', state: 'SUCCEEDED', iteration_index: i });
  }
  const loops = new Map<string, LoopCounts>([['loop', { loop_task_id: 'loop', total: 10000, states: { SUCCEEDED: 9000, RUNNING: 64, FAILED: 2 } }]]);

  it('pages and counts with the totals the server counted, drawing the page it holds', () => {
    const g = buildScopeGraph(spec, 'for-loop-1', indexTasks(page), { live: true, iterationPage: 37, loops });
    expect(g.iterationPage).toEqual({ page: 37, pages: 100, total: 10000, first: 3700, last: 3799 });
    expect(g.nodes).toHaveLength(100);
    expect(g.nodes[0].label).toBe('Iteration 3700');
    // the window for another page is on its way: nothing of this one is drawn as that page
    const next = buildScopeGraph(spec, 'for-loop-1', indexTasks(page), { live: true, iterationPage: 38, loops });
    expect(next.nodes).toHaveLength(0);
    expect(next.iterationPage).toMatchObject({ page: 38, first: 3800, last: 3899 });
    const root = buildScopeGraph(spec, '', indexTasks(page), { live: true, loops });
    expect(root.nodes.find((n) => n.shape === 'loop')?.iterations).toEqual({ total: 10000, succeeded: 9000, failed: 2, running: 64 });
  });
});
