// Keeps a run and its tasks current from the SSE stream, with a polling
// fallback when the stream cannot be opened.
import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '../api/client';
import type { LogEvent, Run, Task } from '../api/types';
import { isFinished } from './format';

type LogListener = (e: LogEvent) => void;

export interface RunLive {
  run?: Run;
  tasks: Task[];
  error?: string;
  connected: boolean;
  reload: () => void;
  onLog: (l: LogListener) => () => void;
  setRun: (r: Run) => void;
}

/** Merge a task update into the list (by task_id). */
export function upsertTask(tasks: Task[], t: Task): Task[] {
  const i = tasks.findIndex((x) => x.task_id === t.task_id);
  if (i < 0) return [...tasks, t];
  const next = tasks.slice();
  next[i] = { ...tasks[i], ...t };
  return next;
}

export function useRunLive(runId: string): RunLive {
  const [run, setRun] = useState<Run>();
  const [tasks, setTasks] = useState<Task[]>([]);
  const [error, setError] = useState<string>();
  const [connected, setConnected] = useState(false);
  const listeners = useRef(new Set<LogListener>());
  const finishedRef = useRef(false);

  const load = useCallback(async () => {
    try {
      const [r, ts] = await Promise.all([api.getRun(runId), api.runTasks(runId)]);
      setRun(r);
      setTasks(ts);
      setError(undefined);
      finishedRef.current = isFinished(r.state);
    } catch (e) {
      setError((e as Error).message);
    }
  }, [runId]);

  useEffect(() => {
    void load();
  }, [load]);

  useEffect(() => {
    if (typeof EventSource === 'undefined') return;
    let es: EventSource | null = null;
    let poll: ReturnType<typeof setInterval> | null = null;
    let failures = 0;
    let closed = false;
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
        setRun((old) => ({ ...old, ...r }));
        finishedRef.current = isFinished(r.state);
      });
      es.addEventListener('task', (ev) => {
        const t = JSON.parse((ev as MessageEvent).data) as Task;
        if (t.run_id !== runId) return;
        setTasks((ts) => upsertTask(ts, t));
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
      if (poll) clearInterval(poll);
    };
  }, [runId, load]);

  const onLog = useCallback((l: LogListener) => {
    listeners.current.add(l);
    return () => {
      listeners.current.delete(l);
    };
  }, []);

  return { run, tasks, error, connected, reload: load, onLog, setRun };
}
