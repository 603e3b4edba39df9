import { useEffect, useState, type ReactNode } from 'react';
import { api } from './api/client';
import { Link, match, navigate, useLocation } from './router';
import { PipelinesPage } from './pages/PipelinesPage';
import { PipelineDetailPage } from './pages/PipelineDetailPage';
import { NewRunPage } from './pages/NewRunPage';
import { RunsPage } from './pages/RunsPage';
import { RunDetailPage } from './pages/run-detail/RunDetailPage';
import { ComparePage } from './pages/ComparePage';
import { ExperimentsPage, ExperimentDetailPage } from './pages/ExperimentsPage';
import { RecurringRunsPage, RecurringRunDetailPage } from './pages/RecurringRunsPage';
import { ArtifactsPage, ArtifactDetailPage } from './pages/ArtifactsPage';
import { DeploymentsPage } from './pages/DeploymentsPage';
import { EmptyState } from './components/common';
import { kfpAlias, targetUrl } from './lib/kfpRoutes';

const NAV: { to: string; label: string; icon: ReactNode; prefixes: string[] }[] = [
  { to: '/pipelines', label: 'Pipelines', icon: <NavIcon d="M3 4h5v4H3zM12 12h5v4h-5zM5.5 8v3.5c0 1 .5 2.5 2.5 2.5h4" />, prefixes: ['/pipelines'] },
  { to: '/runs', label: 'Runs', icon: <NavIcon d="M6 4l9 6-9 6z" />, prefixes: ['/runs', '/compare'] },
  { to: '/experiments', label: 'Experiments', icon: <NavIcon d="M8 3v5l-4 8h12l-4-8V3M7 3h6" />, prefixes: ['/experiments'] },
  { to: '/recurring', label: 'Recurring runs', icon: <NavIcon d="M16 10a6 6 0 1 1-2-4.5M16 3v3.5h-3.5" />, prefixes: ['/recurring'] },
  { to: '/artifacts', label: 'Artifacts', icon: <NavIcon d="M4 6l6-3 6 3v8l-6 3-6-3zM4 6l6 3 6-3M10 9v8" />, prefixes: ['/artifacts'] },
  { to: '/deployments', label: 'Deployments', icon: <NavIcon d="M3 10h4l2-5 2 10 2-5h4" />, prefixes: ['/deployments'] },
];

function NavIcon({ d }: { d: string }) {
  return (
    <svg width="18" height="18" viewBox="0 0 20 20" fill="none" stroke="currentColor" strokeWidth="1.6" strokeLinejoin="round" strokeLinecap="round" aria-hidden>
      <path d={d} />
    </svg>
  );
}

function route(path: string, query: URLSearchParams): ReactNode {
  let m: Record<string, string> | null;
  if (path === '/' || path === '') return <RunsPage />;
  if (path === '/pipelines') return <PipelinesPage />;
  if ((m = match('/pipelines/:id', path))) return <PipelineDetailPage pipelineId={m.id} versionId={query.get('version') ?? undefined} />;
  if ((m = match('/pipelines/:id/versions/:vid', path))) return <PipelineDetailPage pipelineId={m.id} versionId={m.vid} />;
  if (path === '/runs/new') return <NewRunPage query={query} />;
  if (path === '/runs') return <RunsPage />;
  if ((m = match('/runs/:id', path))) return <RunDetailPage runId={m.id} query={query} />;
  if (path === '/compare') return <ComparePage runIds={(query.get('runs') ?? '').split(',').filter(Boolean)} />;
  if (path === '/experiments') return <ExperimentsPage />;
  if ((m = match('/experiments/:id', path))) return <ExperimentDetailPage experimentId={m.id} />;
  if (path === '/recurring') return <RecurringRunsPage />;
  if ((m = match('/recurring/:id', path))) return <RecurringRunDetailPage recurringRunId={m.id} />;
  if (path === '/artifacts') return <ArtifactsPage />;
  if ((m = match('/artifacts/:id', path))) return <ArtifactDetailPage artifactId={m.id} />;
  if (path === '/deployments') return <DeploymentsPage query={query} />;
  if ((m = match('/deployments/:name', path))) return <DeploymentsPage name={m.name} query={query} />;
  return (
    <EmptyState title="Page not found" action={<Link to="/runs">Go to runs</Link>}>
      Nothing lives at <code>{path}</code>.
    </EmptyState>
  );
}

export function App() {
  const loc = useLocation();
  // a KFP link (#/runs/details/<id>, ...) shows pipeyard's page and its address
  const alias = kfpAlias(loc.path, loc.query);
  const { path, query } = alias ?? loc;
  const aliasUrl = alias ? targetUrl(alias) : undefined;
  useEffect(() => {
    if (aliasUrl) navigate(aliasUrl, true);
  }, [aliasUrl]);
  const [version, setVersion] = useState<string>();
  useEffect(() => {
    api.info().then((i) => setVersion(i.version), () => undefined);
  }, []);
  const active = (prefixes: string[]) => prefixes.some((p) => path === p || path.startsWith(`${p}/`)) || (path === '/' && prefixes.includes('/runs'));
  return (
    <div className="app">
      <nav className="sidebar">
        <Link to="/runs" className="brand">
          <svg width="22" height="22" viewBox="0 0 16 16" aria-hidden>
            <rect width="16" height="16" rx="3" fill="#3b82f6" />
            <path d="M4 4h3v3H4zM9 9h3v3H9zM7 5.5h3.5V9" stroke="white" fill="none" />
          </svg>
          <span>pipeyard</span>
        </Link>
        {NAV.map((n) => (
          <Link key={n.to} to={n.to} className={active(n.prefixes) ? 'nav-item active' : 'nav-item'}>
            {n.icon}
            <span>{n.label}</span>
          </Link>
        ))}
        <div className="sidebar-foot">
          <span>Kubeflow Pipelines, one machine</span>
          {version && <span>v{version}</span>}
        </div>
      </nav>
      <main className="content" key={path}>
        {route(path, query)}
      </main>
    </div>
  );
}
