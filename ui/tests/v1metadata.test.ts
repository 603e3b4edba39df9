import { describe, expect, it } from 'vitest';
import { v1ConfusionMatrix, v1Outputs, v1Roc, v1Text } from '../src/lib/v1metadata';

describe('KFP v1 ui metadata', () => {
  const metadata = {
    v1_ui_metadata: [
      { type: 'markdown', storage: 'inline', source: '# Hello' },
      { type: 'confusion_matrix', source: '/x/cm.csv', labels: ['cat', 'dog'], content: 'cat,cat,3\ncat,dog,1\ndog,dog,4\n',
        schema: [{ name: 'target' }, { name: 'predicted' }, { name: 'count' }] },
      { type: 'roc', content: '0.5,0.9,0.2\n0,0,1\n1,1,0\n', schema: [{ name: 'fpr' }, { name: 'tpr' }, { name: 'thresholds' }] },
      { nope: true },
    ],
  };

  it('keeps the outputs that have a type', () => {
    expect(v1Outputs(metadata).map((o) => o.type)).toEqual(['markdown', 'confusion_matrix', 'roc']);
    expect(v1Outputs({})).toEqual([]);
    expect(v1Text(v1Outputs(metadata)[0])).toBe('# Hello');
  });

  it('builds a confusion matrix from (target, predicted, count) rows', () => {
    const cm = v1ConfusionMatrix(v1Outputs(metadata)[1]);
    expect(cm).toEqual({ labels: ['cat', 'dog'], rows: [[3, 1], [0, 4]], max: 4 });
  });

  it('reads ROC points sorted by false positive rate', () => {
    expect(v1Roc(v1Outputs(metadata)[2]).map((p) => [p.fpr, p.tpr])).toEqual([[0, 0], [0.5, 0.9], [1, 1]]);
  });
});
