// The run page's window onto a run's tasks: everything outside loops, one page of each
// loop's iterations (the first page, or the page shown of one loop), and every loop's
// iteration counts. A 10,000-item loop holds 20,000 tasks; the page never fetches them all
// (GET /apis/pipeyard/v1/runs/{id}/tasks?iteration_page_size=..., server/task_pages.py).
import { ITERATIONS_PER_PAGE, parsePath } from './graph';

/** a window holds a page of iterations as the graph draws them */
export const WINDOW_ITERATIONS = ITERATIONS_PER_PAGE;

export interface TaskWindow {
  /** the loop whose page `offset` is shown ('' = the first page of every loop) */
  loop: string;
  offset: number;
}

export interface LoopCounts {
  loop_task_id: string;
  total: number;
  states: Record<string, number>;
}

export const FIRST_WINDOW: TaskWindow = { loop: '', offset: 0 };

/** Whether every loop index in `path` is on its loop's shown page (as the server decides). */
export function inWindow(path: string, w: TaskWindow, size = WINDOW_ITERATIONS): boolean {
  let prefix = '';
  for (const seg of path.split('/')) {
    const m = /^(.*)\[(\d+)\]$/.exec(seg);
    if (m) {
      const loop = prefix ? `${prefix}/${m[1]}` : m[1];
      const first = loop === w.loop ? w.offset : 0;
      const index = Number(m[2]);
      if (index < first || index >= first + size) return false;
    }
    prefix = prefix ? `${prefix}/${seg}` : seg;
  }
  return true;
}

/**
 * The window that holds what a scope draws: a loop's scope on page `page` (only a loop's
 * scope has pages past the first) shows that page of the loop; a scope inside an iteration past the first page (e.g. `loop[250]/inner`) needs
 * that iteration's page of its loop. Only one loop is paged at a time: in a nested loop
 * whose outer and inner loops both pass the first page, the outer one wins.
 */
export function windowFor(scope: string, page: number, size = WINDOW_ITERATIONS): TaskWindow {
  if (page > 0) return { loop: scope, offset: page * size };
  let prefix = '';
  for (const seg of parsePath(scope)) {
    const loop = prefix ? `${prefix}/${seg.name}` : seg.name;
    const index = seg.index !== undefined && /^\d+$/.test(seg.index) ? Number(seg.index) : -1;
    if (index >= size) return { loop, offset: Math.floor(index / size) * size };
    prefix = seg.index !== undefined ? `${loop}[${seg.index}]` : loop;
  }
  return FIRST_WINDOW;
}

export function sameWindow(a: TaskWindow, b: TaskWindow): boolean {
  return a.loop === b.loop && a.offset === b.offset;
}
