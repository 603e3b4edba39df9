import { describe, expect, it } from 'vitest';
import { buildNameFilter, buildRunFilter } from '../src/lib/filter';
import { auc, confusionMatrix, rocPoints, scalarMetrics, slices } from '../src/lib/metrics';
import { collectParams, initialValues, parseParam } from '../src/lib/params';
import type { ParamDef } from '../src/lib/spec';
import { parseDelimited } from '../src/lib/csv';
import { errorMessageFromBody } from '../src/api/client';
import { highlight } from '../src/components/LogViewer';
import { metricRows, paramRows } from '../src/pages/ComparePage';
import { attemptsMissing, mergeFetched, upsertTask } from '../src/lib/live';
import type { Run, Task } from '../src/api/types';

describe('filters', () => {
  it('builds an IS_SUBSTRING name predicate and a state predicate', () => {
    const f = JSON.parse(buildRunFilter({ name: ' iris ', states: ['FAILED'], archived: false })!);
    expect(f.predicates).toEqual([
      { key: 'display_name', operation: 'IS_SUBSTRING', string_value: 'iris' },
      { key: 'state', operation: 'EQUALS', string_value: 'FAILED' },
      { key: 'storage_state', operation: 'NOT_EQUALS', string_value: 'ARCHIVED' },
    ]);
  });
  it('uses IN for several states and nothing when empty', () => {
    expect(JSON.parse(buildRunFilter({ states: ['RUNNING', 'PENDING'] })!).predicates[0]).toEqual({ key: 'state', operation: 'IN', string_values: { values: ['RUNNING', 'PENDING'] } });
    expect(buildRunFilter({ name: '  ' })).toBeUndefined();
    expect(JSON.parse(buildRunFilter({ archived: true })!).predicates[0].operation).toBe('EQUALS');
    expect(buildNameFilter('')).toBeUndefined();
  });
});

describe('classification metrics (kfp metadata keys)', () => {
  const md = {
    confidenceMetrics: [
      { confidenceThreshold: 0.9, recall: 0.5, falsePositiveRate: 0 },
      { confidenceThreshold: 2, recall: 0, falsePositiveRate: 0 },
      { confidenceThreshold: 0.1, recall: 1, falsePositiveRate: 1 },
      { confidenceThreshold: 0.5, recall: 1, falsePositiveRate: 0.5 },
      { bogus: true },
    ],
    confusionMatrix: {
      annotationSpecs: [{ displayName: 'setosa' }, { displayName: 'versicolor' }],
      rows: [{ row: [10, 1] }, { row: [2, 7] }],
    },
  };
  it('extracts ROC points sorted by FPR and computes AUC', () => {
    const pts = rocPoints(md);
    expect(pts.map((p) => [p.fpr, p.tpr])).toEqual([[0, 0], [0, 0.5], [0.5, 1], [1, 1]]);
    expect(auc(pts)).toBeCloseTo(0.875);
  });
  it('extracts the confusion matrix with labels and max', () => {
    expect(confusionMatrix(md)).toEqual({ labels: ['setosa', 'versicolor'], rows: [[10, 1], [2, 7]], max: 10 });
    expect(confusionMatrix({})).toBeNull();
  });
  it('pads ragged matrices', () => {
    const cm = confusionMatrix({ confusionMatrix: { annotationSpecs: [{ displayName: 'a' }, { displayName: 'b' }], rows: [{ row: [1] }] } })!;
    expect(cm.rows).toEqual([[1, 0], [0, 0]]);
  });
  it('reads slices and scalar metrics', () => {
    expect(slices({ evaluationSlices: [{ slice: 'all', sliceClassificationMetrics: md }] })[0].slice).toBe('all');
    expect(scalarMetrics({ accuracy: 0.9, display_name: 'm', note: 'x', f1: '0.8' })).toEqual([['accuracy', 0.9], ['f1', 0.8]]);
  });
});

describe('parameter form', () => {
  const d = (name: string, type: ParamDef['type'], extra: Partial<ParamDef> = {}): ParamDef => ({ name, type, hasDefault: false, optional: false, ...extra });
  it('validates numbers', () => {
    expect(parseParam(d('n', 'NUMBER_INTEGER'), '42')).toEqual({ ok: true, value: 42 });
    expect(parseParam(d('n', 'NUMBER_INTEGER'), '4.2').ok).toBe(false);
    expect(parseParam(d('x', 'NUMBER_DOUBLE'), '1e-3')).toEqual({ ok: true, value: 0.001 });
    expect(parseParam(d('x', 'NUMBER_DOUBLE'), 'abc').ok).toBe(false);
    expect(parseParam(d('x', 'NUMBER_DOUBLE'), '')).toEqual({ ok: false, error: 'Required' });
  });
  it('validates JSON lists and structs', () => {
    expect(parseParam(d('l', 'LIST'), '[1, 2]')).toEqual({ ok: true, value: [1, 2] });
    expect(parseParam(d('l', 'LIST'), '{"a":1}').ok).toBe(false);
    expect(parseParam(d('s', 'STRUCT'), '{"a":1}')).toEqual({ ok: true, value: { a: 1 } });
    const bad = parseParam(d('s', 'STRUCT'), '{a:1}');
    expect(bad.ok === false && bad.error).toMatch(/Not valid JSON/);
  });
  it('fills defaults, prefers cloned values and omits empty optional fields', () => {
    const defs = [d('C', 'NUMBER_DOUBLE', { hasDefault: true, defaultValue: 1 }), d('flag', 'BOOLEAN', { hasDefault: true, defaultValue: true }), d('items', 'LIST', { optional: true }), d('name', 'STRING')];
    const v = initialValues(defs, { C: 0.5 });
    expect(v).toEqual({ C: '0.5', flag: 'true', items: '', name: '' });
    const r = collectParams(defs, { ...v, name: '' });
    expect(r.errors).toEqual({ name: 'Required' });
    expect(collectParams(defs, { ...v, name: 'x' })).toEqual({ params: { C: 0.5, flag: true, name: 'x' }, errors: {} });
  });
});

describe('small helpers', () => {
  it('reads error messages from KFP and FastAPI bodies', () => {
    expect(errorMessageFromBody(400, '{"error_message":"not a pipeline","code":3}')).toBe('not a pipeline');
    expect(errorMessageFromBody(422, '{"detail":[{"msg":"field required"}]}')).toBe('field required');
    expect(errorMessageFromBody(500, 'boom')).toBe('Server error (500): boom');
  });
  it('parses CSV previews', () => {
    expect(parseDelimited('a,b\n1,"x,y"\n2,z\n')).toEqual({ header: ['a', 'b'], rows: [['1', 'x,y'], ['2', 'z']] });
    expect(parseDelimited('just text')).toBeNull();
  });
  it('highlights log matches case-insensitively', () => {
    expect(highlight('Train accuracy ACC', 'acc')).toEqual(['Train ', { m: 'acc' }, 'uracy ', { m: 'ACC' }]);
  });
  it('merges task events by id', () => {
    const t = { task_id: 'a', run_id: 'r', path: 'a', name: 'a', kind: 'CONTAINER' as const, state: 'RUNNING' as const };
    expect(upsertTask([t], { ...t, state: 'SUCCEEDED' })[0].state).toBe('SUCCEEDED');
    expect(upsertTask([t], { ...t, task_id: 'b' })).toHaveLength(2);
  });
  it('compares parameters and metrics across runs', () => {
    const runs = [
      { run_id: '1', runtime_config: { parameters: { C: 1, n: 3 } } },
      { run_id: '2', runtime_config: { parameters: { C: 0.5, n: 3 } } },
    ];
    expect(paramRows(runs)).toEqual([
      { name: 'C', values: ['1', '0.5'], differs: true },
      { name: 'n', values: ['3', '3'], differs: false },
    ]);
    const rows = metricRows([
      { run: runs[0], artifacts: [{ artifact_id: 'x', name: 'metrics', uri: '', type: 'system.Metrics', metadata: { accuracy: 0.9 } }] },
      { run: runs[1], artifacts: [] },
    ]);
    expect(rows).toEqual([{ name: 'accuracy', values: [0.9, undefined], differs: true }]);
  });
});

import { summarizeError } from '../src/pages/run-detail/summarizeError';
describe('failure banner', () => {
  it('puts the exception line next to the first line', () => {
    const msg = "task 'do-work' failed: exit code 1\n--- last lines ---\nTraceback (most recent call last):\n  File \"x.py\", line 1\nRuntimeError: the work failed\n";
    expect(summarizeError(msg)).toBe("task 'do-work' failed: exit code 1 — RuntimeError: the work failed");
    expect(summarizeError('plain')).toBe('plain');
  });
});

describe('live run: fetched state vs. events during the fetch', () => {
  const run = { run_id: 'r', state: 'CANCELING' } as Run;
  const task = { task_id: 'a', run_id: 'r', path: 'nap', name: 'nap', kind: 'CONTAINER', state: 'RUNNING' } as Task;
  it('keeps what events said while the fetch was in flight', () => {
    const during = { run: { run_id: 'r', state: 'CANCELED' as const }, tasks: new Map([['a', { ...task, state: 'CANCELED' as const }]]) };
    const m = mergeFetched({ ...run, runtime_config: { parameters: { x: 1 } } }, [task, { ...task, task_id: 'b', path: 'b' }], during);
    expect(m.run.state).toBe('CANCELED');
    expect(m.run.runtime_config?.parameters).toEqual({ x: 1 });
    expect(m.tasks.map((t) => [t.task_id, t.state])).toEqual([
      ['a', 'CANCELED'],
      ['b', 'RUNNING'],
    ]);
  });
  it('takes the fetch as is when no event came', () => {
    const m = mergeFetched(run, [task], { tasks: new Map() });
    expect(m.run).toBe(run);
    expect(m.tasks).toEqual([task]);
  });
});

describe('live run: task events without attempts', () => {
  const a1 = { attempt: 1, state: 'FAILED' as const, exit_code: 1 };
  const t = { task_id: 'a', run_id: 'r', path: 'p', name: 'p', kind: 'CONTAINER', state: 'FAILED', attempts: 1, attempt_list: [a1] } as Task;
  it('an event with an empty attempt_list keeps the known attempts', () => {
    const next = upsertTask([t], { ...t, state: 'RUNNING', attempts: 2, attempt_list: [] });
    expect(next[0].state).toBe('RUNNING');
    expect(next[0].attempt_list).toEqual([a1]);
  });
  it('asks for the task list when an event counts more attempts than are known', () => {
    expect(attemptsMissing({ ...t, state: 'RUNNING', attempts: 2, attempt_list: [] }, t)).toBe(true);
    expect(attemptsMissing({ ...t, attempt_list: [] }, t)).toBe(false);
    expect(attemptsMissing({ ...t, attempt_list: [], finished_at: '2026-01-01T00:00:01Z' }, { ...t, finished_at: null })).toBe(true);
  });
});
