// Keeps a run and its tasks current from the SSE stream, with a polling
// fallback when the stream cannot be opened.
import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '../api/client';
import type { LogEvent, Run, Task } from '../api/types';
import { isFinished } from './format';
import { FIRST_WINDOW, inWindow, type LoopCounts, type TaskWindow } from './taskWindow';

type LogListener = (e: LogEvent) => void;

export interface RunLive {
  run?: Run;
  /** the tasks in the window (lib/taskWindow.ts): all of them unless a loop has more iterations than a page */
  tasks: Task[];
  /** every loop's iteration counts, by the loop task's id */
  loops?: Map<string, LoopCounts>;
  error?: string;
  connected: boolean;
  reload: () => void;
  onLog: (l: LogListener) => () => void;
  setRun: (r: Run) => void;
}

/**
 * Merge a task update into the list (by task_id). The server's task events carry
 * an empty attempt_list, so an empty list never replaces a known one.
 */
export function upsertTask(tasks: Task[], t: Task): Task[] {
  const i = tasks.findIndex((x) => x.task_id === t.task_id);
  if (i < 0) return [...tasks, t];
  const next = tasks.slice();
  const old = tasks[i];
  next[i] = { ...old, ...t };
  if (!t.attempt_list?.length && old.attempt_list?.length) next[i].attempt_list = old.attempt_list;
  return next;
}

/** A task event that says more attempts ran than the attempts it lists: fetch the tasks. */
export function attemptsMissing(t: Task, known: Task | undefined): boolean {
  const n = t.attempts ?? 0;
  const listed = Math.max(t.attempt_list?.length ?? 0, known?.attempt_list?.length ?? 0);
  const attemptFinished = !!t.finished_at && known?.finished_at !== t.finished_at;
  const last = known?.attempt_list?.[known.attempt_list.length - 1];
  const lastStillGoing = isFinished(t.state) && (last?.state === 'RUNNING' || last?.state === 'PENDING');
  return n > listed || (n > 0 && attemptFinished) || lastStillGoing;
}

/** Events that arrived while a fetch of the run and its tasks was in flight. */
export interface EventsDuringFetch {
  run?: Partial<Run>;
  tasks: Map<string, Task>;
}

/**
 * Combine a fetched run and task list with the events that arrived while the
 * fetch was in flight. The fetch may have been answered before those events
 * happened, so for what an event carries the event wins; everything else comes
 * from the fetch. (Without this a Terminate followed by a reload could show
 * CANCELING forever: the CANCELED event arrives, then the older answer.)
 */
export function mergeFetched(run: Run, tasks: Task[], during: EventsDuringFetch): { run: Run; tasks: Task[] } {
  const mergedRun = during.run ? { ...run, ...during.run } : run;
  let merged = tasks;
  for (const t of during.tasks.values()) merged = upsertTask(merged, t);
  return { run: mergedRun, tasks: merged };
}

/** How soon the window is fetched again after events for tasks outside it (their loop's counts). */
export const OUTSIDE_REFETCH_MS = 2000;

export function useRunLive(runId: string, taskWindow: TaskWindow = FIRST_WINDOW): RunLive {
  const [run, setRun] = useState<Run>();
  const [tasks, setTasks] = useState<Task[]>([]);
  const [loops, setLoops] = useState<Map<string, LoopCounts>>();
  const windowRef = useRef(taskWindow);
  windowRef.current = taskWindow;
  const { loop: windowLoop, offset: windowOffset } = taskWindow;
  const [error, setError] = useState<string>();
  const [connected, setConnected] = useState(false);
  const listeners = useRef(new Set<LogListener>());
  const finishedRef = useRef(false);
  // one recorder per fetch in flight: the run and task events it must not overwrite
  const inFlight = useRef(new Set<EventsDuringFetch>());
  const loadSeq = useRef({ started: 0, applied: 0 });

  const load = useCallback(async () => {
    const during: EventsDuringFetch = { tasks: new Map() };
    inFlight.current.add(during);
    const my = ++loadSeq.current.started;
    try {
      // The tasks come from the window; the run without its (possibly 20,000) task details.
      const w = { loop: windowLoop, offset: windowOffset };
      const [r, ts] = await Promise.all([api.getRun(runId, 0), api.runTaskWindow(runId, w)]);
      // a later fetch already answered: this one is older
      if (my < loadSeq.current.applied) return;
      loadSeq.current.applied = my;
      const m = mergeFetched(r, ts.tasks, { ...during, tasks: new Map([...during.tasks].filter(([, t]) => inWindow(t.path, w))) });
      setRun(m.run);
      setTasks(m.tasks);
      setLoops(new Map(ts.loops.map((c) => [c.loop_task_id, c])));
      setError(undefined);
      finishedRef.current = isFinished(m.run.state);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      inFlight.current.delete(during);
    }
  }, [runId, windowLoop, windowOffset]);

  useEffect(() => {
    void load();
  }, [load]);

  useEffect(() => {
    if (typeof EventSource === 'undefined') return;
    let es: EventSource | null = null;
    let poll: ReturnType<typeof setInterval> | null = null;
    let failures = 0;
    let closed = false;
    let refetch: ReturnType<typeof setTimeout> | null = null;
    const refetchSoon = (delay = 1000) => {
      if (refetch || closed) return;
      refetch = setTimeout(() => {
        refetch = null;
        if (!closed) void load();
      }, delay);
    };
    const open = () => {
      es = new EventSource(api.eventsUrl(runId));
      es.onopen = () => {
        failures = 0;
        setConnected(true);
        if (poll) {
          clearInterval(poll);
          poll = null;
        }
        // catch up on anything that happened before the stream opened
        void load();
      };
      es.addEventListener('run', (ev) => {
        const r = JSON.parse((ev as MessageEvent).data) as Run;
        if (r.run_id !== runId) return;
        inFlight.current.forEach((d) => (d.run = { ...d.run, ...r }));
        setRun((old) => ({ ...old, ...r }));
        finishedRef.current = isFinished(r.state);
      });
      es.addEventListener('task', (ev) => {
        const t = JSON.parse((ev as MessageEvent).data) as Task;
        if (t.run_id !== runId) return;
        inFlight.current.forEach((d) => d.tasks.set(t.task_id, { ...d.tasks.get(t.task_id), ...t }));
        if (!inWindow(t.path, windowRef.current)) {
          // an iteration on no page shown: not kept (a huge loop would grow the list to every
          // task); its loop's counts come with the next fetch of the window
          refetchSoon(OUTSIDE_REFETCH_MS);
          return;
        }
        setTasks((ts) => {
          // attempts (with their states, times and exit codes) come only with the task list
          if (attemptsMissing(t, ts.find((x) => x.task_id === t.task_id))) refetchSoon();
          return upsertTask(ts, t);
        });
      });
      es.addEventListener('log', (ev) => {
        const l = JSON.parse((ev as MessageEvent).data) as LogEvent;
        if (l.run_id !== runId) return;
        listeners.current.forEach((f) => f(l));
      });
      es.onerror = () => {
        setConnected(false);
        failures++;
        if (failures >= 3 && es) {
          // the browser retries by itself; after repeated failures poll instead
          es.close();
          if (!poll && !closed) {
            poll = setInterval(() => {
              if (!finishedRef.current) void load();
            }, 3000);
            setTimeout(() => !closed && open(), 15000);
          }
        }
      };
    };
    open();
    return () => {
      closed = true;
      es?.close();
      if (refetch) clearTimeout(refetch);
      if (poll) clearInterval(poll);
    };
  }, [runId, load]);

  const onLog = useCallback((l: LogListener) => {
    listeners.current.add(l);
    return () => {
      listeners.current.delete(l);
    };
  }, []);

  return { run, tasks, loops, error, connected, reload: load, onLog, setRun };
}
