// Tags of a pipeline or pipeline version (KFP 2.15+): shown as chips, edited in place.
// Every change is one PATCH that replaces the whole map, as KFP's API does.
import { useState } from 'react';

export function TagChips({ tags }: { tags?: Record<string, string> | null }) {
  const entries = Object.entries(tags ?? {});
  if (!entries.length) return <span className="muted">—</span>;
  return (
    <span className="tag-list">
      {entries.map(([k, v]) => (
        <span className="tag" key={k} data-tag={k}>
          {k}: {v}
        </span>
      ))}
    </span>
  );
}

/** "team=ml" -> ["team", "ml"], or an error in words (KFP's rules). */
export function parseTag(text: string, existing: Record<string, string>): [string, string] | string {
  const i = text.indexOf('=');
  const key = (i < 0 ? text : text.slice(0, i)).trim();
  const value = i < 0 ? '' : text.slice(i + 1).trim();
  if (!key) return 'Write a tag as key=value.';
  if (key.includes('.')) return 'A tag key cannot contain a dot.';
  if (key.length > 63 || value.length > 63) return 'Keys and values are at most 63 characters.';
  if (!(key in existing) && Object.keys(existing).length >= 20) return 'At most 20 tags.';
  return [key, value];
}

export function TagEditor({
  tags,
  onSave,
  testId,
}: {
  tags?: Record<string, string> | null;
  onSave: (tags: Record<string, string>) => Promise<unknown>;
  testId?: string;
}) {
  const current = tags ?? {};
  const [text, setText] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const save = async (next: Record<string, string>) => {
    setBusy(true);
    setError(undefined);
    try {
      await onSave(next);
      setText('');
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const add = () => {
    const parsed = parseTag(text, current);
    if (typeof parsed === 'string') return setError(parsed);
    void save({ ...current, [parsed[0]]: parsed[1] });
  };
  return (
    <div className="tag-editor" data-testid={testId}>
      <span className="tag-list">
        {Object.entries(current).map(([k, v]) => (
          <span className="tag" key={k} data-tag={k}>
            {k}: {v}
            <button
              className="tag-remove"
              title={`Remove tag ${k}`}
              aria-label={`Remove tag ${k}`}
              disabled={busy}
              onClick={() => {
                const next = { ...current };
                delete next[k];
                void save(next);
              }}
            >
              ×
            </button>
          </span>
        ))}
      </span>
      <input
        type="text"
        className="tag-input"
        placeholder="key=value"
        value={text}
        aria-label="New tag"
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter') add();
        }}
      />
      <button className="btn small" onClick={add} disabled={busy || !text.trim()}>
        Add tag
      </button>
      {error && <span className="field-error">{error}</span>}
    </div>
  );
}
