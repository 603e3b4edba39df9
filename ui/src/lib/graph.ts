// Builds the graph of one DAG scope (the root, a sub-DAG, a loop's iterations
// or one iteration) from a PipelineSpec and, for a run, its tasks.
import { debugPause } from './debugPause';
import type { ArtifactRef, RuntimeState, Task } from '../api/types';
import { component, taskShape, type DagSpec, type PipelineSpec, type TaskShape } from './spec';
import type { LoopCounts } from './taskWindow';

export type NodeType = 'task' | 'group' | 'artifact' | 'iteration';

export interface GNode {
  id: string;
  type: NodeType;
  label: string;
  sublabel?: string;
  shape?: TaskShape;
  /** runtime path of the task (tasks, groups, iterations) */
  path?: string;
  state?: RuntimeState;
  cached?: boolean;
  task?: Task;
  /** scope path that opens when the node is double-clicked / "open" clicked */
  openPath?: string;
  /** artifact nodes */
  producer?: string;
  outputKey?: string;
  artifactType?: string;
  artifact?: ArtifactRef;
  /** the run ended before this task started (drawn as "not run", not pending) */
  notRun?: boolean;
  /** loops: how many iterations and how they ended */
  iterations?: { total: number; succeeded: number; failed: number; running: number };
}

export interface GEdge {
  id: string;
  source: string;
  target: string;
}

export interface Crumb {
  label: string;
  path: string;
}

export interface ScopeGraph {
  nodes: GNode[];
  edges: GEdge[];
  crumbs: Crumb[];
  /** the scope actually drawn (a loop with no iterations yet opens its body) */
  path: string;
  error?: string;
  /** a loop's iterations are drawn a page at a time (a 10,000-item loop would be 10,000 nodes) */
  iterationPage?: { page: number; pages: number; total: number; first: number; last: number };
}

/** Iterations drawn per page of a loop scope. */
export const ITERATIONS_PER_PAGE = 100;

interface Segment {
  name: string;
  index?: string; // "0", "1", ... or "*" for the loop body template
}

export function parsePath(path: string): Segment[] {
  if (!path) return [];
  return path.split('/').map((s) => {
    const m = /^(.*)\[([^\]]+)\]$/.exec(s);
    return m ? { name: m[1], index: m[2] } : { name: s };
  });
}

export function joinPath(prefix: string, name: string): string {
  return prefix ? `${prefix}/${name}` : name;
}

export function indexTasks(tasks: Task[]): Map<string, Task> {
  const m = new Map<string, Task>();
  for (const t of tasks) {
    const prev = m.get(t.path);
    // several rows may share a path only by mistake; keep the newest
    if (!prev || (t.created_at ?? '') >= (prev.created_at ?? '')) m.set(t.path, t);
  }
  return m;
}

/** Loop iterations recorded for a loop task at `loopPath`, sorted by index. */
export function iterationsOf(loopPath: string, byPath: Map<string, Task>): { index: number; path: string; task: Task }[] {
  const out: { index: number; path: string; task: Task }[] = [];
  const prefix = `${loopPath}[`;
  for (const [p, t] of byPath) {
    if (p.startsWith(prefix) && p.endsWith(']') && !p.slice(prefix.length).includes('/')) {
      const idx = Number(p.slice(prefix.length, -1));
      out.push({ index: Number.isFinite(idx) ? idx : (t.iteration_index ?? 0), path: p, task: t });
    }
  }
  return out.sort((a, b) => a.index - b.index);
}

/** The iterations' counts the server sent for the loop at `loopPath`: all of them, also those on no page fetched. */
function countsOf(loopPath: string, byPath: Map<string, Task>, loops?: Map<string, LoopCounts>): LoopCounts | undefined {
  const id = byPath.get(loopPath)?.task_id;
  return id !== undefined ? loops?.get(id) : undefined;
}

function iterationSummary(loopPath: string, byPath: Map<string, Task>, loops?: Map<string, LoopCounts>) {
  const counts = countsOf(loopPath, byPath, loops);
  if (counts && counts.total > 0) {
    const n = (s: string) => counts.states[s] ?? 0;
    return { total: counts.total, succeeded: n('SUCCEEDED'), failed: n('FAILED'), running: n('RUNNING') };
  }
  const its = iterationsOf(loopPath, byPath);
  if (!its.length) return undefined;
  return {
    total: its.length,
    succeeded: its.filter((i) => i.task.state === 'SUCCEEDED').length,
    failed: its.filter((i) => i.task.state === 'FAILED').length,
    running: its.filter((i) => i.task.state === 'RUNNING').length,
  };
}

function shortCondition(c: string | undefined): string | undefined {
  if (!c) return undefined;
  // inputs.parameter_values['pipelinechannel--flip-coin-Output'] == 'heads' -> flip-coin-Output == 'heads'
  const s = c
    .replace(/inputs\.parameter_values\[['"]pipelinechannel--([^'"]+)['"]\]/g, '$1')
    .replace(/inputs\.parameter_values\[['"]([^'"]+)['"]\]/g, '$1');
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
}

const SHAPE_LABEL: Record<TaskShape, string> = {
  task: '',
  importer: 'importer',
  loop: 'loop',
  condition: 'condition',
  'exit-handler': 'exit handler',
  dag: 'sub-pipeline',
};

/** Resolve a scope path to the DAG it draws. */
function resolveScope(
  spec: PipelineSpec,
  path: string,
): { kind: 'dag'; dag: DagSpec; prefix: string; crumbs: Crumb[] } | { kind: 'loop'; loopPath: string; bodyDag: DagSpec; crumbs: Crumb[] } | { error: string; crumbs: Crumb[] } {
  const crumbs: Crumb[] = [{ label: spec.pipelineInfo?.name ?? 'pipeline', path: '' }];
  let dag: DagSpec | undefined = spec.root?.dag;
  if (!dag) return { error: 'This pipeline spec has no root DAG.', crumbs };
  const segs = parsePath(path);
  let prefix = '';
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i];
    const t: import('./spec').TaskSpec | undefined = dag?.tasks?.[seg.name];
    if (!t) return { error: `No task "${seg.name}" in this DAG.`, crumbs };
    const comp = component(spec, t.componentRef?.name);
    const shape = taskShape(spec, seg.name, t);
    const here = joinPath(prefix, seg.name);
    crumbs.push({ label: t.taskInfo?.name ?? seg.name, path: here });
    if (!comp?.dag) return { error: `"${seg.name}" is not a sub-DAG.`, crumbs };
    if (shape === 'loop') {
      if (seg.index === undefined) {
        if (i !== segs.length - 1) return { error: 'A loop path needs an iteration index.', crumbs };
        return { kind: 'loop', loopPath: here, bodyDag: comp.dag, crumbs };
      }
      prefix = `${here}[${seg.index}]`;
      crumbs.push({ label: seg.index === '*' ? 'loop body' : `iteration ${seg.index}`, path: prefix });
    } else {
      prefix = here;
    }
    dag = comp.dag;
  }
  return { kind: 'dag', dag: dag!, prefix, crumbs };
}

export function buildScopeGraph(
  spec: PipelineSpec,
  path: string,
  byPath: Map<string, Task> = new Map(),
  // live: a run's graph (a task without a record is pending); ended: the run has
  // finished, so a task without a record (or still pending) never ran
  // loops: every loop's iteration counts by loop task id, when `byPath` holds only a window
  // of a huge run's iterations (lib/taskWindow.ts): pages and totals come from them
  opts: { live?: boolean; ended?: boolean; iterationPage?: number; loops?: Map<string, LoopCounts> } = {},
): ScopeGraph {
  const r = resolveScope(spec, path);
  if ('error' in r) return { nodes: [], edges: [], crumbs: r.crumbs, path, error: r.error };
  if (r.kind === 'loop') {
    const its = iterationsOf(r.loopPath, byPath);
    const total = Math.max(countsOf(r.loopPath, byPath, opts.loops)?.total ?? 0, its.length);
    if (!total) {
      // nothing ran yet (or a static view): show the loop body
      return buildScopeGraph(spec, `${r.loopPath}[*]`, byPath, opts);
    }
    const pages = Math.ceil(total / ITERATIONS_PER_PAGE);
    const page = Math.min(Math.max(opts.iterationPage ?? 0, 0), pages - 1);
    // by index: a window holds only the page asked for (or, while it loads, another one)
    const shown = its.filter((it) => it.index >= page * ITERATIONS_PER_PAGE && it.index < (page + 1) * ITERATIONS_PER_PAGE);
    const nodes: GNode[] = shown.map((it) => ({
      id: `iter:${it.path}`,
      type: 'iteration',
      label: `Iteration ${it.index}`,
      sublabel: iterationLabel(it.task),
      path: it.path,
      state: it.task.state,
      task: it.task,
      openPath: it.path,
    }));
    const first = shown.length ? shown[0].index : page * ITERATIONS_PER_PAGE;
    const last = shown.length ? shown[shown.length - 1].index : Math.min(total, (page + 1) * ITERATIONS_PER_PAGE) - 1;
    const iterationPage = { page, pages, total, first, last };
    return { nodes, edges: [], crumbs: r.crumbs, path, iterationPage };
  }

  const { dag, prefix, crumbs } = r;
  const tasks = dag.tasks ?? {};
  const nodes: GNode[] = [];
  const edges: GEdge[] = [];
  const edgeIds = new Set<string>();
  const addEdge = (source: string, target: string) => {
    const id = `${source}->${target}`;
    if (edgeIds.has(id)) return;
    edgeIds.add(id);
    edges.push({ id, source, target });
  };
  const nodeId = (name: string) => `task:${name}`;

  for (const [name, t] of Object.entries(tasks)) {
    const shape = taskShape(spec, name, t);
    const rpath = joinPath(prefix, name);
    const task = byPath.get(rpath);
    const comp = component(spec, t.componentRef?.name);
    const isGroup = shape === 'loop' || shape === 'condition' || shape === 'exit-handler' || shape === 'dag';
    const node: GNode = {
      id: nodeId(name),
      type: isGroup ? 'group' : 'task',
      label: t.taskInfo?.name ?? name,
      shape,
      path: rpath,
      task,
      state: nodeState(task, opts),
      cached: task?.cached ?? false,
    };
    if (opts.ended && (!task || task.state === 'PENDING')) node.notRun = true;
    if (isGroup) {
      node.openPath = rpath;
      if (shape === 'condition') {
        // whether the branch ran shows on the collapsed group, without opening it
        const cond = shortCondition(t.triggerPolicy?.condition) ?? SHAPE_LABEL[shape];
        const branches = branchSummary(rpath, byPath);
        node.sublabel = branches ?? (task ? `${cond} · ${branchWord(task.state)}` : cond);
      }
      else if (shape === 'loop') {
        node.iterations = iterationSummary(rpath, byPath, opts.loops);
        const items = t.parameterIterator?.items?.raw;
        node.sublabel = node.iterations
          ? `loop · ${node.iterations.total} iteration${node.iterations.total === 1 ? '' : 's'}`
          : items
            ? `loop over ${items.length > 40 ? `${items.slice(0, 37)}…` : items}`
            : 'loop';
      } else node.sublabel = SHAPE_LABEL[shape];
    } else if (shape === 'importer') node.sublabel = 'importer';
    nodes.push(node);

    // output artifacts as nodes between producer and consumers
    for (const [key, def] of Object.entries(comp?.outputDefinitions?.artifacts ?? {})) {
      const ref = task?.outputs?.artifacts?.[key]?.[0];
      nodes.push({
        id: `artifact:${name}:${key}`,
        type: 'artifact',
        label: key,
        sublabel: def.artifactType?.schemaTitle,
        producer: name,
        outputKey: key,
        artifactType: ref?.type ?? def.artifactType?.schemaTitle,
        artifact: ref,
        path: rpath,
        task,
      });
      addEdge(nodeId(name), `artifact:${name}:${key}`);
    }
  }

  for (const [name, t] of Object.entries(tasks)) {
    const viaArtifact = new Set<string>();
    for (const inp of Object.values(t.inputs?.artifacts ?? {})) {
      const p = inp.taskOutputArtifact;
      if (p && tasks[p.producerTask]) {
        const artId = `artifact:${p.producerTask}:${p.outputArtifactKey}`;
        if (!edgeIds.has(`${nodeId(p.producerTask)}->${artId}`)) {
          // producer declared no such output (should not happen): draw it anyway
          nodes.push({ id: artId, type: 'artifact', label: p.outputArtifactKey, producer: p.producerTask, outputKey: p.outputArtifactKey });
          addEdge(nodeId(p.producerTask), artId);
        }
        addEdge(artId, nodeId(name));
        viaArtifact.add(p.producerTask);
      }
    }
    const upstream = new Set<string>(t.dependentTasks ?? []);
    for (const inp of Object.values(t.inputs?.parameters ?? {})) {
      if (inp.taskOutputParameter?.producerTask) upstream.add(inp.taskOutputParameter.producerTask);
      if (inp.taskFinalStatus?.producerTask) upstream.add(inp.taskFinalStatus.producerTask);
    }
    for (const u of upstream) {
      if (tasks[u] && !viaArtifact.has(u)) addEdge(nodeId(u), nodeId(name));
    }
  }
  return { nodes, edges, crumbs, path };
}

/**
 * For a group of If/Elif/Else branches: which branch ran and how many were
 * skipped, from the records of its direct child groups; undefined when the
 * group holds no branch records (yet).
 */
function branchSummary(groupPath: string, byPath: Map<string, Task>): string | undefined {
  const children = [...byPath.entries()].filter(([p]) => p.startsWith(`${groupPath}/`) && !p.slice(groupPath.length + 1).includes('/')).map(([, t]) => t);
  const branches = children.filter((t) => t.kind === 'DAG');
  if (!branches.length) return undefined;
  const ran = branches.filter((t) => t.state !== 'SKIPPED');
  const skipped = branches.length - ran.length;
  const names = ran.map((t) => t.display_name || t.name).join(', ');
  return `${ran.length ? `ran ${names}` : 'no branch ran'}${skipped ? ` · ${skipped} skipped` : ''}`;
}

function branchWord(state: RuntimeState): string {
  if (state === 'SKIPPED') return 'skipped';
  if (state === 'SUCCEEDED') return 'ran';
  return state.toLowerCase();
}

function nodeState(task: Task | undefined, opts: { live?: boolean; ended?: boolean }): RuntimeState | undefined {
  if (opts.ended && (!task || task.state === 'PENDING')) return undefined;
  // A task held by set_debug_pause is RUNNING in the API and drawn as paused.
  if (debugPause(task)) return 'PAUSED';
  return task?.state ?? (opts.live ? 'PENDING' : undefined);
}

function iterationLabel(t: Task): string | undefined {
  const p = t.inputs?.parameters;
  if (!p) return undefined;
  const item = Object.entries(p).find(([k]) => k.includes('loop-item'));
  if (!item) return undefined;
  const s = typeof item[1] === 'string' ? item[1] : JSON.stringify(item[1]);
  return s.length > 30 ? `${s.slice(0, 27)}…` : s;
}

/** The state a node should be drawn with, with "cached" as its own state. */
export type VisualState = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'cached' | 'canceled' | 'none';

export function visualState(state: RuntimeState | undefined, cached?: boolean): VisualState {
  switch (state) {
    case 'SUCCEEDED':
      return cached ? 'cached' : 'succeeded';
    case 'RUNNING':
    case 'CANCELING':
      return 'running';
    case 'FAILED':
      return 'failed';
    case 'SKIPPED':
      return 'skipped';
    case 'CANCELED':
      return 'canceled';
    case 'PENDING':
    case 'PAUSED':
    case 'RUNTIME_STATE_UNSPECIFIED':
      return 'pending';
    default:
      return 'none';
  }
}
