// Typed reading of a compiled KFP PipelineSpec (JSON form of the proto).

export type ParameterType =
  | 'NUMBER_INTEGER'
  | 'NUMBER_DOUBLE'
  | 'BOOLEAN'
  | 'STRING'
  | 'LIST'
  | 'STRUCT'
  | 'TASK_FINAL_STATUS'
  | 'PARAMETER_TYPE_ENUM_UNSPECIFIED';

export interface ParamDef {
  name: string;
  type: ParameterType;
  defaultValue?: unknown;
  hasDefault: boolean;
  optional: boolean;
  description?: string;
  /** The allowed values of a Literal[...] parameter (KFP 2.14+ `literals`). */
  literals?: unknown[];
}

/** A root input artifact (an Input[Dataset] of the pipeline itself). */
export interface RootArtifactDef {
  name: string;
  type: string;
  optional: boolean;
  isList: boolean;
}

export interface InputSpec {
  taskOutputParameter?: { producerTask: string; outputParameterKey: string };
  taskOutputArtifact?: { producerTask: string; outputArtifactKey: string };
  componentInputParameter?: string;
  componentInputArtifact?: string;
  runtimeValue?: { constant?: unknown };
  taskFinalStatus?: { producerTask: string };
}

export interface TaskSpec {
  taskInfo?: { name?: string };
  componentRef?: { name?: string };
  dependentTasks?: string[];
  inputs?: { parameters?: Record<string, InputSpec>; artifacts?: Record<string, InputSpec> };
  triggerPolicy?: { condition?: string; strategy?: string };
  parameterIterator?: { items?: { inputParameter?: string; raw?: string }; itemInput?: string };
  artifactIterator?: { items?: { inputArtifact?: string }; itemInput?: string };
  iteratorPolicy?: { parallelismLimit?: number };
  cachingOptions?: { enableCache?: boolean };
  retryPolicy?: { maxRetryCount?: number };
}

export interface DagSpec {
  tasks?: Record<string, TaskSpec>;
  outputs?: unknown;
}

export interface ComponentSpec {
  dag?: DagSpec;
  executorLabel?: string;
  inputDefinitions?: {
    parameters?: Record<string, { parameterType?: ParameterType; defaultValue?: unknown; isOptional?: boolean; description?: string; literals?: unknown[] }>;
    artifacts?: Record<string, { artifactType?: { schemaTitle?: string }; isArtifactList?: boolean; isOptional?: boolean }>;
  };
  outputDefinitions?: {
    parameters?: Record<string, { parameterType?: ParameterType }>;
    artifacts?: Record<string, { artifactType?: { schemaTitle?: string }; isArtifactList?: boolean }>;
  };
}

export interface PipelineSpec {
  pipelineInfo?: { name?: string; description?: string; displayName?: string };
  root?: ComponentSpec;
  components?: Record<string, ComponentSpec>;
  deploymentSpec?: { executors?: Record<string, { container?: { image?: string; command?: string[]; args?: string[] }; importer?: unknown }> };
  schemaVersion?: string;
  sdkVersion?: string;
}

/**
 * A version's `pipeline_spec` is either the PipelineSpec itself or, when the
 * upload carried a platform spec, `{pipeline_spec, platform_spec}` as KFP does.
 */
export function normalizeSpec(raw: unknown): PipelineSpec | null {
  if (!raw || typeof raw !== 'object') return null;
  const o = raw as Record<string, unknown>;
  if (o.root || o.components || o.pipelineInfo) return o as PipelineSpec;
  if (o.pipeline_spec && typeof o.pipeline_spec === 'object') return normalizeSpec(o.pipeline_spec);
  if (o.pipelineSpec && typeof o.pipelineSpec === 'object') return normalizeSpec(o.pipelineSpec);
  return null;
}

export function rootParameters(spec: PipelineSpec | null): ParamDef[] {
  const params = spec?.root?.inputDefinitions?.parameters ?? {};
  return Object.entries(params).map(([name, p]) => ({
    name,
    type: p.parameterType ?? 'STRING',
    defaultValue: p.defaultValue,
    hasDefault: p.defaultValue !== undefined,
    optional: !!p.isOptional,
    description: p.description,
    literals: Array.isArray(p.literals) && p.literals.length ? p.literals : undefined,
  }));
}

export function rootArtifacts(spec: PipelineSpec | null): RootArtifactDef[] {
  const arts = spec?.root?.inputDefinitions?.artifacts ?? {};
  return Object.entries(arts).map(([name, a]) => ({
    name,
    type: a.artifactType?.schemaTitle ?? 'system.Artifact',
    optional: !!a.isOptional,
    isList: !!a.isArtifactList,
  }));
}

export function component(spec: PipelineSpec, ref: string | undefined): ComponentSpec | undefined {
  if (!ref) return undefined;
  return spec.components?.[ref];
}

export type TaskShape = 'task' | 'loop' | 'condition' | 'exit-handler' | 'dag' | 'importer';

/** What kind of node a task of the spec is: a plain task, a loop, a condition group, a sub-DAG. */
export function taskShape(spec: PipelineSpec, name: string, t: TaskSpec): TaskShape {
  const comp = component(spec, t.componentRef?.name);
  if (t.parameterIterator || t.artifactIterator) return 'loop';
  if (comp?.dag) {
    if (name.startsWith('condition-') || t.triggerPolicy?.condition) return 'condition';
    if (name.startsWith('exit-handler-')) return 'exit-handler';
    return 'dag';
  }
  const ex = comp?.executorLabel ? spec.deploymentSpec?.executors?.[comp.executorLabel] : undefined;
  if (ex?.importer) return 'importer';
  return 'task';
}

export function executorOf(spec: PipelineSpec, t: TaskSpec) {
  const comp = component(spec, t.componentRef?.name);
  return comp?.executorLabel ? spec.deploymentSpec?.executors?.[comp.executorLabel] : undefined;
}
