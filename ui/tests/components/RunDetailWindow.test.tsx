// @vitest-environment jsdom
// The run page's live data for a 10,000-item loop (lib/live.ts): a window of the run's tasks
// and the run without its task details, never every task; another page asks for that page.
import { cleanup, renderHook, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Run, Task } from '../../src/api/types';
import { useRunLive } from '../../src/lib/live';
import { windowFor } from '../../src/lib/taskWindow';
import { fakeFetch } from './fakeServer';

const run: Run = { run_id: 'big', display_name: 'ten thousand', state: 'RUNNING', created_at: '2026-12-01T10:00:00Z' };
const TOTAL = 10000;

function windowOf(url: URL): { tasks: Task[]; loops: unknown[] } {
  const size = Number(url.searchParams.get('iteration_page_size'));
  const offset = url.searchParams.get('loop') === 'for-loop-1' ? Number(url.searchParams.get('iteration_offset') ?? 0) : 0;
  const tasks: Task[] = [{ task_id: 'loop', run_id: 'big', path: 'for-loop-1', name: 'for-loop-1', kind: 'LOOP', state: 'RUNNING' }];
  for (let i = offset; i < offset + size; i++) {
    tasks.push({ task_id: `it-${i}`, run_id: 'big', path: `for-loop-1[${i}]`, name: 'for-loop-1', kind: 'ITERATION', state: 'SUCCEEDED', iteration_index: i });
  }
  return { tasks, loops: [{ loop_task_id: 'loop', total: TOTAL, states: { SUCCEEDED: TOTAL } }] };
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('the live data of a huge run', () => {
  it('is a page of iterations at a time, with the counts of all', async () => {
    const calls = fakeFetch({
      'GET /apis/v2beta1/runs/big': () => ({ body: run }),
      'GET /apis/pipeyard/v1/runs/big/tasks': (u) => ({ body: windowOf(u) }),
    });
    const { result, rerender } = renderHook(({ page }) => useRunLive('big', windowFor('for-loop-1', page)), { initialProps: { page: 0 } });
    await waitFor(() => expect(result.current.tasks).toHaveLength(101));
    expect(result.current.loops?.get('loop')?.total).toBe(TOTAL);
    expect(result.current.tasks.at(-1)?.path).toBe('for-loop-1[99]');
    const taskCalls = () => calls.filter((u) => u.pathname.endsWith('/tasks'));
    expect(taskCalls().map((u) => u.search)).toEqual(['?iteration_page_size=100']);
    expect(calls.filter((u) => u.pathname === '/apis/v2beta1/runs/big').map((u) => u.search)).toEqual(['?task_page_size=0']);

    rerender({ page: 37 });
    await waitFor(() => expect(result.current.tasks.at(-1)?.path).toBe('for-loop-1[3799]'));
    expect(result.current.tasks).toHaveLength(101);
    expect(taskCalls().at(-1)?.search).toBe('?iteration_page_size=100&loop=for-loop-1&iteration_offset=3700');
  });
});
