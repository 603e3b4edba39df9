export function PipelinesPage(_props: Record<string, unknown>) {
  return <div>PipelinesPage</div>;
}
