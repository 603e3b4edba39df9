
// ------------------------------------------------------------------ names the UI uses

type Schemas = components['schemas'];

export type RuntimeState = NonNullable<Schemas['Run']['state']>;
export type TaskKind = Schemas['Task']['kind'];
export type RpcStatus = Schemas['RpcStatus'];
export type Pipeline = Schemas['Pipeline'];
export type PipelineVersion = Schemas['PipelineVersion'];
export type Experiment = Schemas['Experiment'];
export type RuntimeConfig = Schemas['RuntimeConfig-Output'];
export type PipelineVersionReference = Schemas['PipelineVersionReference'];
export type Run = Schemas['Run'];
export type Trigger = Schemas['Trigger'];
export type RecurringRun = Schemas['RecurringRun'];
export type ArtifactRef = Schemas['ArtifactRef'];
export type TaskAttempt = Schemas['TaskAttempt'];
export type IO = Schemas['IO'];
export type Task = Schemas['Task'];
export type Artifact = Schemas['Artifact'];
export type ArtifactWithLineage = Schemas['ArtifactWithLineage'];

// Not in the OpenAPI document: the list pages' common shape, and the payload of
// the SSE stream's "log" events (docs/api.md).
export interface ListPage<T> {
  items: T[];
  next_page_token?: string;
  total_size?: number;
}

export interface LogEvent {
  run_id: string;
  task_id: string;
  attempt: number;
  line: string;
}
