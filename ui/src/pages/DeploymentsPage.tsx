// Deployments: models the server keeps serving (state, URL, where they came from, logs),
// a form to serve a model, and a "try it" form that sends one request and shows the answer.
import { useEffect, useState, type FormEvent } from 'react';
import { deploymentsApi, exampleBody, type Deployment, type TryAnswer } from '../api/deployments';
import { EmptyState, ErrorBox, KV, Loading, PageHeader } from '../components/common';
import { formatDate } from '../lib/format';
import { useAsync } from '../lib/hooks';
import { Link, navigate } from '../router';

const REFRESH_MS = 2000;
const SETTLED = new Set(['READY', 'FAILED', 'STOPPED']);

function StateBadge({ d }: { d: Deployment }) {
  const tone = d.state === 'READY' ? 'succeeded' : d.state === 'FAILED' ? 'failed' : d.state === 'STOPPED' ? 'skipped' : 'running';
  return (
    <span className={`badge state-${tone}`} data-deployment-state={d.state}>
      {d.deleting ? 'Deleting' : d.state.charAt(0) + d.state.slice(1).toLowerCase()}
    </span>
  );
}

function Origin({ d }: { d: Deployment }) {
  if (!d.run_id) return <code>{d.model_uri}</code>;
  return (
    <span>
      <Link to={`/runs/${d.run_id}`}>run {d.run_id.slice(0, 8)}</Link>
      {d.task && <> / {d.task}</>}
      {d.artifact_id && (
        <>
          {' '}
          (<Link to={`/artifacts/${d.artifact_id}`}>artifact</Link>)
        </>
      )}
    </span>
  );
}

/** Reload while anything is still changing state. */
function useRefreshWhile(active: boolean, reload: () => void) {
  useEffect(() => {
    if (!active) return;
    const t = window.setInterval(reload, REFRESH_MS);
    return () => window.clearInterval(t);
  }, [active, reload]);
}

function NewDeployment({ initialModel, initialName, onCreated }: { initialModel: string; initialName: string; onCreated: (d: Deployment) => void }) {
  const [name, setName] = useState(initialName);
  const [model, setModel] = useState(initialModel);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    deploymentsApi.create({ name: name.trim(), model: model.trim() }).then(
      (d) => {
        setBusy(false);
        onCreated(d);
      },
      (err: Error) => {
        setBusy(false);
        setError(err.message);
      },
    );
  };
  return (
    <form className="card" onSubmit={submit} aria-label="Serve a model">
      <div className="card-title">
        <strong>Serve a model</strong>
      </div>
      <div className="form-grid">
        <div className="form-row">
          <label htmlFor="deploy-name">Name</label>
          <input id="deploy-name" value={name} onChange={(e) => setName(e.target.value)} placeholder="iris" required />
          <span className="hint">Clients call /v1/models/NAME:predict and /v2/models/NAME/infer.</span>
        </div>
        <div className="form-row">
          <label htmlFor="deploy-model">Model</label>
          <input id="deploy-model" value={model} onChange={(e) => setModel(e.target.value)} placeholder="RUN_ID/train/model or an artifact URI" required />
          <span className="hint">A Model artifact's URI or path, or RUN_ID/TASK/OUTPUT.</span>
        </div>
      </div>
      <ErrorBox error={error} title="Could not serve the model" />
      <button className="btn primary" type="submit" disabled={busy || !name.trim() || !model.trim()} data-testid="deploy-submit">
        {busy ? 'Serving…' : 'Serve'}
      </button>
    </form>
  );
}

function TryIt({ d }: { d: Deployment }) {
  const [protocol, setProtocol] = useState<'v1' | 'v2'>('v1');
  const [body, setBody] = useState(exampleBody('v1'));
  const [answer, setAnswer] = useState<TryAnswer>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const switchTo = (p: 'v1' | 'v2') => {
    setProtocol(p);
    setBody(exampleBody(p));
    setAnswer(undefined);
  };
  const send = (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    setAnswer(undefined);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (err) {
      setError(`The request is not JSON: ${(err as Error).message}`);
      return;
    }
    setBusy(true);
    deploymentsApi.tryIt(d.name, protocol, parsed).then(
      (a) => {
        setBusy(false);
        setAnswer(a);
      },
      (err: Error) => {
        setBusy(false);
        setError(err.message);
      },
    );
  };
  return (
    <form className="card" onSubmit={send} aria-label="Try it">
      <div className="card-title">
        <strong>Try it</strong>
        <select value={protocol} onChange={(e) => switchTo(e.target.value as 'v1' | 'v2')} aria-label="Protocol" id="try-protocol">
          <option value="v1">V1 :predict</option>
          <option value="v2">v2 /infer</option>
        </select>
      </div>
      <div className="form-row">
        <label htmlFor="try-body">Request body ({protocol === 'v1' ? d.endpoints.v1_predict : d.endpoints.v2_infer})</label>
        <textarea id="try-body" rows={8} value={body} onChange={(e) => setBody(e.target.value)} spellCheck={false} style={{ fontFamily: 'var(--mono)' }} />
      </div>
      <button className="btn primary" type="submit" disabled={busy || d.state !== 'READY'} data-testid="try-send">
        {busy ? 'Sending…' : 'Send'}
      </button>
      <ErrorBox error={error} title="Request not sent" />
      {answer && (
        <div className="form-row" style={{ marginTop: 12 }}>
          <span className="form-label">
            Answer: <span data-testid="try-status">{answer.status}</span>
          </span>
          <pre className="logs" style={{ height: "auto", minHeight: 0 }} data-testid="try-answer">
            {typeof answer.response === 'string' ? answer.response : JSON.stringify(answer.response, null, 2)}
          </pre>
        </div>
      )}
    </form>
  );
}

function DeploymentDetail({ name }: { name: string }) {
  const d = useAsync(() => deploymentsApi.get(name), [name]);
  const logs = useAsync(() => deploymentsApi.logs(name), [name, d.data?.state, d.data?.restarts]);
  useRefreshWhile(!!d.data && !SETTLED.has(d.data.state), d.reload);
  const [deleting, setDeleting] = useState(false);
  const [error, setError] = useState<string>();
  if (d.loading && !d.data) return <Loading what="the deployment" />;
  if (!d.data) return <ErrorBox error={d.error} title="Could not load the deployment" onRetry={d.reload} />;
  const dep = d.data;
  const remove = () => {
    if (!window.confirm(`Stop and delete the deployment ${dep.name}?`)) return;
    setDeleting(true);
    deploymentsApi.remove(dep.name).then(
      () => navigate('/deployments'),
      (err: Error) => {
        setDeleting(false);
        setError(err.message);
      },
    );
  };
  return (
    <>
      <PageHeader
        crumbs={<Link to="/deployments">Deployments</Link>}
        title={<span data-testid="deployment-title">{dep.name}</span>}
        subtitle={<StateBadge d={dep} />}
        actions={
          <button className="btn danger" onClick={remove} disabled={deleting} data-testid="deployment-delete">
            {deleting ? 'Deleting…' : 'Delete'}
          </button>
        }
      />
      <ErrorBox error={error} title="Could not delete" />
      {dep.error && <ErrorBox error={dep.error} title="The model server failed" />}
      <div className="card">
        <KV
          rows={[
            ['URL', dep.url ? <code data-testid="deployment-url">{dep.url}</code> : <span className="muted">not yet</span>],
            ['V1', dep.endpoints.v1_predict ? <code>POST {dep.endpoints.v1_predict}</code> : '—'],
            ['v2', dep.endpoints.v2_infer ? <code>POST {dep.endpoints.v2_infer}</code> : '—'],
            ['Model', <Origin d={dep} key="origin" />],
            ['Model URI', <code key="uri">{dep.model_uri}</code>],
            ['Format', `${dep.framework} on ${dep.runtime}`],
            ['Restarts', String(dep.restarts)],
            ['Created', formatDate(dep.created_at)],
          ]}
        />
      </div>
      <TryIt d={dep} />
      <div className="card">
        <div className="card-title">
          <strong>Logs</strong>
          <button className="btn small" onClick={logs.reload}>
            Refresh
          </button>
        </div>
        <pre className="logs" data-testid="deployment-logs">
          {logs.data || (logs.loading ? 'Loading…' : 'No output yet.')}
        </pre>
      </div>
    </>
  );
}

export function DeploymentsPage({ name, query }: { name?: string; query: URLSearchParams }) {
  const list = useAsync(() => deploymentsApi.list(), []);
  const changing = (list.data ?? []).some((d) => !SETTLED.has(d.state));
  useRefreshWhile(!name && changing, list.reload);
  if (name) return <DeploymentDetail name={name} />;
  const items = list.data ?? [];
  return (
    <>
      <PageHeader title="Deployments" subtitle="Models served over KServe's V1 and Open Inference (v2) protocols, kept running by this server." />
      <ErrorBox error={list.error} title="Could not load deployments" onRetry={list.reload} />
      <NewDeployment
        initialModel={query.get('model') ?? ''}
        initialName={query.get('name') ?? ''}
        onCreated={(d) => navigate(`/deployments/${encodeURIComponent(d.name)}`)}
      />
      <div className="card flush">
        {list.loading && !list.data ? (
          <Loading what="deployments" />
        ) : !items.length ? (
          <EmptyState title="No deployments yet">
            Serve a Model artifact above, run <code>pipeyard serve MODEL --name NAME --server URL</code>, or end a pipeline with <code>deploy_model</code>.
          </EmptyState>
        ) : (
          <table className="list" data-testid="deployments-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>State</th>
                <th>URL</th>
                <th>Model</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {items.map((d) => (
                <tr key={d.name}>
                  <td>
                    <Link to={`/deployments/${encodeURIComponent(d.name)}`}>{d.name}</Link>
                  </td>
                  <td>
                    <StateBadge d={d} />
                  </td>
                  <td>{d.url ? <code>{d.url}</code> : <span className="muted">—</span>}</td>
                  <td>
                    <Origin d={d} />
                  </td>
                  <td>{formatDate(d.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </>
  );
}
