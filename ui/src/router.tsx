// A tiny hash router: #/runs/abc?x=1 -> path "/runs/abc", query {x: "1"}.
import { useEffect, useState, type AnchorHTMLAttributes, type MouseEvent } from 'react';

export interface Location {
  path: string;
  query: URLSearchParams;
}

function current(): Location {
  const h = window.location.hash.replace(/^#/, '') || '/';
  const [p, q] = h.split('?', 2);
  return { path: p || '/', query: new URLSearchParams(q ?? '') };
}

export function useLocation(): Location {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const on = () => setLoc(current());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return loc;
}

export function navigate(to: string, replace = false): void {
  const url = `#${to}`;
  if (replace) {
    window.history.replaceState(null, '', url);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else window.location.hash = to;
}

export function href(to: string): string {
  return `#${to}`;
}

export function Link({ to, ...rest }: { to: string } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  return (
    <a
      href={href(to)}
      {...rest}
      onClick={(e: MouseEvent<HTMLAnchorElement>) => {
        rest.onClick?.(e);
        e.stopPropagation();
      }}
    />
  );
}

/** Match "/runs/:id" against a path; returns the params or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const ps = pattern.split('/').filter(Boolean);
  const xs = path.split('/').filter(Boolean);
  if (ps.length !== xs.length) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i < ps.length; i++) {
    if (ps[i].startsWith(':')) out[ps[i].slice(1)] = decodeURIComponent(xs[i]);
    else if (ps[i] !== xs[i]) return null;
  }
  return out;
}
