// Shapes of KFP's v2beta1 REST API and pipeyard's /apis/pipeyard/v1 extensions
// (docs/api.md). Only the fields the UI reads are typed.

export type RuntimeState =
  | 'RUNTIME_STATE_UNSPECIFIED'
  | 'PENDING'
  | 'RUNNING'
  | 'SUCCEEDED'
  | 'SKIPPED'
  | 'FAILED'
  | 'CANCELING'
  | 'CANCELED'
  | 'PAUSED';

export interface RpcStatus {
  code?: number;
  message?: string;
  details?: unknown[];
}

export interface Pipeline {
  pipeline_id: string;
  display_name?: string;
  name?: string;
  description?: string;
  created_at?: string;
}

export interface PipelineVersion {
  pipeline_id: string;
  pipeline_version_id: string;
  display_name?: string;
  name?: string;
  description?: string;
  created_at?: string;
  pipeline_spec?: Record<string, unknown>;
}

export interface Experiment {
  experiment_id: string;
  display_name?: string;
  description?: string;
  created_at?: string;
  storage_state?: 'AVAILABLE' | 'ARCHIVED' | string;
  last_run_created_at?: string;
}

export interface RuntimeConfig {
  parameters?: Record<string, unknown>;
  pipeline_root?: string;
}

export interface PipelineVersionReference {
  pipeline_id?: string;
  pipeline_version_id?: string;
}

export interface Run {
  run_id: string;
  experiment_id?: string;
  display_name?: string;
  description?: string;
  storage_state?: 'AVAILABLE' | 'ARCHIVED' | string;
  pipeline_version_id?: string;
  pipeline_spec?: Record<string, unknown>;
  pipeline_version_reference?: PipelineVersionReference;
  runtime_config?: RuntimeConfig;
  created_at?: string;
  scheduled_at?: string;
  finished_at?: string;
  state?: RuntimeState;
  error?: RpcStatus | null;
  recurring_run_id?: string;
  state_history?: { update_time?: string; state?: RuntimeState; error?: RpcStatus }[];
}

export interface Trigger {
  cron_schedule?: { cron?: string; start_time?: string; end_time?: string };
  periodic_schedule?: { interval_second?: string | number; start_time?: string; end_time?: string };
}

export interface RecurringRun {
  recurring_run_id: string;
  display_name?: string;
  description?: string;
  pipeline_version_reference?: PipelineVersionReference;
  runtime_config?: RuntimeConfig;
  max_concurrency?: string | number;
  trigger?: Trigger;
  mode?: 'MODE_UNSPECIFIED' | 'ENABLE' | 'DISABLE';
  status?: 'STATUS_UNSPECIFIED' | 'ENABLED' | 'DISABLED';
  created_at?: string;
  updated_at?: string;
  experiment_id?: string;
  no_catchup?: boolean;
  error?: RpcStatus | null;
}

export interface ArtifactRef {
  artifact_id: string;
  name: string;
  uri: string;
  type: string;
  metadata?: Record<string, unknown>;
}

export type TaskKind = 'CONTAINER' | 'IMPORTER' | 'DAG' | 'LOOP' | 'ITERATION' | 'PLATFORM';

export interface TaskAttempt {
  attempt: number;
  state: RuntimeState;
  started_at?: string | null;
  finished_at?: string | null;
  exit_code?: number | null;
  error?: string | null;
}

export interface IO {
  parameters?: Record<string, unknown>;
  artifacts?: Record<string, ArtifactRef[]>;
}

export interface Task {
  task_id: string;
  run_id: string;
  parent_task_id?: string | null;
  path: string;
  name: string;
  display_name?: string;
  kind: TaskKind;
  state: RuntimeState;
  iteration_index?: number | null;
  attempts?: number;
  cached?: boolean;
  cached_from_task_id?: string | null;
  fingerprint?: string | null;
  error?: string | null;
  command?: string[] | string | null;
  created_at?: string | null;
  started_at?: string | null;
  finished_at?: string | null;
  details?: Record<string, unknown> | null;
  inputs?: IO;
  outputs?: IO;
  attempt_list?: TaskAttempt[];
}

export interface Artifact {
  artifact_id: string;
  run_id?: string;
  task_id?: string;
  name: string;
  display_name?: string;
  uri: string;
  type: string;
  metadata?: Record<string, unknown>;
  digest?: string;
  created_at?: string;
}

export interface ArtifactWithLineage extends Artifact {
  lineage?: {
    producer: { run_id: string; task_id: string; task_name: string } | null;
    consumers: { run_id: string; task_id: string; task_name: string; input_name: string }[];
  };
}

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

// ---- UI additions: fields the server sends beyond the ones above (keep this block
// when regenerating the types from /openapi.json; interfaces merge by name). ----
export interface Run {
  /** pipelineInfo.name of the spec the run ran (also for runs from a package) */
  pipeline_name?: string;
}
