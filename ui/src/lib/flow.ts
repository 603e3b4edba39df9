// Keeps React Flow's node measurements across re-renders of a controlled graph.
//
// React Flow draws a node with `visibility: hidden` until it knows the node's size
// (`measured`). When a node object passed in `nodes` is new and carries no `measured`,
// React Flow drops the size it had and waits for its ResizeObserver to report the
// node again. The run graph builds new node objects on every update (each task event,
// each second while the run is running), so its nodes lost their sizes again and again;
// when a re-render landed between an observation and the next commit, nothing measured
// the node again and it stayed hidden for good (an empty graph once the run finished).
// Handing the sizes back in every node object keeps them.
import type { NodeChange } from '@xyflow/react';

export interface Size {
  width: number;
  height: number;
}

/** The sizes React Flow reported in `changes`, merged into `prev` (the same map when nothing changed). */
export function recordMeasurements(prev: ReadonlyMap<string, Size>, changes: readonly NodeChange[]): ReadonlyMap<string, Size> {
  let next: Map<string, Size> | undefined;
  for (const c of changes) {
    if (c.type !== 'dimensions' || !c.dimensions) continue;
    const { width, height } = c.dimensions;
    if (!(width > 0 && height > 0)) continue;
    const old = (next ?? prev).get(c.id);
    if (old && old.width === width && old.height === height) continue;
    next ??= new Map(prev);
    next.set(c.id, { width, height });
  }
  return next ?? prev;
}

/** `sizes` limited to the nodes in `ids` (the same map when nothing is dropped). */
export function keepMeasurements(sizes: ReadonlyMap<string, Size>, ids: ReadonlySet<string>): ReadonlyMap<string, Size> {
  for (const id of sizes.keys()) {
    if (!ids.has(id)) return new Map([...sizes].filter(([k]) => ids.has(k)));
  }
  return sizes;
}

/** Internal node state as React Flow keeps it (the part this module reads). */
export interface InternalNodeLike {
  hidden?: boolean;
  measured?: { width?: number; height?: number };
  internals: { handleBounds?: unknown };
}

/** Ids of the nodes React Flow has not measured (drawn hidden, their edges not drawn), one per line. */
export function unmeasuredIds(nodeLookup: ReadonlyMap<string, InternalNodeLike>): string {
  const out: string[] = [];
  for (const [id, n] of nodeLookup) {
    if (n.hidden) continue;
    if (!n.measured?.width || !n.measured?.height || !n.internals.handleBounds) out.push(id);
  }
  return out.join('\n');
}
