import { describe, expect, it } from 'vitest';
import { parseTag } from '../src/components/TagEditor';
import { buildNameFilter, tagPredicates } from '../src/lib/filter';
import { rootArtifacts, rootParameters, type PipelineSpec } from '../src/lib/spec';

describe('tags', () => {
  it('filters by tags.<key> EQUALS, with the name filter', () => {
    const f = JSON.parse(buildNameFilter('iris', tagPredicates('team=ml, tier = gold, broken')) ?? '{}');
    expect(f.predicates).toEqual([
      { key: 'display_name', operation: 'IS_SUBSTRING', string_value: 'iris' },
      { key: 'tags.team', operation: 'EQUALS', string_value: 'ml' },
      { key: 'tags.tier', operation: 'EQUALS', string_value: 'gold' },
    ]);
  });
  it("checks KFP's tag rules before sending", () => {
    expect(parseTag('team=ml', {})).toEqual(['team', 'ml']);
    expect(parseTag('a.b=x', {})).toMatch(/dot/);
    expect(parseTag('=x', {})).toMatch(/key=value/);
    const twenty = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, 'v']));
    expect(parseTag('new=v', twenty)).toMatch(/20/);
    expect(parseTag('k1=changed', twenty)).toEqual(['k1', 'changed']);
  });
});

describe('run form inputs', () => {
  const spec: PipelineSpec = {
    root: {
      inputDefinitions: {
        parameters: { mode: { parameterType: 'STRING', defaultValue: 'fast', literals: ['fast', 'slow'] }, n: { parameterType: 'NUMBER_INTEGER' } },
        artifacts: { data: { artifactType: { schemaTitle: 'system.Dataset' } }, many: { isArtifactList: true } },
      },
    },
  };
  it('reads literals and root artifacts from the spec', () => {
    const params = rootParameters(spec);
    expect(params.find((p) => p.name === 'mode')?.literals).toEqual(['fast', 'slow']);
    expect(params.find((p) => p.name === 'n')?.literals).toBeUndefined();
    expect(rootArtifacts(spec)).toEqual([
      { name: 'data', type: 'system.Dataset', optional: false, isList: false },
      { name: 'many', type: 'system.Artifact', optional: false, isList: true },
    ]);
  });
});
