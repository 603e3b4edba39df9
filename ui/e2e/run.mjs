// End-to-end test of the article's path in a real browser against a real server:
// upload the compiled iris pipeline, run it with a changed parameter, watch the
// graph finish live, read the training logs, look at the evaluation charts,
// clone with another parameter and compare the two runs.
//
// Uses playwright-core with Debian's Chromium (never downloads a browser).
// Env: PIPEYARD_PYTHON (default <repo>/.venv/bin/python), CHROMIUM (default /usr/bin/chromium),
// E2E_HEADFUL=1 to watch. Screenshots go to <repo>/test-artifacts/screenshots/ (01-19).
import fs from 'node:fs';
import path from 'node:path';
import { assert, assertNoReload, ensureBuilt, graphNode, graphSettled, launchBrowser, log, main, markNoReload, repo, RUN_TIMEOUT, runPython, screenshots, shots, startServer } from './helpers.mjs';

// screenshots 01-19; flows.mjs takes 20 on
const shot = screenshots(1, 19);

function compileIris(out) {
  const code = [
    'import runpy, sys',
    'from kfp import compiler',
    'm = runpy.run_path(sys.argv[1])',
    'compiler.Compiler().compile(m["iris_pipeline"], sys.argv[2])',
  ].join('\n');
  runPython(['-c', code, path.join(repo, 'examples', 'iris_pipeline.py'), out], 'compiling examples/iris_pipeline.py');
}

main(async () => {
  ensureBuilt();
  const server = await startServer();
  const { home, base } = server;
  const yaml = path.join(home, 'iris_pipeline.yaml');
  compileIris(yaml);
  const notAPipeline = path.join(home, 'notes.txt');
  fs.writeFileSync(notAPipeline, 'this is not a pipeline\n');

  let browser;
  try {
    let page, pageErrors;
    ({ browser, page, pageErrors } = await launchBrowser());

    // 1. pipelines page, empty
    await page.goto(`${base}/#/pipelines`);
    await page.getByText('No pipelines yet').waitFor();
    await shot(page, 'pipelines-empty');

    // 2. a file that is not a pipeline: the server's message is shown
    await page.getByRole('button', { name: '+ Upload pipeline' }).click();
    await page.locator('#upload-file').setInputFiles(notAPipeline);
    await page.getByTestId('upload-submit').click();
    const err = page.getByTestId('upload-error');
    await err.waitFor();
    const errText = await err.innerText();
    assert(/not a KFP pipeline|pipeline/i.test(errText) && errText.length > 20, `upload error shows the server's words, got: ${errText}`);
    await shot(page, 'upload-error');

    // 3. upload the compiled iris pipeline through the dialog
    await page.locator('#upload-file').setInputFiles(yaml);
    await page.locator('#upload-name').fill('iris e2e');
    await page.getByTestId('upload-submit').click();
    await page.getByRole('heading', { name: 'iris e2e' }).waitFor();
    await graphNode(page, 'train');
    await graphNode(page, 'evaluate');
    await shot(page, 'pipeline-graph');

    // 4. start a run from the form with a changed parameter
    await page.getByRole('link', { name: 'Create run' }).first().click();
    const c = page.locator('#param-C');
    await c.waitFor();
    assert((await c.inputValue()) !== '', 'parameter C is prefilled with its default');
    await c.fill('0.5');
    await page.locator('#run-name').fill('iris C=0.5');
    await shot(page, 'run-form');
    await page.getByTestId('start-run').click();

    // 5. watch the graph reach SUCCEEDED without reloading
    await page.getByRole('heading', { name: /iris C=0\.5/ }).waitFor();
    await markNoReload(page);
    await graphNode(page, 'load-data');
    await shot(page, 'run-started');
    const seen = new Set();
    const t0 = Date.now();
    for (;;) {
      const st = await page.locator('.page-header .badge').first().getAttribute('data-state');
      const first = !seen.has(st);
      seen.add(st);
      if (st === 'SUCCEEDED') break;
      if (first && st === 'RUNNING') await shot(page, 'run-running');
      if (st === 'FAILED' || st === 'CANCELED') throw new Error(`run ended ${st}; server log in ${home}/server.log`);
      if (Date.now() - t0 > RUN_TIMEOUT) throw new Error(`run not finished after ${RUN_TIMEOUT} ms (states seen: ${[...seen]})`);
      await page.waitForTimeout(300);
    }
    await assertNoReload(page);
    for (const n of ['load-data', 'preprocess', 'train', 'evaluate']) {
      const s = await page.getByTestId(`node-${n}`).getAttribute('data-state');
      assert(s === 'SUCCEEDED', `node ${n} is SUCCEEDED (got ${s})`);
    }
    log('run states seen live:', [...seen].join(' → '));
    // the finished graph is drawn: every task node visible inside the graph panel
    for (const n of ['load-data', 'preprocess', 'train', 'evaluate']) await graphNode(page, n);
    await shot(page, 'run-succeeded');

    // 6. the training step's logs, searched
    await (await graphNode(page, 'train')).click();
    await page.getByRole('tab', { name: 'Logs' }).click();
    const logs = page.locator('.logs');
    await logs.getByText('Training LogisticRegression(C=0.5').waitFor();
    await page.getByLabel('Search the log').fill('accuracy');
    await logs.locator('mark').first().waitFor();
    await graphSettled(page);
    await shot(page, 'train-logs');

    // 7. the evaluation step's confusion matrix and ROC curve
    await (await graphNode(page, 'evaluate')).click();
    await page.getByRole('tab', { name: 'Input/Output' }).click();
    const cm = page.getByTestId('confusion-matrix');
    await cm.waitFor();
    const cmText = await cm.innerText();
    assert(/setosa/.test(cmText) && /versicolor/.test(cmText) && /virginica/.test(cmText), 'confusion matrix labels the iris classes');
    const roc = page.getByTestId('roc-curve');
    await roc.scrollIntoViewIfNeeded();
    assert((await roc.locator('polyline').count()) >= 1, 'ROC curve is drawn');
    assert(/AUC/.test(await roc.innerText()), 'ROC legend shows the AUC');
    await cm.scrollIntoViewIfNeeded();
    await shot(page, 'evaluate-confusion-matrix');
    await roc.scrollIntoViewIfNeeded();
    await shot(page, 'evaluate-roc-curve');
    const metrics = page.getByTestId('metrics-table');
    await metrics.scrollIntoViewIfNeeded();
    assert(/accuracy/i.test(await metrics.innerText()), 'metrics table lists accuracy');

    // timeline tab
    await page.getByRole('tab', { name: 'Timeline' }).click();
    await page.getByTestId('timeline').waitFor();
    await shot(page, 'timeline');
    await page.getByRole('tab', { name: 'Graph' }).click();

    // 8. clone with another C, run it, compare the two runs
    await page.getByRole('link', { name: 'Clone' }).click();
    await page.locator('#param-C').waitFor();
    await page.waitForFunction(() => document.querySelector('#param-C')?.value === '0.5');
    await page.locator('#param-C').fill('2');
    await page.locator('#run-name').fill('iris C=2');
    await page.getByTestId('start-run').click();
    await page.getByRole('heading', { name: /iris C=2/ }).waitFor();
    await page.locator('.page-header .badge[data-state="SUCCEEDED"]').waitFor({ timeout: RUN_TIMEOUT });

    await page.goto(`${base}/#/runs`);
    const table = page.getByTestId('runs-table');
    await table.waitFor();
    await table.locator('tr', { hasText: 'iris C=0.5' }).locator('input[type=checkbox]').check();
    await table.locator('tr', { hasText: 'iris C=2' }).locator('input[type=checkbox]').check();
    await shot(page, 'runs-selected');
    await page.getByTestId('compare-runs').click();
    const params = page.getByTestId('compare-params');
    await params.waitFor();
    const cRow = params.locator('tr[data-differs="true"]', { hasText: 'C' }).first();
    const cText = await cRow.innerText();
    assert(/0\.5/.test(cText) && /\b2\b/.test(cText), `C differs between the runs (${cText})`);
    const mt = page.getByTestId('compare-metrics');
    assert(/accuracy/i.test(await mt.innerText()), 'scalar metrics compared');
    await shot(page, 'compare');
    const rocCmp = page.getByTestId('roc-curve');
    await rocCmp.scrollIntoViewIfNeeded();
    assert((await rocCmp.locator('polyline').count()) === 2, 'two ROC curves overlaid');
    await shot(page, 'compare-roc');

    assert(pageErrors.length === 0, `no uncaught page errors (${pageErrors.join('; ')})`);
    log(`PASS: ${shot.count()} screenshots in ${path.relative(repo, shots)}/`);
  } finally {
    await browser?.close().catch(() => undefined);
    await server.stop();
  }
});
