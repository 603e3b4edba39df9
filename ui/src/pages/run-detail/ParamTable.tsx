import { valueText } from '../../lib/format';

export function ParamTable({ params }: { params: Record<string, unknown> | undefined }) {
  const e = Object.entries(params ?? {});
  if (!e.length) return <p className="muted small">None</p>;
  return (
    <table className="list">
      <tbody>
        {e.map(([k, v]) => (
          <tr key={k}>
            <td className="param-name">{k}</td>
            <td className="mono break">{valueText(v)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
