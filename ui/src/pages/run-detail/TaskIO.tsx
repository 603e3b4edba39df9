import type { Task } from '../../api/types';
import { ArtifactList } from './ArtifactList';
import { ParamTable } from './ParamTable';

export function TaskIO({ t }: { t: Task }) {
  return (
    <>
      <div className="io-section">
        <h3>Input parameters</h3>
        <ParamTable params={t.inputs?.parameters} />
        <h3>Input artifacts</h3>
        <ArtifactList artifacts={t.inputs?.artifacts} />
      </div>
      <div className="io-section">
        <h3>Output parameters</h3>
        <ParamTable params={t.outputs?.parameters} />
        <h3>Output artifacts</h3>
        <ArtifactList artifacts={t.outputs?.artifacts} params={t.inputs?.parameters} />
      </div>
    </>
  );
}
