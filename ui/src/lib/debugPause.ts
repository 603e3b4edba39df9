import type { Task } from '../api/types';

/** What the engine records in a task's details while `set_debug_pause` holds it. */
export interface DebugPause {
  when: 'before' | 'after';
  since?: string;
  work_dir?: string;
  resumed_at?: string;
}

/** The pause holding this task (RUNNING, not resumed yet), if any. */
export function debugPause(t: Task | undefined): DebugPause | undefined {
  const info = (t?.details as Record<string, unknown> | undefined)?.debug_pause as DebugPause | undefined;
  if (!t || t.state !== 'RUNNING' || !info || typeof info !== 'object' || info.resumed_at) return undefined;
  return info;
}
