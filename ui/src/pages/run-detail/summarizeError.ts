/** The line that says what went wrong: the last exception line of a traceback, else the first line. */
export function summarizeError(msg: string): string {
  const lines = msg.split('\n').map((l) => l.trim()).filter(Boolean);
  const exc = [...lines].reverse().find((l) => /^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b.*:/.test(l));
  const first = lines[0] ?? msg;
  return exc && exc !== first ? `${first} — ${exc}` : first;
}
