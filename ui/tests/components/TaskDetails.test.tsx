// @vitest-environment jsdom
import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { Task } from '../../src/api/types';
import { TaskDetails, attemptNode } from '../../src/pages/run-detail/TaskDetails';

const base: Task = { task_id: 't1', run_id: 'r1', path: 'train', name: 'train', kind: 'CONTAINER', state: 'SUCCEEDED' };
const attempts: Task['attempt_list'] = [
  { attempt: 1, state: 'FAILED', started_at: '2026-01-01T00:00:00Z', finished_at: '2026-01-01T00:00:05Z', exit_code: 1 },
  { attempt: 2, state: 'SUCCEEDED', started_at: '2026-01-01T00:00:06Z', finished_at: '2026-01-01T00:00:08Z', exit_code: 0 },
];
const placed: Task = {
  ...base,
  attempts: 2,
  attempt_list: attempts,
  details: {
    attempts: {
      '1': { ray_node_ip: '10.0.2.2', ray_node_id: 'abcdef0123456789' },
      '2': {
        ray_node_ip: '10.0.2.1',
        ray_node_id: '99887766aabb',
        tries: [
          { ray_node_ip: '10.0.2.2', ray_node_id: 'abcdef0123456789' },
          { ray_node_ip: '10.0.2.1', ray_node_id: '99887766aabb' },
        ],
      },
    },
  },
};

afterEach(cleanup);

describe('TaskDetails: the node of each attempt', () => {
  it('names the node, and every try of a resubmitted attempt', () => {
    expect(attemptNode(placed, 1)).toBe('10.0.2.2 (node abcdef01…)');
    expect(attemptNode(placed, 2)).toBe('10.0.2.2 (node abcdef01…) → 10.0.2.1 (node 99887766…)');
    expect(attemptNode(placed, 3)).toBeNull();
  });

  it('shows a Node column only when some attempt has a placement', () => {
    render(<TaskDetails t={placed} tasks={[placed]} />);
    expect(screen.getAllByTestId('attempt-node').map((c) => c.textContent)).toEqual([
      '10.0.2.2 (node abcdef01…)',
      '10.0.2.2 (node abcdef01…) → 10.0.2.1 (node 99887766…)',
    ]);
    cleanup();
    render(<TaskDetails t={{ ...base, attempt_list: attempts }} tasks={[]} />);
    expect(screen.queryByTestId('attempt-node')).toBeNull();
    expect(screen.getByTestId('task-attempts')).toBeTruthy();
  });
});
