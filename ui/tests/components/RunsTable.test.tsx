// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Run } from '../../src/api/types';
import { RunsTable } from '../../src/components/RunsTable';
import { forgetNames } from '../../src/lib/names';
import { fakeFetch } from './fakeServer';

const stored: Run = {
  run_id: 'run-stored',
  display_name: 'iris C=0.5',
  state: 'SUCCEEDED',
  experiment_id: 'exp-1',
  pipeline_version_reference: { pipeline_id: 'pipe-1', pipeline_version_id: 'ver-1' },
  created_at: '2026-01-01T10:00:00Z',
  finished_at: '2026-01-01T10:01:00Z',
};
const fromPackage: Run = { run_id: 'run-pkg', display_name: 'from sdk', state: 'FAILED', experiment_id: 'exp-2', pipeline_name: 'my-sdk-pipeline', created_at: '2026-01-01T11:00:00Z', finished_at: '2026-01-01T11:00:30Z' };

afterEach(() => {
  cleanup();
  forgetNames();
  vi.unstubAllGlobals();
});

function serve(pages: Record<string, { runs: Run[]; next_page_token?: string }>) {
  return fakeFetch({
    'GET /apis/v2beta1/runs': (u) => ({ body: { ...pages[u.searchParams.get('page_token') ?? ''], total_size: 3 } }),
    'GET /apis/v2beta1/pipelines/pipe-1': () => ({ body: { pipeline_id: 'pipe-1', display_name: 'iris pipeline' } }),
    'GET /apis/v2beta1/pipelines/pipe-1/versions/ver-1': () => ({ body: { pipeline_id: 'pipe-1', pipeline_version_id: 'ver-1', display_name: 'iris v2' } }),
    'GET /apis/v2beta1/experiments/exp-1': () => ({ body: { experiment_id: 'exp-1', display_name: 'Default' } }),
    'GET /apis/v2beta1/experiments/exp-2': () => ({ status: 500, body: { error_message: 'database is locked' } }),
  });
}

const row = (id: string) => document.querySelector(`tr[data-run-id="${id}"]`) as HTMLElement;

describe('RunsTable', () => {
  it("shows each run's pipeline and version by name, with links", async () => {
    serve({ '': { runs: [stored, fromPackage] } });
    render(<RunsTable />);
    await screen.findByTestId('runs-table');
    expect(screen.getByRole('columnheader', { name: 'Pipeline version' })).toBeTruthy();
    const r = within(row('run-stored'));
    const version = await r.findByRole('link', { name: 'iris v2' });
    expect(version.getAttribute('href')).toBe('#/pipelines/pipe-1/versions/ver-1');
    expect((await r.findByRole('link', { name: 'iris pipeline' })).getAttribute('href')).toBe('#/pipelines/pipe-1');
    expect((await r.findByRole('link', { name: 'Default' })).getAttribute('href')).toBe('#/experiments/exp-1');
  });

  it('names the pipeline of a run from a package from its spec, and says why a name is missing', async () => {
    serve({ '': { runs: [stored, fromPackage] } });
    render(<RunsTable />);
    await screen.findByTestId('runs-table');
    const r = row('run-pkg');
    expect(r.textContent).toContain('my-sdk-pipeline');
    expect(within(r).getByText('package')).toBeTruthy();
    // the experiment's name could not be read: the short id stays, the reason is its tooltip
    await waitFor(() => expect(r.querySelector('a[data-name-error="true"]')).not.toBeNull());
    const link = r.querySelector('a[data-name-error="true"]')!;
    expect(link.textContent).toBe('exp-2');
    expect(link.getAttribute('title')).toContain('database is locked');
  });

  it('pages forward with the token the server gave and back again', async () => {
    const calls = serve({ '': { runs: [stored], next_page_token: 'tok-2' }, 'tok-2': { runs: [fromPackage] } });
    render(<RunsTable />);
    await waitFor(() => expect(row('run-stored')).toBeTruthy());
    fireEvent.click(screen.getByRole('button', { name: 'Next ›' }));
    await waitFor(() => expect(row('run-pkg')).toBeTruthy());
    expect(row('run-stored')).toBeNull();
    expect(calls.filter((c) => c.pathname === '/apis/v2beta1/runs').map((c) => c.searchParams.get('page_token'))).toEqual([null, 'tok-2']);
    expect((screen.getByRole('button', { name: 'Next ›' }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(screen.getByRole('button', { name: '‹ Previous' }));
    await waitFor(() => expect(row('run-stored')).toBeTruthy());
  });

  it('goes back to the first page when a filter changes', async () => {
    const calls = serve({ '': { runs: [stored], next_page_token: 'tok-2' }, 'tok-2': { runs: [fromPackage] } });
    render(<RunsTable />);
    await waitFor(() => expect(row('run-stored')).toBeTruthy());
    fireEvent.click(screen.getByRole('button', { name: 'Next ›' }));
    await waitFor(() => expect(row('run-pkg')).toBeTruthy());
    fireEvent.change(screen.getByLabelText('Filter by status'), { target: { value: 'FAILED' } });
    await waitFor(() => expect(row('run-stored')).toBeTruthy());
    const last = calls.filter((c) => c.pathname === '/apis/v2beta1/runs').pop()!;
    expect(last.searchParams.get('page_token')).toBeNull();
    expect(JSON.parse(last.searchParams.get('filter')!).predicates).toContainEqual({ key: 'state', operation: 'EQUALS', string_value: 'FAILED' });
    expect(screen.getByText(/Page 1/)).toBeTruthy();
  });

  it('asks for each name once however many rows show it', async () => {
    const calls = serve({ '': { runs: [stored, { ...stored, run_id: 'run-stored-2', display_name: 'again' }] } });
    render(<RunsTable />);
    await waitFor(() => expect(within(row('run-stored-2')).getByRole('link', { name: 'iris v2' })).toBeTruthy());
    expect(calls.filter((c) => c.pathname === '/apis/v2beta1/pipelines/pipe-1')).toHaveLength(1);
    expect(calls.filter((c) => c.pathname.endsWith('/versions/ver-1'))).toHaveLength(1);
  });
});
