/** Parse the first rows of CSV/TSV text (quotes honoured); a truncated last line is dropped. */
export function parseDelimited(text: string, maxRows = 50, truncated = false): { header: string[]; rows: string[][] } | null {
  const firstLine = text.split('\n', 1)[0] ?? '';
  const delim = (firstLine.match(/\t/g)?.length ?? 0) > (firstLine.match(/,/g)?.length ?? 0) ? '\t' : ',';
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let q = false;
  let i = 0;
  for (; i < text.length && rows.length <= maxRows; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') q = false;
      else cell += c;
    } else if (c === '"') q = true;
    else if (c === delim) {
      row.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if ((cell || row.length) && !truncated && i >= text.length) {
    row.push(cell);
    rows.push(row);
  }
  if (rows.length < 1 || rows[0].length < 2) return null;
  const width = rows[0].length;
  const body = rows.slice(1, maxRows + 1).filter((r) => r.length === width || r.length > 1);
  return { header: rows[0], rows: body };
}
