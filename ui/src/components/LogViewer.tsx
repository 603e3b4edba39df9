import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api, ApiError } from '../api/client';
import type { LogEvent, Task } from '../api/types';
import { isFinished } from '../lib/format';
import { executorLines } from '../lib/logs';

/** Split a line around case-insensitive matches of `q` for highlighting. */
export function highlight(line: string, q: string): (string | { m: string })[] {
  if (!q) return [line];
  const out: (string | { m: string })[] = [];
  const lower = line.toLowerCase();
  const ql = q.toLowerCase();
  let i = 0;
  for (;;) {
    const j = lower.indexOf(ql, i);
    if (j < 0) break;
    if (j > i) out.push(line.slice(i, j));
    out.push({ m: line.slice(j, j + q.length) });
    i = j + q.length;
  }
  if (i < line.length) out.push(line.slice(i));
  return out;
}

export function LogViewer({ runId, task, onLog }: { runId: string; task: Task; onLog: (f: (e: LogEvent) => void) => () => void }) {
  const attempts = task.attempt_list?.length ? task.attempt_list.map((a) => a.attempt) : [];
  const [attempt, setAttempt] = useState<number | undefined>(undefined);
  const [text, setText] = useState('');
  const [error, setError] = useState<string>();
  const [loaded, setLoaded] = useState(false);
  const [query, setQuery] = useState('');
  const [onlyMatches, setOnlyMatches] = useState(true);
  const [follow, setFollow] = useState(true);
  const [showExecutor, setShowExecutor] = useState(false);
  const offset = useRef(0);
  const inflight = useRef(false);
  const again = useRef(false);
  const box = useRef<HTMLDivElement>(null);
  const running = !isFinished(task.state);

  const fetchMore = useCallback(async () => {
    if (inflight.current) {
      again.current = true;
      return;
    }
    inflight.current = true;
    try {
      const r = await api.taskLog(runId, task.task_id, offset.current, attempt);
      if (r.text) setText((t) => (offset.current === 0 ? r.text : t + r.text));
      offset.current = r.size;
      setError(undefined);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) setError(undefined);
      else setError((e as Error).message);
    } finally {
      inflight.current = false;
      setLoaded(true);
      if (again.current) {
        again.current = false;
        void fetchMore();
      }
    }
  }, [runId, task.task_id, attempt]);

  // initial fetch (and on attempt change)
  useEffect(() => {
    offset.current = 0;
    setText('');
    setLoaded(false);
    void fetchMore();
  }, [fetchMore]);

  // live: each log event pulls the new bytes from the current offset
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const off = onLog((e) => {
      if (e.task_id !== task.task_id) return;
      if (attempt !== undefined && e.attempt !== attempt) return;
      if (!timer)
        timer = setTimeout(() => {
          timer = null;
          void fetchMore();
        }, 200);
    });
    return () => {
      off();
      if (timer) clearTimeout(timer);
    };
  }, [onLog, task.task_id, attempt, fetchMore]);

  // a last read when the task ends
  useEffect(() => {
    if (!running) void fetchMore();
  }, [running, fetchMore]);

  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [text, follow]);

  const allLines = useMemo(() => text.replace(/\n$/, '').split('\n'), [text]);
  const executorMask = useMemo(() => executorLines(allLines), [allLines]);
  const hiddenCount = executorMask.filter(Boolean).length;
  const lines = useMemo(() => (showExecutor ? allLines : allLines.filter((_, i) => !executorMask[i])), [allLines, executorMask, showExecutor]);
  const q = query.trim();
  const shown = q && onlyMatches ? lines.filter((l) => l.toLowerCase().includes(q.toLowerCase())) : lines;
  const matchCount = q ? lines.filter((l) => l.toLowerCase().includes(q.toLowerCase())).length : 0;

  return (
    <div data-testid="log-viewer">
      <div className="log-tools">
        <input type="search" placeholder="Search the log" value={query} onChange={(e) => setQuery(e.target.value)} aria-label="Search the log" />
        <label className="small nowrap">
          <input type="checkbox" checked={onlyMatches} onChange={(e) => setOnlyMatches(e.target.checked)} /> only matches
        </label>
        {attempts.length > 1 && (
          <select value={attempt ?? ''} onChange={(e) => setAttempt(e.target.value ? Number(e.target.value) : undefined)} aria-label="Attempt">
            <option value="">Latest attempt</option>
            {attempts.map((a) => (
              <option key={a} value={a}>
                Attempt {a}
              </option>
            ))}
          </select>
        )}
        <a className="btn small" href={`/apis/pipeyard/v1/runs/${encodeURIComponent(runId)}/tasks/${encodeURIComponent(task.task_id)}/log${attempt ? `?attempt=${attempt}` : ''}`} target="_blank" rel="noreferrer">
          Raw
        </a>
      </div>
      <div className="small muted log-head">
        {running ? (
          <>
            <span className="badge state-running tight">live</span> streaming while the task runs ·{' '}
            <label>
              <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> follow
            </label>
          </>
        ) : (
          `${lines.length} line${lines.length === 1 ? '' : 's'}`
        )}
        {q && ` · ${matchCount} matching`}
        {hiddenCount > 0 && (
          <>
            {' · '}
            <button className="link-btn" onClick={() => setShowExecutor((v) => !v)} data-testid="toggle-executor-lines">
              {showExecutor ? `hide the ${hiddenCount} KFP executor lines` : `${hiddenCount} KFP executor lines hidden: show them`}
            </button>
          </>
        )}
      </div>
      {error && <div className="error-box">Could not read the log: {error}</div>}
      <div className="logs" ref={box} onScroll={(e) => {
        const el = e.currentTarget;
        const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 30;
        if (running && atBottom !== follow) setFollow(atBottom);
      }}>
        {!loaded ? 'Loading…' : !text ? (running || task.state === 'PENDING' ? 'Waiting for output…' : 'This task wrote no log.') : !lines.length || (lines.length === 1 && !lines[0]) ? (running ? 'Waiting for output… (only KFP executor lines so far)' : 'The task printed nothing besides the KFP executor lines.') : shown.map((l, i) => (
          <span className="ln" key={i}>
            {highlight(l, q).map((p, k) => (typeof p === 'string' ? p : <mark key={k}>{p.m}</mark>))}
            {'\n'}
          </span>
        ))}
      </div>
    </div>
  );
}
