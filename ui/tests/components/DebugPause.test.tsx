// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Run, Task } from '../../src/api/types';
import { debugPause } from '../../src/lib/debugPause';
import { buildScopeGraph, indexTasks } from '../../src/lib/graph';
import type { GNode } from '../../src/lib/graph';
import type { RunLive } from '../../src/lib/live';
import { NodePanel } from '../../src/pages/run-detail/NodePanel';

const paused: Task = {
  task_id: 't-train',
  run_id: 'r1',
  path: 'train',
  name: 'train',
  kind: 'CONTAINER',
  state: 'RUNNING',
  details: { debug_pause: { when: 'before', since: '2026-01-01T00:00:00Z', work_dir: '/home/u/.pipeyard/work/r1/train/attempt-1' } },
};

const live = (tasks: Task[]): RunLive => ({ tasks, connected: true, reload: () => undefined, onLog: () => () => undefined, setRun: () => undefined });
const node = (over: Partial<GNode>): GNode => ({ id: 'task:train', type: 'task', label: 'train', path: 'train', ...over });
const run: Run = { run_id: 'r1', state: 'RUNNING' };

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('set_debug_pause in the run page', () => {
  it('knows a held task from a resumed or finished one', () => {
    expect(debugPause(paused)?.when).toBe('before');
    expect(debugPause({ ...paused, details: { debug_pause: { when: 'before', resumed_at: 'x' } } })).toBeUndefined();
    expect(debugPause({ ...paused, state: 'SUCCEEDED' })).toBeUndefined();
    expect(debugPause({ ...paused, details: {} })).toBeUndefined();
  });

  it('draws a held task as Paused in the graph', () => {
    const spec = { pipelineInfo: { name: 'p' }, root: { dag: { tasks: { train: { taskInfo: { name: 'train' }, componentRef: { name: 'comp-train' } } } } }, components: { 'comp-train': { executorLabel: 'exec-train' } } };
    const g = buildScopeGraph(spec as never, '', indexTasks([paused]), { live: true });
    expect(g.nodes.find((n) => n.path === 'train')?.state).toBe('PAUSED');
  });

  it('opens the panel on Details, shows Paused and the kept directory, and Resume posts the resume', async () => {
    const calls: { url: string; method: string }[] = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (u: string, init?: RequestInit) => {
        calls.push({ url: u, method: init?.method ?? 'GET' });
        return new Response('{}', { status: 200, headers: { 'Content-Type': 'application/json' } });
      }),
    );
    render(<NodePanel node={node({ task: paused, state: 'PAUSED' })} run={run} live={live([paused])} onClose={() => undefined} onOpenScope={() => undefined} />);
    expect(screen.getByRole('tab', { selected: true }).textContent).toBe('Details');
    expect(document.querySelector('.side-head .badge')!.textContent).toBe('Paused');
    const box = screen.getByTestId('debug-pause');
    expect(box.textContent).toContain('Paused before running');
    expect(box.textContent).toContain('/home/u/.pipeyard/work/r1/train/attempt-1');
    expect(box.textContent).toContain('pipeyard resume r1 train');
    fireEvent.click(screen.getByTestId('resume-task'));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST' && c.url.endsWith('/apis/v2beta1/runs/r1/tasks/t-train:resume'))).toBe(true));
  });
});
