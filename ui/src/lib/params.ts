// The run form: one typed field per root parameter, validated and converted
// to the JSON values KFP expects in runtime_config.parameters.
import type { ParamDef } from './spec';

/** The text shown in a field for a value (defaults, cloned runs). */
export function toFieldText(def: ParamDef, value: unknown): string {
  if (value === undefined || value === null) return '';
  if (def.type === 'LIST' || def.type === 'STRUCT') return typeof value === 'string' ? value : JSON.stringify(value, null, 0);
  if (def.type === 'BOOLEAN') return value === true || value === 'true' ? 'true' : 'false';
  return String(value);
}

export function initialValues(defs: ParamDef[], from?: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of defs) {
    const v = from && d.name in from ? from[d.name] : d.defaultValue;
    out[d.name] = v === undefined ? (d.type === 'BOOLEAN' ? 'false' : '') : toFieldText(d, v);
  }
  return out;
}

export type Parsed = { ok: true; value: unknown; omit?: boolean } | { ok: false; error: string };

export function parseParam(def: ParamDef, text: string): Parsed {
  const t = text.trim();
  if (t === '' && def.type !== 'STRING' && def.type !== 'BOOLEAN') {
    if (def.hasDefault || def.optional) return { ok: true, value: undefined, omit: true };
    return { ok: false, error: 'Required' };
  }
  switch (def.type) {
    case 'NUMBER_INTEGER': {
      if (!/^[-+]?\d+$/.test(t)) return { ok: false, error: 'Enter a whole number, e.g. 42' };
      const n = Number(t);
      if (!Number.isSafeInteger(n)) return { ok: false, error: 'This number is too large' };
      return { ok: true, value: n };
    }
    case 'NUMBER_DOUBLE': {
      const n = Number(t);
      if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t) || !Number.isFinite(n)) return { ok: false, error: 'Enter a number, e.g. 0.5' };
      return { ok: true, value: n };
    }
    case 'BOOLEAN':
      return { ok: true, value: t === 'true' };
    case 'LIST':
    case 'STRUCT': {
      let v: unknown;
      try {
        v = JSON.parse(t);
      } catch (e) {
        return { ok: false, error: `Not valid JSON: ${(e as Error).message}` };
      }
      if (def.type === 'LIST' && !Array.isArray(v)) return { ok: false, error: 'Enter a JSON list, e.g. [1, 2, 3]' };
      if (def.type === 'STRUCT' && (v === null || typeof v !== 'object' || Array.isArray(v)))
        return { ok: false, error: 'Enter a JSON object, e.g. {"key": "value"}' };
      return { ok: true, value: v };
    }
    default: {
      if (text === '' && !def.hasDefault && !def.optional) return { ok: false, error: 'Required' };
      if (text === '' && !def.hasDefault) return { ok: true, value: undefined, omit: true };
      return { ok: true, value: text };
    }
  }
}

/** Validate every field; returns the parameters to send or the errors per field. */
export function collectParams(
  defs: ParamDef[],
  values: Record<string, string>,
): { params: Record<string, unknown>; errors: Record<string, string> } {
  const params: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const d of defs) {
    const r = parseParam(d, values[d.name] ?? '');
    if (!r.ok) errors[d.name] = r.error;
    else if (!r.omit) params[d.name] = r.value;
  }
  return { params, errors };
}

export function typeLabel(t: string): string {
  switch (t) {
    case 'NUMBER_INTEGER':
      return 'int';
    case 'NUMBER_DOUBLE':
      return 'float';
    case 'BOOLEAN':
      return 'bool';
    case 'STRING':
      return 'string';
    case 'LIST':
      return 'list (JSON)';
    case 'STRUCT':
      return 'dict (JSON)';
    default:
      return t.toLowerCase();
  }
}
