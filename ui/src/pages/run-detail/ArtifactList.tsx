import type { ArtifactRef } from '../../api/types';
import { ArtifactCard } from '../../components/ArtifactView';

export function ArtifactList({ artifacts, params }: { artifacts: Record<string, ArtifactRef[]> | undefined; params?: Record<string, unknown> }) {
  const e = Object.entries(artifacts ?? {});
  if (!e.length) return <p className="muted small">None</p>;
  return <>{e.flatMap(([k, list]) => list.map((a, i) => <ArtifactCard key={`${k}-${i}`} a={a} title={list.length > 1 ? `${k} [${i}]` : k} params={params} />))}</>;
}
