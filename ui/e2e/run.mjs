// End-to-end test of the article's path in a real browser against a real server:
// upload the compiled iris pipeline, run it with a changed parameter, watch the
// graph finish live, read the training logs, look at the evaluation charts,
// clone with another parameter and compare the two runs.
//
// Uses playwright-core with Debian's Chromium (never downloads a browser).
// Env: PIPEYARD_PYTHON (default <repo>/.venv/bin/python), CHROMIUM (default /usr/bin/chromium),
// E2E_HEADFUL=1 to watch. Screenshots go to <repo>/test-artifacts/screenshots/.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

process.env.PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD = '1';
const { chromium } = await import('playwright-core');

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const python = process.env.PIPEYARD_PYTHON || path.join(repo, '.venv', 'bin', 'python');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const shots = path.join(repo, 'test-artifacts', 'screenshots');
fs.mkdirSync(shots, { recursive: true });
for (const f of fs.readdirSync(shots)) if (f.endsWith('.png')) fs.rmSync(path.join(shots, f));

const RUN_TIMEOUT = Number(process.env.E2E_RUN_TIMEOUT_MS || 240000);
let step = 0;
const log = (...a) => console.log(`[e2e ${new Date().toISOString().slice(11, 19)}]`, ...a);

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function waitForServer(url, ms, proc) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}`);
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`server did not answer ${url} within ${ms} ms`);
}

function ensureBuilt() {
  const r = spawnSync(path.join(repo, 'scripts', 'build-ui.sh'), { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('building the UI failed');
}

function compileIris(out) {
  const code = [
    'import runpy, sys',
    'from kfp import compiler',
    'm = runpy.run_path(sys.argv[1])',
    'compiler.Compiler().compile(m["iris_pipeline"], sys.argv[2])',
  ].join('\n');
  const r = spawnSync(python, ['-c', code, path.join(repo, 'examples', 'iris_pipeline.py'), out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`compiling examples/iris_pipeline.py failed:\n${r.stderr}`);
}

async function shot(page, name) {
  step += 1;
  const file = path.join(shots, `${String(step).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file });
  log('screenshot', path.relative(repo, file));
}

/**
 * A node of the graph, once drawn where it can be seen: React Flow renders a node
 * hidden until it has measured it, and the viewport may still be fitting, so being
 * in the DOM is not enough to click it or to take a meaningful screenshot.
 */
async function graphNode(page, name, timeout = 30000) {
  const testId = `node-${name}`;
  const node = page.getByTestId(testId);
  await node.waitFor({ state: 'visible', timeout });
  await page.waitForFunction(
    (id) => {
      const el = document.querySelector(`[data-testid="${id}"]`);
      const pane = el?.closest('.react-flow');
      if (!el || !pane || getComputedStyle(el).visibility !== 'visible') return false;
      const a = el.getBoundingClientRect();
      const b = pane.getBoundingClientRect();
      return a.width > 0 && a.height > 0 && a.right > b.left && a.left < b.right && a.bottom > b.top && a.top < b.bottom;
    },
    testId,
    { timeout },
  );
  return node;
}

function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}

function serverEnv(home) {
  // a private home: never the developer's database or artifact root
  const env = { ...process.env, PIPEYARD_HOME: home };
  delete env.PIPEYARD_PIPELINE_ROOT;
  delete env.PIPEYARD_DATABASE_URL;
  delete env.PIPEYARD_AUTH_TOKEN;
  return env;
}

async function main() {
  ensureBuilt();
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pipeyard-e2e-'));
  const yaml = path.join(home, 'iris_pipeline.yaml');
  compileIris(yaml);
  const notAPipeline = path.join(home, 'notes.txt');
  fs.writeFileSync(notAPipeline, 'this is not a pipeline\n');

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  log(`starting ${python} -m pipeyard.server.main --port ${port} (PIPEYARD_HOME=${home})`);
  const serverLog = fs.openSync(path.join(home, 'server.log'), 'w');
  const server = spawn(python, ['-m', 'pipeyard.server.main', '--port', String(port)], {
    env: serverEnv(home),
    stdio: ['ignore', serverLog, serverLog],
  });
  let browser;
  try {
    await waitForServer(`${base}/apis/pipeyard/v1/info`, 60000, server);
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'pipeyard-e2e-chromium-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      headless: !process.env.E2E_HEADFUL,
      viewport: { width: 1366, height: 768 },
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(20000);
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));

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
    await page.evaluate(() => {
      window.__noReload = true;
    });
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
    assert(await page.evaluate(() => window.__noReload === true), 'the page was not reloaded');
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
    log(`PASS: ${step} screenshots in ${path.relative(repo, shots)}/`);
  } finally {
    await browser?.close().catch(() => undefined);
    server.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    if (server.exitCode === null) server.kill('SIGKILL');
  }
}

main().catch((e) => {
  console.error(`[e2e] FAIL: ${e.message}`);
  process.exit(1);
});
