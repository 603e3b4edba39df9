// KFP v2beta1 list filters: a JSON `Filter` with `predicates`, sent URL-encoded in `filter=`.

export interface Predicate {
  key: string;
  operation: 'EQUALS' | 'NOT_EQUALS' | 'GREATER_THAN' | 'GREATER_THAN_EQUALS' | 'LESS_THAN' | 'LESS_THAN_EQUALS' | 'IN' | 'IS_SUBSTRING';
  string_value?: string;
  int_value?: number;
  long_value?: string;
  timestamp_value?: string;
  string_values?: { values: string[] };
}

export interface RunFilterInput {
  name?: string;
  states?: string[];
  archived?: boolean;
}

/** The filter string for the runs list, or undefined when nothing filters. */
export function buildRunFilter(f: RunFilterInput): string | undefined {
  const predicates: Predicate[] = [];
  const name = f.name?.trim();
  if (name) predicates.push({ key: 'display_name', operation: 'IS_SUBSTRING', string_value: name });
  const states = (f.states ?? []).filter(Boolean);
  if (states.length === 1) predicates.push({ key: 'state', operation: 'EQUALS', string_value: states[0] });
  else if (states.length > 1) predicates.push({ key: 'state', operation: 'IN', string_values: { values: states } });
  if (f.archived !== undefined) {
    predicates.push(
      f.archived
        ? { key: 'storage_state', operation: 'EQUALS', string_value: 'ARCHIVED' }
        : { key: 'storage_state', operation: 'NOT_EQUALS', string_value: 'ARCHIVED' },
    );
  }
  return predicates.length ? JSON.stringify({ predicates }) : undefined;
}

/** A name-substring filter for pipelines / experiments / recurring runs. */
export function buildNameFilter(name: string | undefined, extra: Predicate[] = []): string | undefined {
  const predicates: Predicate[] = [...extra];
  const n = name?.trim();
  if (n) predicates.unshift({ key: 'display_name', operation: 'IS_SUBSTRING', string_value: n });
  return predicates.length ? JSON.stringify({ predicates }) : undefined;
}

/** `tags.<key>` EQUALS predicates (KFP 2.15+) from "team=ml, tier=gold"; incomplete pairs are skipped. */
export function tagPredicates(text: string): Predicate[] {
  return text
    .split(',')
    .map((part) => part.split('='))
    .filter((kv) => kv.length === 2 && kv[0].trim() && kv[1].trim())
    .map(([k, v]) => ({ key: `tags.${k.trim()}`, operation: 'EQUALS' as const, string_value: v.trim() }));
}
