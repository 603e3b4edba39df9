import dagre from '@dagrejs/dagre';
import type { GEdge, GNode } from './graph';

// Labels wrap (up to LABEL_LINES lines, see .gn-label): the layout reserves their height.
const LABEL_LINES = 4;
const LINE_PX = 17;
const CHAR_PX = 7.4;

function extraLabelHeight(label: string, textWidth: number): number {
  const lines = Math.min(LABEL_LINES, Math.max(1, Math.ceil((label.length * CHAR_PX) / textWidth)));
  return (lines - 1) * LINE_PX;
}

export function nodeSize(n: GNode): { width: number; height: number } {
  switch (n.type) {
    case 'artifact':
      return { width: 180, height: 44 + extraLabelHeight(n.label, 140) };
    case 'iteration':
      return { width: 180, height: 58 };
    default:
      return { width: 220, height: 58 + extraLabelHeight(n.label, 170) };
  }
}

/** Top-to-bottom layered layout; returns the top-left corner of each node. */
export function layoutGraph(nodes: GNode[], edges: GEdge[]): Map<string, { x: number; y: number }> {
  if (!edges.length && nodes.length > 4) {
    // unconnected nodes (loop iterations): a grid stays readable where one long row would not
    const cols = Math.ceil(Math.sqrt(nodes.length * 2));
    const out = new Map<string, { x: number; y: number }>();
    nodes.forEach((n, i) => {
      const s = nodeSize(n);
      out.set(n.id, { x: (i % cols) * (s.width + 24), y: Math.floor(i / cols) * (s.height + 24) });
    });
    return out;
  }
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'TB', nodesep: 30, ranksep: 42, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) g.setNode(n.id, nodeSize(n));
  for (const e of edges) if (g.hasNode(e.source) && g.hasNode(e.target)) g.setEdge(e.source, e.target);
  dagre.layout(g);
  const out = new Map<string, { x: number; y: number }>();
  for (const n of nodes) {
    const p = g.node(n.id) as { x: number; y: number } | undefined;
    const s = nodeSize(n);
    out.set(n.id, p ? { x: p.x - s.width / 2, y: p.y - s.height / 2 } : { x: 0, y: 0 });
  }
  return out;
}
