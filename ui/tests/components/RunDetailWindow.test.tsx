// @vitest-environment jsdom
// The run page's live data for a 10,000-item loop (lib/live.ts): a window of the run's tasks
// and the run without its task details, never every task; another page asks for that page.
import { act, cleanup, renderHook, waitFor } from '@testing-library/react';
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

/** The run's event stream, driven by the test. */
class FakeEventSource {
  static last: FakeEventSource | undefined;
  onopen: (() => void) | null = null;
  onerror: (() => void) | null = null;
  private listeners = new Map<string, ((ev: MessageEvent) => void)[]>();
  constructor() {
    FakeEventSource.last = this;
  }
  addEventListener(name: string, fn: (ev: MessageEvent) => void) {
    this.listeners.set(name, [...(this.listeners.get(name) ?? []), fn]);
  }
  close() {}
  emit(name: string, data: unknown) {
    for (const fn of this.listeners.get(name) ?? []) fn(new MessageEvent(name, { data: JSON.stringify(data) }));
  }
}

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

  it('keeps task events of iterations on no page out of its list, and fetches the counts again', async () => {
    const calls = fakeFetch({
      'GET /apis/v2beta1/runs/big': () => ({ body: run }),
      'GET /apis/pipeyard/v1/runs/big/tasks': (u) => ({ body: windowOf(u) }),
    });
    vi.stubGlobal('EventSource', FakeEventSource);
    const { result } = renderHook(() => useRunLive('big', windowFor('for-loop-1', 0)));
    await waitFor(() => expect(result.current.tasks).toHaveLength(101));
    const fetches = () => calls.filter((u) => u.pathname.endsWith('/tasks')).length;
    const before = fetches();
    const es = FakeEventSource.last!;
    const iteration = (i: number, state: Task['state']): Task => ({ task_id: `it-${i}`, run_id: 'big', path: `for-loop-1[${i}]`, name: 'for-loop-1', kind: 'ITERATION', state, iteration_index: i });
    act(() => es.emit('task', iteration(5, 'FAILED')));
    expect(result.current.tasks.find((t) => t.task_id === 'it-5')?.state).toBe('FAILED');
    act(() => es.emit('task', iteration(5000, 'RUNNING')));
    expect(result.current.tasks).toHaveLength(101);
    expect(result.current.tasks.some((t) => t.task_id === 'it-5000')).toBe(false);
    // the loop's counts come with the window, fetched again
    await waitFor(() => expect(fetches()).toBeGreaterThan(before));
  });
});
