export function ComparePage(_props: Record<string, unknown>) {
  return <div>ComparePage</div>;
}
