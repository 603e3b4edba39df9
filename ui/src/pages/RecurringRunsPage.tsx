export function RecurringRunsPage() { return <div>Recurring</div>; }
export function RecurringRunDetailPage(_p: { recurringRunId: string }) { return <div>Recurring</div>; }
