export function NewRunPage(_props: Record<string, unknown>) {
  return <div>NewRunPage</div>;
}
