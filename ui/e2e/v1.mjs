// End-to-end test of issue 9's UI path for a kfp 1.x pipeline: the classic sequential
// pipeline compiled by kfp 1.8.22 (an Argo Workflow), uploaded through the dialog,
// started from the form, both steps watched to green in order, and each step's log read.
//
// kfp 1.8.22 lives in its own venv ($PIPEYARD_KFP1_ENV, else <repo>/.venv-kfp1, created
// once by pipeyard.v1.kfp1_env). Screenshots 60-69 in <repo>/test-artifacts/screenshots/.
import fs from 'node:fs';
import path from 'node:path';
import { assert, assertNoReload, ensureBuilt, graphNode, graphSettled, launchBrowser, log, main, markNoReload, repo, runPython, RUN_TIMEOUT, screenshots, startServer } from './helpers.mjs';
import { spawnSync } from 'node:child_process';

const shot = screenshots(60, 69);

function compileV1(out) {
  const env = process.env.PIPEYARD_KFP1_ENV || path.join(repo, '.venv-kfp1');
  const kfp1 = runPython(['-m', 'pipeyard.v1.kfp1_env', env], 'creating the kfp 1.8 environment').trim();
  const source = path.join(path.dirname(out), 'sequential.py');
  fs.copyFileSync(path.join(repo, 'tests', 'data', 'v1', 'sequential.py'), source);
  const r = spawnSync(kfp1, [source], { encoding: 'utf8', cwd: path.dirname(out) });
  if (r.status !== 0) throw new Error(`kfp 1.8 could not compile sequential.py:\n${r.stderr}`);
  fs.renameSync(`${source}.yaml`, out);
  assert(/kind: Workflow/.test(fs.readFileSync(out, 'utf8')), 'kfp 1.8 wrote an Argo Workflow');
}

main(async () => {
  ensureBuilt();
  const server = await startServer('pipeyard-e2e-v1-');
  const { home, base } = server;
  const yaml = path.join(home, 'sequential_pipeline.yaml');
  compileV1(yaml);
  let browser;
  try {
    let page, pageErrors;
    ({ browser, page, pageErrors } = await launchBrowser());

    // 1. upload the kfp 1.8 YAML through the dialog; its graph shows both steps
    await page.goto(`${base}/#/pipelines`);
    await page.getByRole('button', { name: '+ Upload pipeline' }).click();
    await page.locator('#upload-file').setInputFiles(yaml);
    await page.locator('#upload-name').fill('sequential v1');
    await shot(page, 'v1-upload');
    await page.getByTestId('upload-submit').click();
    await page.getByRole('heading', { name: 'sequential v1' }).waitFor();
    await graphNode(page, 'process-data-op');
    await graphNode(page, 'train-op');
    await graphSettled(page);
    await shot(page, 'v1-pipeline-graph');

    // 2. start it from the form
    await page.getByRole('link', { name: 'Create run' }).first().click();
    await page.locator('#run-name').waitFor();
    // the form fills in a default name once the pipeline has loaded; replace it after that
    await page.waitForFunction(() => document.querySelector('#run-name')?.value !== '');
    await page.locator('#run-name').fill('sequential v1 run');
    await shot(page, 'v1-run-form');
    await page.getByTestId('start-run').click();

    // 3. both steps turn green, the second after the first
    await page.getByRole('heading', { name: /^sequential v1 run/ }).waitFor();
    await markNoReload(page);
    await graphNode(page, 'process-data-op');
    await page.locator('.page-header .badge[data-state="SUCCEEDED"]').waitFor({ timeout: RUN_TIMEOUT });
    await assertNoReload(page);
    for (const n of ['process-data-op', 'train-op']) {
      const s = await page.getByTestId(`node-${n}`).getAttribute('data-state');
      assert(s === 'SUCCEEDED', `node ${n} is SUCCEEDED (got ${s})`);
    }
    await graphSettled(page);
    await shot(page, 'v1-run-succeeded');
    const runId = /#\/runs\/([^/?]+)/.exec(page.url())?.[1];
    assert(runId, `run id in the URL (${page.url()})`);
    const run = await (await fetch(`${base}/apis/v2beta1/runs/${runId}`)).json();
    const byName = Object.fromEntries(run.run_details.task_details.map((t) => [t.display_name, t]));
    assert(byName['process-data-op'].end_time <= byName['train-op'].start_time,
      'train-op started after process-data-op ended');

    // 4. each step's log
    for (const [n, line] of [['process-data-op', 'Processing Data'], ['train-op', 'Training ML Model']]) {
      await (await graphNode(page, n)).click();
      await page.getByRole('tab', { name: 'Logs' }).click();
      await page.locator('.logs').getByText(line).waitFor();
      await graphSettled(page);
      await shot(page, `v1-logs-${n}`);
    }
    assert(pageErrors.length === 0, `no uncaught page errors (${pageErrors.join('; ')})`);
    log(`PASS: ${shot.count()} screenshots`);
  } finally {
    await browser?.close().catch(() => undefined);
    await server.stop();
  }
});
