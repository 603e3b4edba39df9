// Second end-to-end scenario: the flows beyond the article's path, in a real
// browser against a real server (screenshots 20 on):
//   terminate a sleeping run live; a failing run's banner and its retry;
//   archive and restore from the runs list; an experiment and its run;
//   Markdown and HTML artifacts in the side panel; an artifact's lineage;
//   a recurring run that starts runs, then is disabled.
// The pipelines are compiled from flows_pipelines.py with the kfp SDK.
import fs from 'node:fs';
import path from 'node:path';
import {
  assert,
  assertNoReload,
  e2eDir,
  ensureBuilt,
  graphNode,
  graphSettled,
  launchBrowser,
  log,
  main,
  markNoReload,
  repo,
  runPython,
  runState,
  screenshots,
  shots,
  startServer,
} from './helpers.mjs';

const shot = screenshots(20, 59);

async function uploadPipeline(base, file, name) {
  const fd = new FormData();
  fd.append('uploadfile', new Blob([fs.readFileSync(file)]), path.basename(file));
  const r = await fetch(`${base}/apis/v2beta1/pipelines/upload?name=${encodeURIComponent(name)}`, { method: 'POST', body: fd });
  const body = await r.json();
  if (!r.ok) throw new Error(`uploading ${file}: ${r.status} ${JSON.stringify(body)}`);
  return body.pipeline_id;
}

async function apiGet(base, url) {
  const r = await fetch(`${base}${url}`);
  if (!r.ok) throw new Error(`GET ${url}: ${r.status} ${await r.text()}`);
  return r.json();
}

/** Fill the New run form for a pipeline and start it; lands on the run page. */
async function startRun(page, base, pipelineId, runName, query = '') {
  await page.goto(`${base}/#/runs/new?pipeline=${pipelineId}${query}`);
  await page.locator('#run-name').waitFor();
  // the version and its parameters load after the pipeline
  await page.locator('[data-param]').or(page.getByText('This pipeline takes no parameters.')).first().waitFor();
  await page.locator('#run-name').fill(runName);
  await page.getByTestId('start-run').click();
  await page.getByRole('heading', { name: runName }).waitFor();
}

main(async () => {
  const t0 = Date.now();
  ensureBuilt();
  const server = await startServer('pipeyard-e2e-flows-');
  const { home, base } = server;
  const marker = path.join(home, 'flaky-marker');
  runPython([path.join(e2eDir, 'flows_pipelines.py'), home, marker], 'compiling ui/e2e/flows_pipelines.py');
  const ids = {
    sleeper: await uploadPipeline(base, path.join(home, 'sleeper.yaml'), 'e2e sleeper'),
    flaky: await uploadPipeline(base, path.join(home, 'flaky.yaml'), 'e2e flaky'),
    reports: await uploadPipeline(base, path.join(home, 'reports.yaml'), 'e2e reports'),
    tick: await uploadPipeline(base, path.join(home, 'tick.yaml'), 'e2e tick'),
  };

  let browser;
  try {
    let page, pageErrors;
    ({ browser, page, pageErrors } = await launchBrowser());

    // 1. a sleeping run: RUNNING live, Terminate, CANCELED without reload
    await startRun(page, base, ids.sleeper, 'sleeper run');
    await markNoReload(page);
    await runState(page, 'RUNNING', 30000);
    const nap = await graphNode(page, 'nap');
    await page.waitForFunction(() => document.querySelector('[data-testid="node-nap"]')?.getAttribute('data-state') === 'RUNNING');
    await nap.click();
    await page.getByRole('tab', { name: 'Logs' }).click();
    await page.locator('.logs').getByText('sleeping 60 s').waitFor();
    await graphSettled(page);
    await shot(page, 'sleeper-running');
    await page.getByRole('button', { name: 'Terminate' }).click();
    await runState(page, 'CANCELED', 30000);
    await page.waitForFunction(() => document.querySelector('[data-testid="node-nap"]')?.getAttribute('data-state') === 'CANCELED', null, { timeout: 15000 });
    await assertNoReload(page);
    const panelBadge = page.getByTestId('side-panel').locator('.badge').first();
    assert((await panelBadge.getAttribute('data-state')) === 'CANCELED', 'the side panel shows the task canceled');
    assert(/Canceled/.test(await panelBadge.innerText()), 'the side panel says Canceled');
    assert((await page.getByRole('button', { name: 'Terminate' }).count()) === 0, 'no Terminate button on a canceled run');
    await graphSettled(page);
    await shot(page, 'sleeper-canceled');
    const sleeperUrl = page.url();

    // 2. a failing run: the banner names the task and the error; Retry re-runs it
    await startRun(page, base, ids.flaky, 'flaky run');
    await markNoReload(page);
    await runState(page, 'FAILED', 60000);
    const banner = page.getByTestId('failure-banner');
    await banner.waitFor();
    const bannerText = await banner.innerText();
    assert(/check-value/.test(bannerText), `the failure banner names the failing task (${bannerText})`);
    assert(/ValueError/.test(bannerText) && /too large/.test(bannerText), `the failure banner shows the error (${bannerText})`);
    assert((await page.getByTestId('node-prepare').getAttribute('data-state')) === 'SUCCEEDED', 'prepare succeeded');
    assert((await page.getByTestId('node-check-value').getAttribute('data-state')) === 'FAILED', 'check-value failed');
    await graphSettled(page);
    await shot(page, 'flaky-failed');
    // the banner's task button opens the failing task
    await banner.getByRole('button', { name: /check-value/ }).click();
    await page.getByTestId('side-panel').getByRole('heading', { name: 'check-value' }).waitFor();
    fs.writeFileSync(marker, 'present\n');
    await page.getByRole('button', { name: 'Retry' }).click();
    await runState(page, 'SUCCEEDED', 60000);
    await assertNoReload(page);
    assert((await page.getByTestId('failure-banner').count()) === 0, 'no failure banner after a successful retry');
    await page.waitForFunction(() => document.querySelector('[data-testid="node-check-value"]')?.getAttribute('data-state') === 'SUCCEEDED');
    await (await graphNode(page, 'check-value')).click();
    await page.getByTestId('side-panel').getByRole('tab', { name: 'Details' }).click();
    const attempts = page.getByTestId('task-attempts');
    await attempts.waitFor();
    const attemptRows = attempts.locator('tbody tr');
    // the attempts come with the task list, fetched again after the task's events
    await page.waitForFunction(() => {
      const rows = document.querySelectorAll('[data-testid="task-attempts"] tbody tr');
      return rows.length >= 2 && /Succeeded/.test(rows[rows.length - 1].textContent ?? '');
    });
    const firstAttempt = await attemptRows.nth(0).innerText();
    const lastAttempt = await attemptRows.last().innerText();
    assert(/Failed/.test(firstAttempt) && /Succeeded/.test(lastAttempt), `attempts show the failure then the success (${firstAttempt} | ${lastAttempt})`);
    await attempts.scrollIntoViewIfNeeded();
    await graphSettled(page);
    await shot(page, 'flaky-retried');

    // 3. archive a run from the runs list, find it under Archived, restore it
    await page.goto(`${base}/#/runs`);
    const table = page.getByTestId('runs-table');
    await table.waitFor();
    const sleeperRow = () => page.getByTestId('runs-table').locator('tr', { hasText: 'sleeper run' });
    await sleeperRow().locator('input[type=checkbox]').check();
    await page.getByRole('button', { name: 'Archive', exact: true }).click();
    await sleeperRow().waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Archived', exact: true }).click();
    await sleeperRow().waitFor();
    assert((await page.getByTestId('runs-table').locator('tbody tr').count()) === 1, 'only the archived run is listed under Archived');
    await shot(page, 'runs-archived');
    await sleeperRow().locator('input[type=checkbox]').check();
    await page.getByRole('button', { name: 'Restore', exact: true }).click();
    await page.getByText('No archived runs').waitFor();
    await page.getByRole('button', { name: 'Active', exact: true }).click();
    await sleeperRow().waitFor();
    await page.goto(sleeperUrl);
    await runState(page, 'CANCELED');
    assert((await page.locator('.page-header .tag.archived').count()) === 0, 'the restored run is not marked archived');

    // 5. an experiment: create it, start a run in it, see the run in the experiment
    await page.goto(`${base}/#/experiments`);
    await page.getByRole('button', { name: '+ Create experiment' }).click();
    await page.locator('#exp-name').fill('e2e experiment');
    await page.locator('#exp-desc').fill('runs of the flows scenario');
    await page.getByRole('dialog').getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { name: 'e2e experiment' }).waitFor();
    await page.getByText('No runs yet').waitFor();
    await page.getByRole('link', { name: 'Create run', exact: true }).click();
    await page.locator('#run-experiment').waitFor();
    await page.waitForFunction(() => document.querySelector('#run-experiment')?.selectedOptions[0]?.textContent === 'e2e experiment');
    await page.locator('#run-pipeline').selectOption({ label: 'e2e reports' });
    await page.getByText('This pipeline takes no parameters.').waitFor();
    await page.locator('#run-name').fill('reports run');
    await shot(page, 'experiment-run-form');
    await page.getByTestId('start-run').click();
    await page.getByRole('heading', { name: 'reports run' }).waitFor();
    await markNoReload(page);
    await runState(page, 'SUCCEEDED', 60000);
    const reportsUrl = page.url();
    await page.locator('.crumbs').getByRole('link', { name: 'e2e experiment' }).click();
    await page.getByRole('heading', { name: 'e2e experiment' }).waitFor();
    const expRow = page.getByTestId('runs-table').locator('tr', { hasText: 'reports run' });
    await expRow.waitFor();
    assert((await expRow.locator('.badge').getAttribute('data-state')) === 'SUCCEEDED', 'the experiment lists its run as succeeded');
    assert((await page.getByTestId('runs-table').locator('tbody tr').count()) === 1, 'the experiment lists only its own run');
    await shot(page, 'experiment-detail');

    // 7. Markdown rendered and HTML in a sandboxed iframe, in the run's side panel
    await page.goto(reportsUrl);
    await runState(page, 'SUCCEEDED');
    await (await graphNode(page, 'make-reports')).click();
    const panel = page.getByTestId('side-panel');
    await panel.getByRole('tab', { name: 'Input/Output' }).click();
    const md = panel.locator('.markdown');
    await md.getByRole('heading', { name: 'Weekly report' }).waitFor();
    assert((await md.locator('table td').count()) >= 2, 'the Markdown table is rendered as a table');
    assert((await md.locator('strong', { hasText: 'all checks passed' }).count()) === 1, 'Markdown emphasis is rendered');
    await md.scrollIntoViewIfNeeded();
    await graphSettled(page);
    await shot(page, 'markdown-artifact');
    const iframe = panel.locator('iframe.html-viz');
    await iframe.scrollIntoViewIfNeeded();
    assert((await iframe.getAttribute('sandbox')) === 'allow-scripts', `the HTML is sandboxed (sandbox="${await iframe.getAttribute('sandbox')}")`);
    await page.frameLocator('iframe.html-viz').getByRole('heading', { name: 'Hello from an HTML artifact' }).waitFor();
    await shot(page, 'html-artifact');
    // the artifact node in the graph opens the same preview
    await (await graphNode(page, 'summary')).click();
    await page.getByTestId('side-panel').locator('.markdown').getByRole('heading', { name: 'Weekly report' }).waitFor();

    // 6. an artifact from the Artifacts page, with its lineage
    await page.goto(`${base}/#/artifacts`);
    await page.getByLabel('Filter by type').selectOption('system.Dataset');
    const artRow = page.locator('table.list tr', { hasText: 'table' });
    await artRow.first().waitFor();
    // the run is named, not an id
    await artRow.first().getByRole('link', { name: 'reports run' }).waitFor();
    await shot(page, 'artifacts-list');
    await artRow.first().getByRole('link', { name: 'table' }).click();
    await page.getByRole('heading', { name: 'Lineage' }).waitFor();
    const lineage = page.getByTestId('lineage');
    const lineageText = await lineage.innerText();
    assert(/make-reports/.test(lineageText), `lineage names the producer (${lineageText})`);
    assert(/count-rows/.test(lineageText), `lineage names the consumer (${lineageText})`);
    await lineage.getByRole('link', { name: 'reports run' }).first().waitFor();
    assert((await page.getByTestId('dataset-preview').locator('tbody tr').count()) === 3, 'the dataset preview shows its 3 rows');
    await shot(page, 'artifact-lineage');
    // the consumer task opens in its run
    await lineage.getByRole('link', { name: 'count-rows' }).click();
    await page.getByRole('heading', { name: 'reports run' }).waitFor();
    await page.getByTestId('side-panel').getByRole('heading', { name: 'count-rows' }).waitFor();
    await page.getByTestId('side-panel').getByTestId('artifact-table').waitFor();

    // 4. a recurring run from the New run form: runs appear, then disabled
    await page.goto(`${base}/#/runs/new?pipeline=${ids.tick}`);
    await page.getByText('This pipeline takes no parameters.').waitFor();
    await page.locator('#run-name').fill('every 2 s');
    await page.getByLabel('Recurring').check();
    await page.locator('#rr-interval').fill('2');
    await page.locator('#rr-conc').fill('1');
    await shot(page, 'recurring-form');
    await page.getByTestId('start-run').click();
    await page.getByRole('heading', { name: /every 2 s/ }).waitFor();
    await page.getByRole('link', { name: 'Recurring runs' }).first().click();
    const rrRow = page.locator('table.list tr', { hasText: 'every 2 s' });
    await rrRow.waitFor();
    assert(/Enabled/.test(await rrRow.innerText()), 'the recurring run is enabled');
    assert(/every 2 seconds/.test(await rrRow.innerText()), 'the trigger is shown');
    await shot(page, 'recurring-list');
    await rrRow.getByRole('link', { name: 'every 2 s' }).click();
    const rrRuns = page.getByTestId('recurring-runs');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="recurring-runs"] tbody tr').length >= 2, null, { timeout: 30000 });
    await shot(page, 'recurring-runs');
    await page.getByRole('button', { name: 'Disable' }).click();
    await page.locator('.page-header').getByText('Disabled').waitFor();
    // let a run started just before disabling register, then count
    await page.waitForTimeout(2500);
    const countRuns = async () => (await apiGet(base, `/apis/v2beta1/runs?page_size=100&filter=${encodeURIComponent(JSON.stringify({ predicates: [{ key: 'recurring_run_id', operation: 'EQUALS', string_value: (await page.url()).split('/').pop() }] }))}`)).runs?.length ?? 0;
    const before = await countRuns();
    const shownBefore = await rrRuns.locator('tbody tr').count();
    await page.waitForTimeout(6000);
    const after = await countRuns();
    assert(after === before, `no new runs after disabling (${before} → ${after})`);
    assert((await rrRuns.locator('tbody tr').count()) === shownBefore, 'the page lists no new runs after disabling');
    assert(shownBefore === before, `the page lists every run of the schedule (${shownBefore} shown, ${before} in the API)`);
    await shot(page, 'recurring-disabled');

    assert(pageErrors.length === 0, `no uncaught page errors (${pageErrors.join('; ')})`);
    log(`PASS: flows, ${shot.count()} screenshots in ${path.relative(repo, shots)}/ (${Math.round((Date.now() - t0) / 1000)} s)`);
  } catch (e) {
    const pg = browser?.pages()[0];
    if (pg) await pg.screenshot({ path: path.join(shots, '99-flows-failure.png') }).catch(() => undefined);
    e.message += `\nserver log: ${home}/server.log; page at failure: test-artifacts/screenshots/99-flows-failure.png`;
    throw e;
  } finally {
    await browser?.close().catch(() => undefined);
    await server.stop();
  }
});
