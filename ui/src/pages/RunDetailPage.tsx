export function RunDetailPage(_props: Record<string, unknown>) {
  return <div>RunDetailPage</div>;
}
