// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { load } from 'js-yaml';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { forgetNames } from '../../src/lib/names';
import { SaveAsPipelineDialog, type Saved } from '../../src/pages/run-detail/SaveAsPipeline';

const spec = { pipeline_spec: { pipelineInfo: { name: 'my-sdk-pipeline' }, root: { dag: { tasks: {} } } }, platform_spec: null };

afterEach(() => {
  cleanup();
  forgetNames();
  vi.unstubAllGlobals();
});

/** The server's answers; uploads are recorded with the text of the file they carried. */
function serve(existing: boolean) {
  const uploads: { url: URL; file: string }[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: string, init?: RequestInit) => {
      const url = new URL(input, 'http://pipeyard.test');
      const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status });
      if (url.pathname === '/apis/v2beta1/pipelines/names/my-sdk-pipeline') {
        return existing ? json({ pipeline_id: 'p-old', name: 'my-sdk-pipeline', display_name: 'my-sdk-pipeline' }) : json({ error_message: 'pipeline not found' }, 404);
      }
      if (url.pathname.startsWith('/apis/v2beta1/pipelines/names/')) return json({ error_message: 'pipeline not found' }, 404);
      if (init?.method === 'POST') {
        const file = (init.body as FormData).get('uploadfile') as File;
        uploads.push({ url, file: await file.text() });
        if (url.pathname.endsWith('/upload_version')) return json({ pipeline_id: 'p-old', pipeline_version_id: 'v-new', display_name: url.searchParams.get('name') || 'generated' });
        return json({ pipeline_id: 'p-new', display_name: url.searchParams.get('name') });
      }
      if (url.pathname === '/apis/v2beta1/pipelines/p-new/versions') return json({ pipeline_versions: [{ pipeline_id: 'p-new', pipeline_version_id: 'v-first' }] });
      return json({ error_message: `no fake for ${url.pathname}` }, 404);
    }),
  );
  return uploads;
}

describe('SaveAsPipelineDialog', () => {
  it('offers a new version of the pipeline of the same name and uploads the spec to it', async () => {
    const uploads = serve(true);
    const onSaved = vi.fn<(s: Saved) => void>();
    render(<SaveAsPipelineDialog spec={spec} defaultName="my-sdk-pipeline" onClose={() => undefined} onSaved={onSaved} />);
    await screen.findByTestId('save-pipeline-existing');
    fireEvent.change(screen.getByLabelText('Version name'), { target: { value: 'from the notebook' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add version' }));
    await waitFor(() => expect(onSaved).toHaveBeenCalledWith({ pipelineId: 'p-old', pipelineName: 'my-sdk-pipeline', versionId: 'v-new' }));
    expect(uploads).toHaveLength(1);
    expect(uploads[0].url.pathname).toBe('/apis/v2beta1/pipelines/upload_version');
    expect(uploads[0].url.searchParams.get('pipelineid')).toBe('p-old');
    expect(uploads[0].url.searchParams.get('name')).toBe('from the notebook');
    expect(load(uploads[0].file)).toEqual(spec.pipeline_spec);
  });

  it('creates a new pipeline when none has the name', async () => {
    const uploads = serve(false);
    const onSaved = vi.fn<(s: Saved) => void>();
    render(<SaveAsPipelineDialog spec={spec} defaultName="my-sdk-pipeline" onClose={() => undefined} onSaved={onSaved} />);
    fireEvent.change(screen.getByLabelText('Pipeline name'), { target: { value: 'kept pipeline' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create pipeline' }));
    await waitFor(() => expect(onSaved).toHaveBeenCalledWith({ pipelineId: 'p-new', pipelineName: 'kept pipeline', versionId: 'v-first' }));
    expect(uploads.map((u) => u.url.pathname)).toEqual(['/apis/v2beta1/pipelines/upload']);
    expect(screen.queryByTestId('save-pipeline-existing')).toBeNull();
  });
});
