// End-to-end test of issue 10's UI parts in a real browser against a real server:
// a pipeline in KFP's Kubernetes-native format uploaded through the dialog, tags added
// to it and to its version and used to filter the pipelines list, then a run started
// from the form with a literal parameter picked from its dropdown and a root input
// artifact given by path; the run's output shows both arrived.
//
// Screenshots 150-169 in <repo>/test-artifacts/screenshots/.
import fs from 'node:fs';
import path from 'node:path';
import { assert, e2eDir, ensureBuilt, launchBrowser, log, main, RUN_TIMEOUT, runPython, screenshots, startServer } from './helpers.mjs';

const shot = screenshots(150, 169);

main(async () => {
  ensureBuilt();
  const server = await startServer('pipeyard-e2e-kfp-features-');
  const { home, base } = server;
  runPython([path.join(e2eDir, 'kfp_features_pipelines.py'), home], 'compiling the scenario pipeline');
  const yaml = path.join(home, 'choose.yaml');
  assert(/kind: PipelineVersion/.test(fs.readFileSync(yaml, 'utf8')), 'the file is in the Kubernetes format');
  const data = path.join(home, 'rows.txt');
  fs.writeFileSync(data, 'forty-two rows\n');

  let browser;
  try {
    let page, pageErrors;
    ({ browser, page, pageErrors } = await launchBrowser());

    // 1. upload the Kubernetes-format file through the dialog
    await page.goto(`${base}/#/pipelines`);
    await page.getByRole('button', { name: '+ Upload pipeline' }).click();
    await page.locator('#upload-file').setInputFiles(yaml);
    await page.locator('#upload-name').fill('choose e2e');
    await page.getByTestId('upload-submit').click();
    await page.getByRole('heading', { name: 'choose e2e' }).waitFor();
    await shot(page, 'k8s-format-uploaded');

    // 2. tag the pipeline and its version
    const ptags = page.getByTestId('pipeline-tags');
    await ptags.getByLabel('New tag').fill('team=ml');
    await ptags.getByRole('button', { name: 'Add tag' }).click();
    await ptags.locator('[data-tag="team"]').waitFor();
    await ptags.getByLabel('New tag').fill('bad.key=x');
    await ptags.getByRole('button', { name: 'Add tag' }).click();
    await ptags.getByText('cannot contain a dot').waitFor();
    const vtags = page.getByTestId('version-tags');
    await vtags.getByLabel('New tag').fill('stage=canary');
    await vtags.getByLabel('New tag').press('Enter');
    await vtags.locator('[data-tag="stage"]').waitFor();
    await shot(page, 'tags-edited');
    const pid = /#\/pipelines\/([^/?]+)/.exec(page.url())?.[1];
    const stored = await (await fetch(`${base}/apis/v2beta1/pipelines/${pid}`)).json();
    assert(JSON.stringify(stored.tags) === '{"team":"ml"}', `the server stored the pipeline's tags (${JSON.stringify(stored.tags)})`);

    // 3. filter the list by tag
    await page.goto(`${base}/#/pipelines`);
    const table = page.getByTestId('pipelines-table');
    await table.getByText('choose e2e').waitFor();
    await page.getByLabel('Filter by tag').fill('team=ops');
    await page.getByText('No pipeline matches this filter').waitFor();
    await page.getByLabel('Filter by tag').fill('team=ml');
    await table.getByText('choose e2e').waitFor();
    await table.locator('[data-tag="team"]').waitFor();
    await shot(page, 'pipelines-filtered-by-tag');

    // 4. the run form: a dropdown for the literal, a field for the root artifact
    await table.getByRole('link', { name: 'Create run' }).click();
    const mode = page.locator('#param-mode');
    await mode.waitFor();
    const options = await mode.locator('option').allInnerTexts();
    assert(JSON.stringify(options) === '["fast","slow"]', `the literal's options are fast, slow (got ${JSON.stringify(options)})`);
    await mode.selectOption('slow');
    await page.locator('#artifact-data').fill(data);
    await page.waitForFunction(() => document.querySelector('#run-name')?.value !== '');
    await page.locator('#run-name').fill('choose e2e run');
    await shot(page, 'run-form-literal-and-artifact');
    await page.getByTestId('start-run').click();

    // 5. the run succeeds with both values
    await page.getByRole('heading', { name: /^choose e2e run/ }).waitFor();
    await page.locator('.page-header .badge[data-state="SUCCEEDED"]').waitFor({ timeout: RUN_TIMEOUT });
    await shot(page, 'run-succeeded');
    const runId = /#\/runs\/([^/?]+)/.exec(page.url())?.[1];
    const run = await (await fetch(`${base}/apis/v2beta1/runs/${runId}`)).json();
    assert(run.runtime_config.pipeyard_input_artifacts.data === data, 'the run stored its input artifact');
    const tasks = (await (await fetch(`${base}/apis/pipeyard/v1/runs/${runId}/tasks`)).json()).tasks;
    const out = tasks.find((t) => t.name === 'combine')?.outputs.parameters.Output;
    assert(out === 'slow:forty-two rows', `the task got the literal and the artifact (got ${out})`);
    assert(pageErrors.length === 0, `no uncaught page errors (${pageErrors.join('; ')})`);
    log(`PASS: ${shot.count()} screenshots`);
  } finally {
    await browser?.close().catch(() => undefined);
    await server.stop();
  }
});
