import { dump } from 'js-yaml';

/**
 * The YAML of the spec a run ran, as kfp's compiler writes it: the pipeline spec,
 * then the platform spec (kubernetes settings) as a second document when there is one.
 */
export function specYaml(pipelineSpec: Record<string, unknown>, platformSpec?: Record<string, unknown> | null): string {
  const main = dump(pipelineSpec, { lineWidth: 120, noRefs: true });
  return platformSpec && Object.keys(platformSpec).length ? `${main}---\n${dump(platformSpec, { lineWidth: 120, noRefs: true })}` : main;
}
