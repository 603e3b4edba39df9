export function ArtifactsPage() { return <div>Artifacts</div>; }
export function ArtifactDetailPage(_p: { artifactId: string }) { return <div>Artifact</div>; }
