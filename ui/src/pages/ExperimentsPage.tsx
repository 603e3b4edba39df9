export function ExperimentsPage() { return <div>Experiments</div>; }
export function ExperimentDetailPage(_p: { experimentId: string }) { return <div>Experiment</div>; }
