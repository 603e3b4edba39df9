import { PageHeader } from '../components/common';
import { RunsTable } from '../components/RunsTable';
import { Link } from '../router';

export function RunsPage() {
  return (
    <>
      <PageHeader
        title="Runs"
        subtitle="Every run of every pipeline. Select two or more to compare them."
        actions={
          <Link className="btn primary" to="/runs/new">
            + Create run
          </Link>
        }
      />
      <RunsTable />
    </>
  );
}
