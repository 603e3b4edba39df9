import { useEffect, useMemo, useState } from 'react';
import { api } from '../api/client';
import type { Run } from '../api/types';
import { ErrorBox, Loading, PageHeader } from '../components/common';
import { useAsync } from '../lib/hooks';
import { collectParams, initialValues, toFieldText, typeLabel } from '../lib/params';
import { normalizeSpec, rootArtifacts, rootParameters, type ParamDef } from '../lib/spec';
import { Link, navigate } from '../router';

function defaultRunName(pipelineName: string | undefined): string {
  const d = new Date();
  const pad = (n: number) => String(n).padStart(2, '0');
  return `Run of ${pipelineName ?? 'pipeline'} (${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())})`;
}

export function NewRunPage({ query }: { query: URLSearchParams }) {
  const cloneId = query.get('clone') ?? undefined;
  const [pipelineId, setPipelineId] = useState(query.get('pipeline') ?? '');
  const [versionId, setVersionId] = useState(query.get('version') ?? '');
  const [experimentId, setExperimentId] = useState(query.get('experiment') ?? '');
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [values, setValues] = useState<Record<string, string>>({});
  // Root input artifacts: {input name: URI or absolute path on the server's machine}.
  const [artifactUris, setArtifactUris] = useState<Record<string, string>>({});
  const [touched, setTouched] = useState(false);
  const [kind, setKind] = useState<'once' | 'recurring'>(query.get('recurring') ? 'recurring' : 'once');
  const [triggerType, setTriggerType] = useState<'cron' | 'periodic'>('periodic');
  const [cron, setCron] = useState('0 0 * * * *');
  const [interval, setIntervalSec] = useState('3600');
  const [maxConcurrency, setMaxConcurrency] = useState('1');
  const [catchup, setCatchup] = useState(false);
  const [submitError, setSubmitError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [cloneOf, setCloneOf] = useState<Run>();

  const pipelines = useAsync(() => api.listPipelines({ page_size: 200, sort_by: 'created_at desc' }), []);
  const experiments = useAsync(
    () => api.listExperiments({ page_size: 200, sort_by: 'created_at desc', filter: JSON.stringify({ predicates: [{ key: 'storage_state', operation: 'NOT_EQUALS', string_value: 'ARCHIVED' }] }) }),
    [],
  );
  const versions = useAsync(
    () => (pipelineId ? api.listVersions(pipelineId, { page_size: 100, sort_by: 'created_at desc' }) : Promise.resolve(undefined)),
    [pipelineId],
  );
  const clone = useAsync(() => (cloneId ? api.getRun(cloneId) : Promise.resolve(undefined)), [cloneId]);
  const cloneSpec = useAsync(
    () => (cloneId && clone.data && !clone.data.pipeline_version_reference?.pipeline_version_id ? api.runSpec(cloneId) : Promise.resolve(undefined)),
    [cloneId, clone.data],
  );

  // clone: take pipeline, version, experiment and parameters from the run
  useEffect(() => {
    const r = clone.data;
    if (!r) return;
    setCloneOf(r);
    const ref = r.pipeline_version_reference;
    if (ref?.pipeline_id) setPipelineId(ref.pipeline_id);
    if (ref?.pipeline_version_id) setVersionId(ref.pipeline_version_id);
    if (r.experiment_id) setExperimentId(r.experiment_id);
    setName(`Clone of ${r.display_name ?? r.run_id}`);
    setDescription(r.description ?? '');
  }, [clone.data]);

  // pick the newest version when none is chosen
  useEffect(() => {
    if (!versionId && versions.data?.items.length) setVersionId(versions.data.items[0].pipeline_version_id);
  }, [versions.data, versionId]);

  const version = useAsync(
    () => (pipelineId && versionId ? api.getVersion(pipelineId, versionId) : Promise.resolve(undefined)),
    [pipelineId, versionId],
  );
  const spec = useMemo(
    () => normalizeSpec(version.data?.pipeline_spec ?? cloneSpec.data?.pipeline_spec ?? clone.data?.pipeline_spec),
    [version.data, cloneSpec.data, clone.data],
  );
  const defs = useMemo(() => rootParameters(spec), [spec]);
  const artifactDefs = useMemo(() => rootArtifacts(spec).filter((a) => !a.isList), [spec]);
  const pipelineName = pipelines.data?.items.find((p) => p.pipeline_id === pipelineId)?.display_name;

  // fill the form when the parameter set changes
  const defsKey = defs.map((d) => `${d.name}:${d.type}`).join(',');
  useEffect(() => {
    setValues(initialValues(defs, cloneOf?.runtime_config?.parameters));
    setArtifactUris({ ...(cloneOf?.runtime_config?.pipeyard_input_artifacts ?? {}) });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [defsKey, cloneOf]);
  useEffect(() => {
    if (!cloneId && pipelineName) setName((n) => (n && !n.startsWith('Run of ') ? n : defaultRunName(pipelineName)));
  }, [pipelineName, cloneId]);

  const { params, errors } = collectParams(defs, values);
  const givenArtifacts = Object.fromEntries(
    artifactDefs.map((a) => [a.name, (artifactUris[a.name] ?? '').trim()] as const).filter(([, uri]) => uri),
  );
  const scheduleError =
    kind === 'recurring'
      ? triggerType === 'cron'
        ? cron.trim().split(/\s+/).length < 5
          ? 'A cron expression has 5 or 6 fields (KFP uses 6: seconds first).'
          : undefined
        : !/^\d+$/.test(interval.trim()) || Number(interval) < 1
          ? 'Enter the interval in whole seconds (at least 1).'
          : undefined
      : undefined;
  const canSubmit = !!spec && !!name.trim() && !Object.keys(errors).length && !scheduleError && !busy;

  const submit = async () => {
    setTouched(true);
    if (!canSubmit) return;
    setBusy(true);
    setSubmitError(undefined);
    const ref = pipelineId && versionId ? { pipeline_id: pipelineId, pipeline_version_id: versionId } : undefined;
    const common = {
      display_name: name.trim(),
      description,
      ...(ref ? { pipeline_version_reference: ref } : { pipeline_spec: spec as unknown as Record<string, unknown> }),
      runtime_config: { parameters: params, ...(kind === 'once' && Object.keys(givenArtifacts).length ? { pipeyard_input_artifacts: givenArtifacts } : {}) },
      ...(experimentId ? { experiment_id: experimentId } : {}),
    };
    try {
      if (kind === 'once') {
        const run = await api.createRun(common);
        navigate(`/runs/${run.run_id}`);
      } else {
        const trigger =
          triggerType === 'cron' ? { cron_schedule: { cron: cron.trim() } } : { periodic_schedule: { interval_second: String(Number(interval)) } };
        const rr = await api.createRecurringRun({ ...common, trigger, max_concurrency: String(Number(maxConcurrency) || 1), mode: 'ENABLE', no_catchup: !catchup });
        navigate(`/recurring/${rr.recurring_run_id}`);
      }
    } catch (e) {
      setSubmitError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <PageHeader
        crumbs={<Link to="/runs">Runs</Link>}
        title={cloneId ? 'Clone run' : 'Start a run'}
        subtitle={cloneOf ? <>Prefilled from <Link to={`/runs/${cloneOf.run_id}`}>{cloneOf.display_name}</Link></> : 'Pick a pipeline, set its parameters and start it now or on a schedule.'}
      />
      <ErrorBox error={pipelines.error} title="Could not load pipelines" onRetry={pipelines.reload} />
      <ErrorBox error={clone.error} title="Could not load the run to clone" />
      <div className="card form-card">
        <h2>Pipeline</h2>
        <div className="form-grid">
          <div className="form-row">
            <label htmlFor="run-pipeline">Pipeline<span className="req">*</span></label>
            <select
              id="run-pipeline"
              value={pipelineId}
              onChange={(e) => {
                setPipelineId(e.target.value);
                setVersionId('');
                setCloneOf(undefined);
              }}
            >
              <option value="">{pipelines.loading ? 'Loading…' : 'Choose a pipeline'}</option>
              {(pipelines.data?.items ?? []).map((p) => (
                <option key={p.pipeline_id} value={p.pipeline_id}>
                  {p.display_name || p.name}
                </option>
              ))}
            </select>
            {pipelines.data && !pipelines.data.items.length && (
              <span className="hint">
                No pipelines yet: <Link to="/pipelines">upload one</Link> first.
              </span>
            )}
          </div>
          <div className="form-row">
            <label htmlFor="run-version">Version<span className="req">*</span></label>
            <select id="run-version" value={versionId} onChange={(e) => setVersionId(e.target.value)} disabled={!pipelineId}>
              {!versions.data?.items.length && <option value="">—</option>}
              {(versions.data?.items ?? []).map((v) => (
                <option key={v.pipeline_version_id} value={v.pipeline_version_id}>
                  {v.display_name || v.name || v.pipeline_version_id}
                </option>
              ))}
            </select>
          </div>
        </div>
        <ErrorBox error={versions.error ?? version.error} title="Could not load the pipeline version" />
        <h2>Run details</h2>
        <div className="form-grid">
          <div className="form-row">
            <label htmlFor="run-name">Run name<span className="req">*</span></label>
            <input id="run-name" type="text" value={name} onChange={(e) => setName(e.target.value)} className={touched && !name.trim() ? 'input-invalid' : ''} />
          </div>
          <div className="form-row">
            <label htmlFor="run-experiment">Experiment</label>
            <select id="run-experiment" value={experimentId} onChange={(e) => setExperimentId(e.target.value)}>
              <option value="">Default</option>
              {(experiments.data?.items ?? []).map((x) => (
                <option key={x.experiment_id} value={x.experiment_id}>
                  {x.display_name}
                </option>
              ))}
            </select>
          </div>
        </div>
        <div className="form-row">
          <label htmlFor="run-desc">Description</label>
          <input id="run-desc" type="text" value={description} onChange={(e) => setDescription(e.target.value)} />
        </div>

        <h2>Parameters</h2>
        {version.loading && pipelineId && versionId ? (
          <Loading what="parameters" />
        ) : !spec ? (
          <p className="muted">Choose a pipeline to see its parameters.</p>
        ) : defs.length === 0 ? (
          <p className="muted">This pipeline takes no parameters.</p>
        ) : (
          <div className="form-grid">
            {defs.map((d) => (
              <ParamField key={d.name} def={d} value={values[d.name] ?? ''} error={errors[d.name]} onChange={(v) => setValues((vs) => ({ ...vs, [d.name]: v }))} />
            ))}
          </div>
        )}

        {artifactDefs.length > 0 && kind === 'once' && (
          <>
            <h2>Input artifacts</h2>
            <div className="form-grid">
              {artifactDefs.map((a) => (
                <div className="form-row" data-artifact={a.name} key={a.name}>
                  <label htmlFor={`artifact-${a.name}`}>
                    {a.name}
                    <span className="param-type">{a.type}</span>
                  </label>
                  <input
                    id={`artifact-${a.name}`}
                    type="text"
                    className="mono"
                    placeholder="s3://bucket/data.csv or /absolute/path"
                    value={artifactUris[a.name] ?? ''}
                    onChange={(e) => setArtifactUris((u) => ({ ...u, [a.name]: e.target.value }))}
                  />
                  <span className="hint">An artifact URI, or a file or directory on the server's machine (absolute path).</span>
                </div>
              ))}
            </div>
          </>
        )}

        <h2>Run type</h2>
        <div className="radio-row spaced-below">
          <label>
            <input type="radio" name="kind" checked={kind === 'once'} onChange={() => setKind('once')} /> One-off
          </label>
          <label>
            <input type="radio" name="kind" checked={kind === 'recurring'} onChange={() => setKind('recurring')} /> Recurring
          </label>
        </div>
        {kind === 'recurring' && (
          <div className="card subtle">
            <div className="radio-row spaced-below">
              <label>
                <input type="radio" name="trigger" checked={triggerType === 'periodic'} onChange={() => setTriggerType('periodic')} /> Every N seconds
              </label>
              <label>
                <input type="radio" name="trigger" checked={triggerType === 'cron'} onChange={() => setTriggerType('cron')} /> Cron
              </label>
            </div>
            <div className="form-grid">
              {triggerType === 'periodic' ? (
                <div className="form-row">
                  <label htmlFor="rr-interval">Interval (seconds)</label>
                  <input id="rr-interval" type="number" min={1} value={interval} onChange={(e) => setIntervalSec(e.target.value)} />
                </div>
              ) : (
                <div className="form-row">
                  <label htmlFor="rr-cron">Cron expression</label>
                  <input id="rr-cron" type="text" value={cron} onChange={(e) => setCron(e.target.value)} className="mono" />
                  <span className="hint">Six fields, seconds first, as in KFP: <code>0 0 * * * *</code> runs hourly.</span>
                </div>
              )}
              <div className="form-row">
                <label htmlFor="rr-conc">Maximum concurrent runs</label>
                <input id="rr-conc" type="number" min={1} value={maxConcurrency} onChange={(e) => setMaxConcurrency(e.target.value)} />
              </div>
            </div>
            <label>
              <input type="checkbox" checked={catchup} onChange={(e) => setCatchup(e.target.checked)} /> Catch up on missed runs
            </label>
            {scheduleError && <div className="field-error schedule-error">{scheduleError}</div>}
          </div>
        )}
        <ErrorBox error={submitError} title={kind === 'once' ? 'The run was not started' : 'The recurring run was not created'} />
        <div className="form-actions">
          <button className="btn primary" onClick={submit} disabled={!canSubmit} data-testid="start-run">
            {busy ? 'Starting…' : kind === 'once' ? 'Start run' : 'Create recurring run'}
          </button>
          <button className="btn" onClick={() => window.history.back()}>
            Cancel
          </button>
          {Object.keys(errors).length > 0 && <span className="muted center-self">Fix the highlighted parameters to continue.</span>}
        </div>
      </div>
    </>
  );
}

function ParamField({ def, value, error, onChange }: { def: ParamDef; value: string; error?: string; onChange: (v: string) => void }) {
  const id = `param-${def.name}`;
  const required = !def.hasDefault && !def.optional;
  const label = (
    <label htmlFor={id}>
      {def.name}
      {required && <span className="req" title="required">*</span>}
      <span className="param-type">{typeLabel(def.type)}</span>
    </label>
  );
  let input;
  if (def.literals) {
    // Literal[...]: only these values are accepted (the server refuses others).
    input = (
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)} className={error ? 'input-invalid' : ''} name={def.name}>
        {!def.literals.some((l) => toFieldText(def, l) === value) && <option value={value}>{value === '' ? 'Choose a value' : value}</option>}
        {def.literals.map((l) => {
          const text = toFieldText(def, l);
          return (
            <option key={text} value={text}>
              {text}
            </option>
          );
        })}
      </select>
    );
  } else if (def.type === 'BOOLEAN') {
    input = (
      <label className="check-label">
        <input id={id} type="checkbox" checked={value === 'true'} onChange={(e) => onChange(e.target.checked ? 'true' : 'false')} /> {value === 'true' ? 'true' : 'false'}
      </label>
    );
  } else if (def.type === 'LIST' || def.type === 'STRUCT') {
    input = <textarea id={id} rows={3} value={value} onChange={(e) => onChange(e.target.value)} className={error ? 'input-invalid' : ''} placeholder={def.type === 'LIST' ? '[1, 2, 3]' : '{"key": "value"}'} />;
  } else {
    input = (
      <input
        id={id}
        type="text"
        inputMode={def.type === 'NUMBER_INTEGER' ? 'numeric' : def.type === 'NUMBER_DOUBLE' ? 'decimal' : undefined}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        className={error ? 'input-invalid' : ''}
        name={def.name}
      />
    );
  }
  return (
    <div className="form-row" data-param={def.name}>
      {label}
      {input}
      {error ? <span className="field-error">{error}</span> : def.description ? <span className="hint">{def.description}</span> : def.hasDefault ? <span className="hint">Default: {JSON.stringify(def.defaultValue)}</span> : null}
    </div>
  );
}
