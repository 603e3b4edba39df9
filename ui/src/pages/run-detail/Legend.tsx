import { StateIcon } from '../../components/common';
import type { VisualState } from '../../lib/graph';

const ITEMS: [VisualState, string][] = [
  ['pending', 'pending'],
  ['running', 'running'],
  ['succeeded', 'succeeded'],
  ['cached', 'cached'],
  ['failed', 'failed'],
  ['canceled', 'canceled'],
  ['skipped', 'skipped'],
  ['none', 'not run'],
];

export function Legend() {
  return (
    <div className="legend">
      {ITEMS.map(([s, l]) => (
        <span key={s}>
          <StateIcon state={s} size={12} /> {l}
        </span>
      ))}
      <span>· double-click a group to open it</span>
    </div>
  );
}
