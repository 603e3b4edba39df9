import type { ReactNode } from 'react';
import type { PagedList } from '../lib/paging';
import { Loading, Pager } from './common';

export interface Column<T> {
  id: string;
  label: ReactNode;
  cell: (row: T) => ReactNode;
  /** th/td class, e.g. "nowrap", "right", "check" */
  className?: string;
  /** a sortable column: its arrow when sorted, and what a click does */
  sort?: { active: boolean; desc: boolean; onClick: () => void };
}

/**
 * The table of a list page: loading and empty states, the rows, and the pager.
 * Every list page (pipelines, runs, experiments, recurring runs, artifacts) uses it.
 */
export function ListTable<T>({ paged, columns, rowKey, rowClass, rowAttrs, empty, what, testId }: {
  paged: PagedList<T>;
  columns: Column<T>[];
  rowKey: (row: T) => string;
  rowClass?: (row: T) => string | undefined;
  rowAttrs?: (row: T) => Record<string, string>;
  empty: ReactNode;
  what: string;
  testId?: string;
}) {
  const { list, items, pager } = paged;
  return (
    <>
      {list.loading && !list.data ? (
        <Loading what={what} />
      ) : items.length === 0 ? (
        empty
      ) : (
        <table className="list" data-testid={testId}>
          <thead>
            <tr>
              {columns.map((c) => (
                <th key={c.id} className={[c.className, c.sort && 'sortable'].filter(Boolean).join(' ') || undefined} onClick={c.sort?.onClick} aria-sort={c.sort?.active ? (c.sort.desc ? 'descending' : 'ascending') : undefined}>
                  {c.label}
                  {c.sort?.active ? (c.sort.desc ? ' ↓' : ' ↑') : ''}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {items.map((row) => (
              <tr key={rowKey(row)} className={rowClass?.(row)} {...rowAttrs?.(row)}>
                {columns.map((c) => (
                  <td key={c.id} className={c.className}>
                    {c.cell(row)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager {...pager} />
    </>
  );
}
