import { describe, expect, it } from 'vitest';
import type { NodeChange } from '@xyflow/react';
import { keepMeasurements, recordMeasurements, unmeasuredIds, type InternalNodeLike, type Size } from '../src/lib/flow';

const dims = (id: string, width: number, height: number): NodeChange => ({ id, type: 'dimensions', dimensions: { width, height } });

describe('recordMeasurements', () => {
  it('keeps the sizes React Flow reports, so a rebuilt node object can hand them back', () => {
    const m = recordMeasurements(new Map(), [dims('task:train', 220, 58), dims('artifact:train:model', 180, 44)]);
    expect(m.get('task:train')).toEqual({ width: 220, height: 58 });
    expect(m.get('artifact:train:model')).toEqual({ width: 180, height: 44 });
  });

  it('returns the same map when nothing changed (no re-render)', () => {
    const m = recordMeasurements(new Map(), [dims('a', 220, 58)]);
    expect(recordMeasurements(m, [dims('a', 220, 58)])).toBe(m);
    expect(recordMeasurements(m, [{ id: 'a', type: 'select', selected: true }])).toBe(m);
    expect(recordMeasurements(m, [])).toBe(m);
  });

  it('updates a size that changed and never keeps a zero size', () => {
    const m = recordMeasurements(new Map(), [dims('a', 220, 58)]);
    const n = recordMeasurements(m, [dims('a', 220, 76), dims('b', 0, 0), { id: 'c', type: 'dimensions' }]);
    expect(n).not.toBe(m);
    expect(n.get('a')).toEqual({ width: 220, height: 76 });
    expect(n.has('b')).toBe(false);
    expect(n.has('c')).toBe(false);
    expect(m.get('a')).toEqual({ width: 220, height: 58 }); // the old map is left alone
  });
});

describe('keepMeasurements', () => {
  const m: ReadonlyMap<string, Size> = new Map([
    ['a', { width: 1, height: 1 }],
    ['b', { width: 2, height: 2 }],
  ]);
  it('drops the sizes of nodes that left the graph', () => {
    expect([...keepMeasurements(m, new Set(['b', 'c'])).keys()]).toEqual(['b']);
  });
  it('returns the same map when every node is still there', () => {
    expect(keepMeasurements(m, new Set(['a', 'b', 'c']))).toBe(m);
  });
});

describe('unmeasuredIds', () => {
  const node = (measured?: { width?: number; height?: number }, handleBounds?: unknown, hidden?: boolean): InternalNodeLike => ({ measured, hidden, internals: { handleBounds } });
  it('lists nodes without a size or handle bounds (drawn hidden), skipping hidden nodes', () => {
    const lookup = new Map<string, InternalNodeLike>([
      ['ok', node({ width: 220, height: 58 }, { source: [], target: [] })],
      ['no-size', node({ width: undefined, height: undefined }, undefined)],
      ['no-handles', node({ width: 220, height: 58 }, undefined)],
      ['hidden', node(undefined, undefined, true)],
    ]);
    expect(unmeasuredIds(lookup).split('\n')).toEqual(['no-size', 'no-handles']);
  });
  it('is empty when every node is measured, or there are none', () => {
    expect(unmeasuredIds(new Map([['ok', node({ width: 1, height: 1 }, {})]]))).toBe('');
    expect(unmeasuredIds(new Map())).toBe('');
  });
});
