export function RunsPage(_props: Record<string, unknown>) {
  return <div>RunsPage</div>;
}
