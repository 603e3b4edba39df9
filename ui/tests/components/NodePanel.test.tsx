// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Run, Task } from '../../src/api/types';
import type { GNode } from '../../src/lib/graph';
import type { RunLive } from '../../src/lib/live';
import { NodePanel } from '../../src/pages/run-detail/NodePanel';

const evaluate: Task = {
  task_id: 't-eval',
  run_id: 'r1',
  path: 'evaluate',
  name: 'evaluate',
  kind: 'CONTAINER',
  state: 'SUCCEEDED',
  inputs: { parameters: { C: 0.5 } },
  outputs: {
    parameters: {},
    artifacts: {
      metrics: [{ artifact_id: 'a-m', name: 'metrics', uri: 'file:///m', type: 'system.Metrics', metadata: { accuracy: 0.9667, f1: 0.95 } }],
      evaluation: [
        {
          artifact_id: 'a-c',
          name: 'evaluation',
          uri: 'file:///c',
          type: 'system.ClassificationMetrics',
          metadata: { confusionMatrix: { annotationSpecs: [{ displayName: 'setosa' }, { displayName: 'virginica' }], rows: [{ row: [10, 0] }, { row: [1, 9] }] } },
        },
      ],
    },
  },
};

const live = (tasks: Task[]): RunLive => ({ tasks, connected: true, reload: () => undefined, onLog: () => () => undefined, setRun: () => undefined });
const node = (over: Partial<GNode>): GNode => ({ id: 'task:evaluate', type: 'task', label: 'evaluate', path: 'evaluate', ...over });
const run = (state: Run['state']): Run => ({ run_id: 'r1', state });

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('NodePanel (the task side panel)', () => {
  it('opens on the Visualizations tab when the task has metrics, with its tables and confusion matrix', () => {
    render(<NodePanel node={node({ task: evaluate, state: 'SUCCEEDED' })} run={run('SUCCEEDED')} live={live([evaluate])} onClose={() => undefined} onOpenScope={() => undefined} />);
    const selected = screen.getByRole('tab', { selected: true });
    expect(selected.textContent).toBe('Visualizations');
    expect(screen.getByTestId('task-visualizations')).toBeTruthy();
    const metrics = screen.getByTestId('metrics-table');
    expect(metrics.textContent).toContain('accuracy');
    expect(metrics.textContent).toContain('0.9667');
    const cm = screen.getByTestId('confusion-matrix');
    expect(cm.textContent).toContain('setosa');
    expect(cm.textContent).toContain('virginica');
  });

  it('opens a task without visualizations on its inputs and outputs, and has no Visualizations tab', () => {
    const train: Task = { ...evaluate, task_id: 't-train', path: 'train', name: 'train', outputs: { parameters: { out: 'x' } } };
    render(<NodePanel node={node({ id: 'task:train', label: 'train', task: train, state: 'SUCCEEDED' })} run={run('SUCCEEDED')} live={live([train])} onClose={() => undefined} onOpenScope={() => undefined} />);
    expect(screen.getByRole('tab', { selected: true }).textContent).toBe('Input/Output');
    expect(screen.queryByRole('tab', { name: 'Visualizations' })).toBeNull();
    expect(screen.getByText('Output parameters')).toBeTruthy();
  });

  it('says a task of a failed run never ran instead of pending', () => {
    render(<NodePanel node={node({ id: 'task:train', label: 'train', state: undefined })} run={run('FAILED')} live={live([])} onClose={() => undefined} onOpenScope={() => undefined} />);
    expect(screen.getByTestId('not-run-note').textContent).toBe('Not run: the run failed before this task started.');
    expect(document.querySelector('.side-head .badge')!.textContent).toBe('Not run');
  });

  it('says a task of a running run has not started yet', () => {
    render(<NodePanel node={node({ id: 'task:train', label: 'train', state: 'PENDING' })} run={run('RUNNING')} live={live([])} onClose={() => undefined} onOpenScope={() => undefined} />);
    expect(screen.getByTestId('not-run-note').textContent).toBe('This task has not started yet.');
    expect(document.querySelector('.side-head .badge')!.textContent).toBe('Pending');
  });

  it("shows the task's details and reads its log on the Logs tab", async () => {
    // the log endpoint answers the bytes from ?offset= on, and the size so far
    const log = '[KFP Executor 2026-01-01 10:00:00,000 INFO]: Got executor_input:\n{\n    "inputs": {}\n}\nevaluating the model\naccuracy 0.97\n';
    const calls: URL[] = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (u: string) => {
        const url = new URL(u, 'http://pipeyard.test');
        calls.push(url);
        const offset = Number(url.searchParams.get('offset') ?? 0);
        return new Response(log.slice(offset), { status: 200, headers: { 'X-Log-Size': String(log.length) } });
      }),
    );
    render(<NodePanel node={node({ task: evaluate, state: 'SUCCEEDED' })} run={run('SUCCEEDED')} live={live([evaluate])} onClose={() => undefined} onOpenScope={() => undefined} />);
    fireEvent.click(screen.getByRole('tab', { name: 'Details' }));
    expect(screen.getByText('t-eval')).toBeTruthy();
    fireEvent.click(screen.getByRole('tab', { name: 'Logs' }));
    expect(await screen.findByText(/accuracy 0\.97/)).toBeTruthy();
    // the log opens on what the task printed; the executor's input dump is one click away
    const logs = document.querySelector('.logs')!;
    expect(logs.textContent).toBe('evaluating the model\naccuracy 0.97\n');
    fireEvent.click(screen.getByTestId('toggle-executor-lines'));
    expect(logs.textContent).toContain('Got executor_input:');
    expect(logs.textContent).toContain('"inputs": {}');
    expect(calls.some((c) => c.pathname === '/apis/pipeyard/v1/runs/r1/tasks/t-eval/log')).toBe(true);
  });
});
