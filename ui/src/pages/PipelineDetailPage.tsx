export function PipelineDetailPage(_props: Record<string, unknown>) {
  return <div>PipelineDetailPage</div>;
}
