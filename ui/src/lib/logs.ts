// A KFP component's log starts with the executor's own lines: where it loaded the
// component from and a dump of the whole executor input (often a hundred lines of
// JSON). The log viewer opens on what the task itself printed and hides these
// behind one click. Warnings and errors of the executor stay visible.

const EXECUTOR = /^\[KFP Executor [^\]]*\b(INFO|DEBUG)\]:/;
const INPUT_DUMP = /Got executor_input:\s*$/;

/** For each line: is it one of the KFP executor's informational lines (or its input dump)? */
export function executorLines(lines: string[]): boolean[] {
  const mask = lines.map(() => false);
  let inDump = false;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (inDump) {
      mask[i] = true;
      // the dump is indented JSON: it ends at its closing brace in column 0
      if (l === '}') inDump = false;
      continue;
    }
    if (EXECUTOR.test(l)) {
      mask[i] = true;
      if (INPUT_DUMP.test(l) && lines[i + 1]?.trimEnd() === '{') inDump = true;
    }
  }
  return mask;
}
