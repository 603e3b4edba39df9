// Third end-to-end scenario: the Deployments page in a real browser against a real server
// and a real KServe model server (screenshots 130 on): the iris example runs on the server,
// its Model artifact's page has a "Serve" button that opens the Deployments form prefilled;
// the deployment becomes ready, the "try it" form answers over both protocols (and says
// what is wrong with a bad request), the log shows, the artifact lists its deployment
// (lineage model -> deployment), and deleting it stops the model server.
import path from 'node:path';
import { assert, ensureBuilt, launchBrowser, log, main, repo, runPython, screenshots, shots, startServer } from './helpers.mjs';

const shot = screenshots(130, 149);
const READY_TIMEOUT = Number(process.env.E2E_SERVE_TIMEOUT_MS || 180000);

async function answer(page) {
  await page.getByTestId('try-answer').waitFor();
  return {
    status: Number(await page.getByTestId('try-status').textContent()),
    text: (await page.getByTestId('try-answer').textContent()) ?? '',
  };
}

main(async () => {
  const t0 = Date.now();
  ensureBuilt();
  const server = await startServer('pipeyard-e2e-serving-');
  const { base, home } = server;
  let browser;
  try {
    const summary = JSON.parse(
      runPython(['-m', 'pipeyard.cli.main', 'run', path.join(repo, 'examples', 'iris_pipeline.py'), '--server', base, '--json'], 'running the iris example'),
    );
    assert(summary.state === 'SUCCEEDED', `the iris run succeeded (${summary.state})`);
    const arts = await (await fetch(`${base}/apis/pipeyard/v1/artifacts?run_id=${summary.run_id}&type=system.Model`)).json();
    const model = arts.artifacts[0];
    assert(model && model.name === 'model', `the run has its Model artifact (${JSON.stringify(arts)})`);
    const opened = await launchBrowser();
    browser = opened.browser;
    const { page, pageErrors } = opened;

    await page.goto(`${base}/#/artifacts/${model.artifact_id}`);
    await page.getByTestId('model-serving').getByText('No deployment serves this model.').waitFor();
    await page.getByTestId('serve-model').click();
    await page.getByText('No deployments yet').waitFor();
    assert((await page.locator('#deploy-model').inputValue()) === model.uri, 'the Serve button prefills the model URI');
    await page.locator('#deploy-name').fill('iris');
    await shot(page, 'deployments-new');
    await page.getByTestId('deploy-submit').click();

    await page.getByTestId('deployment-title').filter({ hasText: 'iris' }).waitFor();
    await page.locator('[data-deployment-state="READY"]').waitFor({ timeout: READY_TIMEOUT });
    const url = (await page.getByTestId('deployment-url').textContent()) ?? '';
    assert(/^http:\/\/127\.0\.0\.1:\d+$/.test(url), `the page shows the deployment's URL (${url})`);

    // V1, with the prefilled body: one virginica flower
    await page.getByTestId('try-send').click();
    let a = await answer(page);
    assert(a.status === 200 && JSON.parse(a.text).predictions[0] === 2, `V1 answers class 2 (${a.status} ${a.text})`);
    await shot(page, 'deployment-try-v1');

    // v2 typed tensors, two rows: setosa and virginica
    await page.locator('#try-protocol').selectOption('v2');
    await page.locator('#try-body').fill(JSON.stringify({ inputs: [{ name: 'x', shape: [2, 4], datatype: 'FP64', data: [5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3] }] }));
    await page.getByTestId('try-send').click();
    a = await answer(page);
    const out = JSON.parse(a.text).outputs[0];
    assert(a.status === 200 && out.datatype === 'INT64' && JSON.stringify(out.data) === '[0,2]', `v2 answers [0,2] (${a.text})`);
    await shot(page, 'deployment-try-v2');

    // a request of the wrong shape: the model server's 400 and its words
    await page.locator('#try-protocol').selectOption('v1');
    await page.locator('#try-body').fill('{"instances": [[1, 2]]}');
    await page.getByTestId('try-send').click();
    a = await answer(page);
    assert(a.status === 400 && /4 features/.test(a.text), `a wrong shape is a 400 that says why (${a.status} ${a.text})`);
    // not JSON at all: the page says so without sending
    await page.locator('#try-body').fill('{not json');
    await page.getByTestId('try-send').click();
    await page.getByText('The request is not JSON').waitFor();
    await shot(page, 'deployment-try-errors');

    await page.getByTestId('deployment-logs').getByText("serving sklearn model 'iris'").waitFor();
    // where it came from: the run and the artifact
    await page.getByRole('link', { name: `run ${summary.run_id.slice(0, 8)}` }).first().waitFor();
    await page.getByRole('link', { name: 'artifact', exact: true }).first().click();
    await page.getByTestId('model-serving').getByRole('link', { name: 'iris', exact: true }).click();
    await page.getByTestId('deployment-title').filter({ hasText: 'iris' }).waitFor();

    // the list shows it with its state and URL
    await page.goto(`${base}/#/deployments`);
    const row = page.getByTestId('deployments-table').locator('tr', { hasText: 'iris' });
    await row.locator('[data-deployment-state="READY"]').waitFor();
    assert((await row.textContent()).includes(url), 'the list shows the URL');
    await shot(page, 'deployments-list');

    await row.getByRole('link', { name: 'iris' }).click();
    page.once('dialog', (d) => d.accept());
    await page.getByTestId('deployment-delete').click();
    await page.getByText('No deployments yet').waitFor({ timeout: 60000 });
    const left = await (await fetch(`${base}/apis/pipeyard/v1/deployments`)).json();
    assert(left.deployments.length === 0, 'the API lists no deployment after the delete');
    let stopped = false;
    try {
      await fetch(`${url}/v2/health/ready`);
    } catch {
      stopped = true;
    }
    assert(stopped, 'the model server stopped with its deployment');

    assert(pageErrors.length === 0, `no uncaught page errors (${pageErrors.join('; ')})`);
    log(`PASS: serving, ${shot.count()} screenshots in ${path.relative(repo, shots)}/ (${Math.round((Date.now() - t0) / 1000)} s)`);
  } catch (e) {
    const pg = browser?.pages()[0];
    if (pg) await pg.screenshot({ path: path.join(shots, '149-serving-failure.png') }).catch(() => undefined);
    e.message += `\nserver log: ${home}/server.log; deployment logs: ${home}/logs/deployments/`;
    throw e;
  } finally {
    await browser?.close().catch(() => undefined);
    // delete what is left so no model server outlives the test's server
    const left = await fetch(`${base}/apis/pipeyard/v1/deployments`).then((r) => r.json()).catch(() => ({ deployments: [] }));
    for (const d of left.deployments ?? []) await fetch(`${base}/apis/pipeyard/v1/deployments/${d.name}`, { method: 'DELETE' }).catch(() => undefined);
    await server.stop();
  }
});
