// Shared pieces of the end-to-end scenarios (run.mjs, flows.mjs): a private
// pipeyard server, Debian's Chromium through playwright-core, numbered screenshots.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

process.env.PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD = '1';
const { chromium } = await import('playwright-core');

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '..', '..');
export const e2eDir = here;
export const python = process.env.PIPEYARD_PYTHON || path.join(repo, '.venv', 'bin', 'python');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
export const shots = path.join(repo, 'test-artifacts', 'screenshots');
export const RUN_TIMEOUT = Number(process.env.E2E_RUN_TIMEOUT_MS || 240000);

export const log = (...a) => console.log(`[e2e ${new Date().toISOString().slice(11, 19)}]`, ...a);

export function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}

/**
 * Numbered screenshots from `first` on; removes the old files of this scenario's
 * range [first, last] so a shorter run leaves no stale pictures behind.
 */
export function screenshots(first, last) {
  fs.mkdirSync(shots, { recursive: true });
  for (const f of fs.readdirSync(shots)) {
    const n = Number(/^(\d+)-/.exec(f)?.[1]);
    if (f.endsWith('.png') && n >= first && n <= last) fs.rmSync(path.join(shots, f));
  }
  let step = first - 1;
  const shot = async (page, name) => {
    step += 1;
    const file = path.join(shots, `${String(step).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path: file });
    log('screenshot', path.relative(repo, file));
  };
  shot.count = () => step - first + 1;
  return shot;
}

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

export function ensureBuilt() {
  const r = spawnSync(path.join(repo, 'scripts', 'build-ui.sh'), { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('building the UI failed');
}

/** Run Python code (with args) in the server's environment; throws with its stderr. */
export function runPython(args, what) {
  const r = spawnSync(python, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${what} failed:\n${r.stderr}`);
  return r.stdout;
}

function serverEnv(home) {
  // a private home: never the developer's database or artifact root
  const env = { ...process.env, PIPEYARD_HOME: home };
  delete env.PIPEYARD_PIPELINE_ROOT;
  delete env.PIPEYARD_DATABASE_URL;
  delete env.PIPEYARD_AUTH_TOKEN;
  return env;
}

/** A temporary home and a pipeyard server on a free port, with its log in the home. */
export async function startServer(prefix = 'pipeyard-e2e-') {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  log(`starting ${python} -m pipeyard.server.main --port ${port} (PIPEYARD_HOME=${home})`);
  const serverLog = fs.openSync(path.join(home, 'server.log'), 'w');
  const proc = spawn(python, ['-m', 'pipeyard.server.main', '--port', String(port)], {
    env: serverEnv(home),
    stdio: ['ignore', serverLog, serverLog],
  });
  const stop = async () => {
    if (proc.exitCode !== null) return;
    proc.kill('SIGTERM');
    for (let i = 0; i < 20 && proc.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
    if (proc.exitCode === null) proc.kill('SIGKILL');
  };
  try {
    await waitForServer(`${base}/apis/pipeyard/v1/info`, 60000, proc);
  } catch (e) {
    await stop();
    throw e;
  }
  return { home, base, proc, stop };
}

export async function launchBrowser() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'pipeyard-e2e-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: !process.env.E2E_HEADFUL,
    viewport: { width: 1366, height: 768 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = browser.pages()[0] ?? (await browser.newPage());
  page.setDefaultTimeout(20000);
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  return { browser, page, pageErrors };
}

/**
 * A node of the graph, once drawn where it can be seen: React Flow renders a node
 * hidden until it has measured it, and the viewport may still be fitting, so being
 * in the DOM is not enough to click it or to take a meaningful screenshot.
 */
export async function graphNode(page, name, timeout = 30000) {
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

/** Wait until every node of the graph lies wholly inside the graph pane (the fit has finished). */
export async function graphSettled(page, timeout = 10000) {
  await page.waitForFunction(
    () => {
      const pane = document.querySelector('.react-flow');
      const nodes = [...document.querySelectorAll('.react-flow__node')];
      if (!pane || !nodes.length) return false;
      const b = pane.getBoundingClientRect();
      return nodes.every((n) => {
        const a = n.getBoundingClientRect();
        return getComputedStyle(n).visibility === 'visible' && a.width > 0 && a.left >= b.left - 1 && a.right <= b.right + 1 && a.top >= b.top - 1 && a.bottom <= b.bottom + 1;
      });
    },
    null,
    { timeout },
  );
  // the fit animates; let the last frame land
  await page.waitForTimeout(200);
}

/** Wait until the run page's header badge shows `state` (no reload). */
export async function runState(page, state, timeout = RUN_TIMEOUT) {
  await page.locator(`.page-header .badge[data-state="${state}"]`).first().waitFor({ timeout });
}

/** Mark the page so that a reload (which would drop the mark) can be detected. */
export async function markNoReload(page) {
  await page.evaluate(() => {
    window.__noReload = true;
  });
}

export async function assertNoReload(page) {
  assert(await page.evaluate(() => window.__noReload === true), 'the page was not reloaded');
}

/** Run a scenario: report FAIL with the message and exit 1 on error. */
export function main(fn) {
  fn().catch((e) => {
    console.error(`[e2e] FAIL: ${e.stack || e.message}`);
    process.exit(1);
  });
}
