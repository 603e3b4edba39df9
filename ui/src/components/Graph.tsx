import { memo, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import {
  Background,
  Controls,
  Handle,
  MarkerType,
  Position,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
  useStore,
  useUpdateNodeInternals,
  type Edge,
  type Node,
  type NodeChange,
  type NodeProps,
  type ReactFlowState,
} from '@xyflow/react';
import type { GNode, ScopeGraph } from '../lib/graph';
import { visualState } from '../lib/graph';
import { keepMeasurements, recordMeasurements, unmeasuredIds, type Size } from '../lib/flow';
import { layoutGraph } from '../lib/layout';
import { durationBetween, formatDuration } from '../lib/format';
import { StateIcon } from './common';

type FlowData = { g: GNode; selected: boolean; now: number; onOpen?: (path: string) => void };

/** The second line of a task or group node: what it is, how it went, how a loop's iterations went. */
export function nodeSubText(g: GNode): string {
  const base = g.sublabel ?? (g.notRun ? 'not run' : g.state ? g.state.toLowerCase() : '');
  const it = g.iterations;
  if (!it) return base;
  const parts = [it.running ? `${it.running} running` : '', it.failed ? `${it.failed} failed` : '', it.succeeded && it.succeeded < it.total ? `${it.succeeded} done` : ''].filter(Boolean);
  return parts.length ? `${base} · ${parts.join(' · ')}` : base;
}

const TaskNode = memo(function TaskNode({ data }: NodeProps<Node<FlowData>>) {
  const { g, selected, now, onOpen } = data;
  const v = g.type === 'artifact' ? 'none' : visualState(g.state, g.cached);
  const dur = g.task ? durationBetween(g.task.started_at ?? undefined, g.task.finished_at ?? undefined, now) : undefined;
  const subText = nodeSubText(g);
  const cls = ['gnode', g.type, `v-${v}`, selected ? 'selected' : '', g.type === 'artifact' && !g.artifact ? 'missing' : '', g.notRun ? 'not-run' : ''].join(' ');
  return (
    <div
      className={cls}
      data-testid={`node-${g.label}`}
      data-node-id={g.id}
      data-state={g.state ?? ''}
      data-visual={v}
      title={g.path}
      onDoubleClick={(e) => {
        if (g.openPath && onOpen) {
          e.stopPropagation();
          onOpen(g.openPath);
        }
      }}
    >
      <Handle type="target" position={Position.Top} isConnectable={false} />
      {g.type === 'artifact' ? (
        <>
          <div className="gn-head">
            <svg width="13" height="13" viewBox="0 0 16 16" aria-hidden>
              <path d="M3 2h7l3 3v9H3z" fill={g.artifact ? '#f5c542' : '#d0d5dd'} stroke="#8a6d14" strokeWidth="0.8" />
            </svg>
            <span className="gn-label" title={`${g.label} (${g.artifactType ?? 'artifact'})`}>
              {g.label}
            </span>
          </div>
          <div className="gn-sub">
            <span>{(g.artifactType ?? '').replace(/^system\./, '')}</span>
          </div>
        </>
      ) : (
        <>
          <div className="gn-head">
            <StateIcon state={g.notRun ? 'none' : v === 'none' ? 'pending' : v} />
            <span className="gn-label" title={g.label}>
              {g.label}
            </span>
            {g.cached && <span className="tag" title="Result reused from the cache">cached</span>}
          </div>
          <div className="gn-sub">
            <span title={subText}>{subText}</span>
            <span>{dur !== undefined ? formatDuration(dur) : ''}</span>
          </div>
          {g.openPath && onOpen && (
            <button
              className="open-hint btn small graph-corner"
              onClick={(e) => {
                e.stopPropagation();
                onOpen(g.openPath!);
              }}
              title="Open this group"
            >
              open ›
            </button>
          )}
        </>
      )}
      <Handle type="source" position={Position.Bottom} isConnectable={false} />
    </div>
  );
});

const nodeTypes = { pnode: TaskNode };

const selectUnmeasured = (s: ReactFlowState) => unmeasuredIds(s.nodeLookup);

/**
 * Keeps the nodes measured and in view: fits the view whenever the graph's structure
 * (or `fitKey`) changes, but only once React Flow has measured every node, so the fit
 * never uses a partial or empty set of node bounds. Should a node stay unmeasured
 * (React Flow draws it hidden until it has a size), measures it from the DOM.
 */
function ViewKeeper({ sig }: { sig: string }) {
  const rf = useReactFlow();
  const updateNodeInternals = useUpdateNodeInternals();
  const unmeasured = useStore(selectUnmeasured);
  const allMeasured = unmeasured === '';
  useEffect(() => {
    if (!allMeasured) return;
    // wait for the container to settle (a side panel may have just opened)
    const id = setTimeout(() => void rf.fitView({ padding: 0.15, maxZoom: 1.1, duration: 150 }), 80);
    return () => clearTimeout(id);
  }, [sig, allMeasured, rf]);
  useEffect(() => {
    if (allMeasured) return;
    // normally the ResizeObserver reports the nodes within a frame; this is the fallback
    const ids = unmeasured.split('\n');
    const id = setInterval(() => updateNodeInternals(ids), 250);
    return () => clearInterval(id);
  }, [unmeasured, allMeasured, updateNodeInternals]);
  return null;
}

export interface GraphProps {
  graph: ScopeGraph;
  selectedId?: string;
  onSelect?: (n: GNode) => void;
  onOpen?: (path: string) => void;
  now?: number;
  /** refit the view when this changes (e.g. a side panel opened) */
  fitKey?: string;
}

function GraphInner({ graph, selectedId, onSelect, onOpen, now = Date.now(), fitKey = '' }: GraphProps) {
  const pendingClick = useRef<{ id: string; timer: ReturnType<typeof setTimeout> } | null>(null);
  // layout depends only on structure, not on states
  const nodeIds = useMemo(() => graph.nodes.map((n) => n.id).join('\n'), [graph]);
  const structure = useMemo(() => `${graph.path}|${nodeIds}|${graph.edges.map((e) => e.id).join(',')}`, [graph, nodeIds]);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const positions = useMemo(() => layoutGraph(graph.nodes, graph.edges), [structure]);
  // the sizes React Flow measured, handed back with every node (see lib/flow.ts)
  const [sizes, setSizes] = useState<ReadonlyMap<string, Size>>(() => new Map());
  const onNodesChange = useCallback((changes: NodeChange<Node<FlowData>>[]) => setSizes((m) => recordMeasurements(m, changes)), []);
  useEffect(() => {
    const ids = new Set(nodeIds.split('\n'));
    setSizes((m) => keepMeasurements(m, ids));
  }, [nodeIds]);
  const nodes: Node<FlowData>[] = graph.nodes.map((g) => ({
    id: g.id,
    type: 'pnode',
    position: positions.get(g.id) ?? { x: 0, y: 0 },
    data: { g, selected: g.id === selectedId, now, onOpen },
    draggable: false,
    connectable: false,
    ...(sizes.has(g.id) ? { measured: sizes.get(g.id) } : {}),
  }));
  const edges: Edge[] = graph.edges.map((e) => {
    const src = graph.nodes.find((n) => n.id === e.source);
    const running = src?.state === 'RUNNING';
    return {
      id: e.id,
      source: e.source,
      target: e.target,
      type: 'smoothstep',
      animated: running,
      markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16, color: '#98a2b3' },
      style: { stroke: '#98a2b3', strokeWidth: 1.4 },
    };
  });
  return (
    <ReactFlow
      nodes={nodes}
      edges={edges}
      nodeTypes={nodeTypes}
      onNodesChange={onNodesChange}
      fitView
      fitViewOptions={{ padding: 0.15, maxZoom: 1.1 }}
      minZoom={0.2}
      maxZoom={2}
      nodesDraggable={false}
      nodesConnectable={false}
      proOptions={{ hideAttribution: true }}
      onNodeClick={(_, n) => {
        const g = (n.data as FlowData).g;
        // a group node waits a moment for a second click (open) before selecting,
        // because selecting opens the side panel and moves the node under the pointer
        if (!g.openPath || !onOpen) return onSelect?.(g);
        const p = pendingClick.current;
        if (p && p.id === g.id) {
          clearTimeout(p.timer);
          pendingClick.current = null;
          onOpen(g.openPath);
          return;
        }
        if (p) clearTimeout(p.timer);
        pendingClick.current = {
          id: g.id,
          timer: setTimeout(() => {
            pendingClick.current = null;
            onSelect?.(g);
          }, 280),
        };
      }}
      zoomOnDoubleClick={false}
    >
      <Background gap={18} color="#e6e9ee" />
      <Controls showInteractive={false} />
      <ViewKeeper sig={`${structure}#${fitKey}`} />
    </ReactFlow>
  );
}

export function PipelineGraph(props: GraphProps & { onCrumb?: (path: string) => void }) {
  const { graph, onCrumb } = props;
  return (
    <div className="graph-column">
      {graph.crumbs.length > 1 && (
        <div className="graph-crumbs" aria-label="Graph location">
          {graph.crumbs.map((c, i) => (
            <span key={c.path + i} className="crumb">
              {i > 0 && <span className="muted">›</span>}
              <button disabled={i === graph.crumbs.length - 1} onClick={() => onCrumb?.(c.path)}>
                {c.label}
              </button>
            </span>
          ))}
        </div>
      )}
      <div className="graph-wrap">
        {graph.error ? (
          <div className="empty">{graph.error}</div>
        ) : graph.nodes.length === 0 ? (
          <div className="empty">This DAG has no tasks.</div>
        ) : (
          <ReactFlowProvider>
            <GraphInner {...props} />
          </ReactFlowProvider>
        )}
      </div>
    </div>
  );
}
