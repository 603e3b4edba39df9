// Third end-to-end scenario: what a KFP user meets after working with kfp.Client
// (screenshots 100 on). kfp_client_session.py uploads a pipeline and a version,
// creates an experiment and three runs through the real kfp.Client; then the
// browser opens the very links kfp.Client printed and checks:
//   the experiment, pipeline and pipeline-version links open their pages;
//   the runs list shows the Pipeline Version column; the run header names the version;
//   the task side panel opens on Visualizations (metrics, confusion matrix, ROC, Markdown);
//   the log opens on the task's own output, KFP's executor lines one click away;
//   the Run output tab gathers the run's visualizations;
//   a failed run's tasks after the failure show as not run;
//   a run from a package shows its pipeline name, its Spec, and is saved as a pipeline version;
//   KFP's other hash routes (#/recurringruns, #/artifacts, #/compare?runlist=) open their pages,
//   and compare says when two ROC curves coincide.
import path from 'node:path';
import { assert, e2eDir, ensureBuilt, graphNode, graphSettled, launchBrowser, log, main, repo, runPython, screenshots, shots, startServer } from './helpers.mjs';

const shot = screenshots(100, 129);

main(async () => {
  const t0 = Date.now();
  ensureBuilt();
  const server = await startServer('pipeyard-e2e-kfp-');
  const { home, base } = server;
  log('running ui/e2e/kfp_client_session.py through kfp.Client');
  const out = runPython([path.join(e2eDir, 'kfp_client_session.py'), base, home], 'the kfp.Client session');
  const s = JSON.parse(out.trim().split('\n').pop());
  assert(s.states.stored === 'SUCCEEDED' && s.states.package === 'SUCCEEDED' && s.states.broken === 'FAILED', `run states ${JSON.stringify(s.states)}`);
  const link = (fragment) => {
    const l = s.links.find((x) => x.endsWith(fragment));
    assert(l, `kfp.Client printed a link ending ${fragment} (printed: ${s.links.join(' ')})`);
    assert(l.startsWith(`${base}/#/`), `the link ${l} points at this server's UI`);
    return l;
  };
  const expectHash = async (page, want) => {
    await page.waitForFunction((w) => window.location.hash === w, want);
  };

  let browser;
  try {
    let page, pageErrors;
    ({ browser, page, pageErrors } = await launchBrowser());

    // 1. the experiment link
    await page.goto(link(`/#/experiments/details/${s.experiment_id}`));
    await page.getByRole('heading', { name: 'e2e kfp links' }).waitFor();
    await expectHash(page, `#/experiments/${s.experiment_id}`);
    await page.getByTestId('runs-table').locator('tr', { hasText: 'broken run' }).waitFor();
    await shot(page, 'kfp-link-experiment');

    // 2. the pipeline link and the version link
    await page.goto(link(`/#/pipelines/details/${s.pipeline_id}`));
    await page.getByRole('heading', { name: 'e2e-kfp-metrics' }).waitFor();
    await graphNode(page, 'score');
    await shot(page, 'kfp-link-pipeline');
    await page.goto(link(`/#/pipelines/details/${s.pipeline_id}/version/${s.version_id}`));
    await expectHash(page, `#/pipelines/${s.pipeline_id}/versions/${s.version_id}`);
    await page.getByRole('heading', { name: 'e2e-kfp-metrics' }).waitFor();
    await page.waitForFunction((vid) => document.querySelector('.stat select')?.value === vid, s.version_id);
    assert((await page.locator('.stat select option:checked').innerText()) === 'floor 0.8', 'the version link selects that version');
    await graphNode(page, 'publish');
    await shot(page, 'kfp-link-pipeline-version');

    // 3. the runs list: Pipeline Version column with the version's name, linked
    await page.goto(`${base}/#/runs`);
    const table = page.getByTestId('runs-table');
    await table.waitFor();
    const headers = await table.locator('thead th').allInnerTexts();
    assert(headers.some((h) => /pipeline version/i.test(h)), `a Pipeline version column (${headers.join(' | ')})`);
    const storedRow = table.locator(`tr[data-run-id="${s.runs.stored}"]`);
    const versionLink = storedRow.getByRole('link', { name: 'floor 0.8' });
    await versionLink.waitFor();
    assert((await versionLink.getAttribute('href')) === `#/pipelines/${s.pipeline_id}/versions/${s.version_id}`, 'the version cell links to the version');
    const pkgRow = table.locator(`tr[data-run-id="${s.runs.package}"]`);
    assert(/e2e-kfp-metrics/.test(await pkgRow.innerText()), 'a run from a package shows the pipeline name of its spec');
    await shot(page, 'runs-version-column');

    // 4. the stored run's link: the version in the header; Visualizations first in the side panel
    await page.goto(link(`/#/runs/details/${s.runs.stored}`));
    await page.getByRole('heading', { name: /stored version run/ }).waitFor();
    await expectHash(page, `#/runs/${s.runs.stored}`);
    const header = page.getByTestId('run-pipeline');
    await header.getByRole('link', { name: 'floor 0.8' }).waitFor();
    assert(/e2e-kfp-metrics/.test(await header.innerText()), 'the header names the pipeline');
    await (await graphNode(page, 'score')).click();
    const panel = page.getByTestId('side-panel');
    await panel.getByTestId('task-visualizations').waitFor();
    assert((await panel.getByRole('tab', { selected: true }).innerText()) === 'Visualizations', 'the side panel opens on Visualizations');
    const cm = panel.getByTestId('confusion-matrix');
    assert(/cat/.test(await cm.innerText()) && /dog/.test(await cm.innerText()), 'the confusion matrix names the classes');
    assert(/accuracy/.test(await panel.getByTestId('metrics-table').innerText()), 'the metrics table lists accuracy');
    assert((await panel.getByTestId('roc-curve').locator('polyline').count()) >= 1, 'the ROC curve is drawn');
    await graphSettled(page);
    await shot(page, 'task-visualizations');
    await panel.locator('.markdown h1', { hasText: 'Scores' }).scrollIntoViewIfNeeded();
    await shot(page, 'task-visualizations-markdown');
    // the log opens on what the task printed; KFP's executor lines are one click away
    await (await graphNode(page, 'publish')).click();
    await page.getByTestId('side-panel').getByRole('tab', { name: 'Logs' }).click();
    const logs = page.locator('.logs');
    await logs.getByText('publishing above 0.8').waitFor();
    assert(!/executor_input/.test(await logs.innerText()), 'the executor input dump is hidden at first');
    await page.getByTestId('toggle-executor-lines').click();
    await logs.getByText(/Got executor_input/).waitFor();
    await shot(page, 'task-log-executor-lines');
    await page.getByRole('tab', { name: 'Run details' }).click();
    const details = page.getByTestId('run-details');
    await details.getByRole('link', { name: 'floor 0.8' }).waitFor();
    await shot(page, 'run-details-version');

    // 5. Run output: every visualization of the run
    await page.getByRole('tab', { name: 'Run output' }).click();
    const output = page.getByTestId('run-output');
    await output.waitFor();
    await output.getByTestId('confusion-matrix').waitFor();
    await output.locator('.markdown h1', { hasText: 'Scores' }).waitFor();
    assert(/accuracy/.test(await output.getByTestId('metrics-table').innerText()), 'run output has the metrics');
    await shot(page, 'run-output');

    // 6. the failed run: the tasks after the failure are not run
    await page.goto(link(`/#/runs/details/${s.runs.broken}`));
    await page.getByTestId('failure-banner').waitFor();
    await graphNode(page, 'double-2');
    for (const [n, v] of [['explode', 'failed'], ['double', 'none'], ['double-2', 'none']]) {
      const got = await page.getByTestId(`node-${n}`).getAttribute('data-visual');
      assert(got === v, `node ${n} is drawn ${v} (got ${got})`);
    }
    await (await graphNode(page, 'double-2')).click();
    const note = page.getByTestId('not-run-note');
    await note.waitFor();
    assert(/Not run: the run failed/.test(await note.innerText()), 'the side panel says the task did not run');
    assert((await page.locator('.side-head .badge').innerText()).trim() === 'Not run', 'its badge says Not run');
    await graphSettled(page);
    await shot(page, 'failed-run-not-run');
    // long task and artifact names wrap inside their nodes instead of being cut
    for (const name of ['summarise-the-quarterly-evaluation-for-the-release-review', 'evaluation_summary_for_the_quarterly_release_review_board']) {
      const label = page.getByTestId(`node-${name}`).locator('.gn-label');
      const box = await label.evaluate((el) => ({ text: el.textContent, client: el.clientHeight, scroll: el.scrollHeight }));
      assert(box.text === name, `the node shows the whole name ${name} (got ${box.text})`);
      assert(box.client > 20 && box.scroll <= box.client + 1, `the label of ${name} wraps onto more lines and is not cut (${JSON.stringify(box)})`);
    }
    await shot(page, 'graph-long-labels-wrap');

    // 7. a run from a package: the name from its spec, its Spec, save as a version of the pipeline of that name
    await page.goto(link(`/#/runs/details/${s.runs.package}`));
    await page.getByRole('heading', { name: /package run/ }).waitFor();
    const pkgHeader = page.getByTestId('run-pipeline');
    assert(/e2e-kfp-metrics/.test(await pkgHeader.innerText()) && /package/.test(await pkgHeader.innerText()), 'the header names the pipeline from the spec');
    await page.getByRole('tab', { name: 'Spec' }).click();
    const yaml = page.getByTestId('run-spec-yaml');
    await yaml.waitFor();
    const yamlText = await yaml.innerText();
    assert(/name: e2e-kfp-metrics/.test(yamlText) && /score/.test(yamlText), 'the Spec tab shows the YAML that ran');
    await shot(page, 'package-run-spec');
    await page.getByTestId('save-as-pipeline').click();
    await page.getByTestId('save-pipeline-existing').waitFor();
    await page.locator('#save-version').fill('saved from package run');
    await shot(page, 'save-as-pipeline-dialog');
    await page.getByTestId('save-pipeline-submit').click();
    const saved = page.getByTestId('saved-as-pipeline');
    await saved.waitFor();
    await saved.getByRole('link', { name: 'saved from package run' }).waitFor();
    await shot(page, 'saved-as-pipeline');
    // after a reload the run shows the version it was saved as, and no longer offers to save it
    await page.reload();
    const linked = page.getByTestId('run-pipeline');
    await linked.getByRole('link', { name: 'saved from package run' }).waitFor();
    assert((await linked.locator('.tag', { hasText: 'package' }).count()) === 0, `the run is no longer shown as from a package (${await linked.innerText()})`);
    assert((await page.getByTestId('save-as-pipeline').count()) === 0, 'a linked run does not offer to save it again');
    await shot(page, 'saved-run-linked-after-reload');
    const versions = await (await fetch(`${base}/apis/v2beta1/pipelines/${s.pipeline_id}/versions`)).json();
    const names = versions.pipeline_versions.map((v) => v.display_name);
    assert(names.includes('saved from package run') && names.length === 3, `the pipeline got the new version (${names.join(', ')})`);
    await linked.getByRole('link', { name: 'saved from package run' }).click();
    await page.getByRole('heading', { name: 'e2e-kfp-metrics' }).waitFor();
    await page.waitForFunction(() => document.querySelector('.stat select option:checked')?.textContent === 'saved from package run');
    await graphNode(page, 'score');
    await shot(page, 'saved-version-page');

    // 8. KFP's other routes
    await page.goto(`${base}/#/compare?runlist=${s.runs.stored},${s.runs.package}`);
    await page.getByRole('heading', { name: 'Compare 2 runs' }).waitFor();
    await page.getByTestId('compare-metrics').waitFor();
    await shot(page, 'kfp-route-compare');
    // the two runs scored the same: their ROC curves coincide, and the legend says so
    const coincide = page.getByTestId('roc-coincide');
    await coincide.scrollIntoViewIfNeeded();
    assert(/the same curve as stored version run/.test(await coincide.innerText()), `the legend says the curves coincide (${await coincide.innerText()})`);
    await shot(page, 'compare-coinciding-roc');
    await page.goto(`${base}/#/recurringruns`);
    await page.getByRole('heading', { name: 'Recurring runs' }).waitFor();
    await expectHash(page, '#/recurring');
    await page.goto(`${base}/#/artifacts`);
    await page.getByRole('heading', { name: 'Artifacts' }).waitFor();
    await page.getByTestId('artifacts-table').waitFor();
    for (const [hash, heading] of [['#/runs', 'Runs'], ['#/pipelines', 'Pipelines'], ['#/experiments', 'Experiments']]) {
      await page.goto(`${base}/${hash}`);
      await page.getByRole('heading', { name: heading, exact: true }).waitFor();
    }

    assert(pageErrors.length === 0, `no uncaught page errors (${pageErrors.join('; ')})`);
    log(`PASS: kfp links, ${shot.count()} screenshots in ${path.relative(repo, shots)}/ (${Math.round((Date.now() - t0) / 1000)} s)`);
  } finally {
    await browser?.close().catch(() => undefined);
    await server.stop();
  }
});
