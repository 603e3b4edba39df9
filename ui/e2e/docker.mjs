// End-to-end test of issue 11's server path: a pipeline whose program exists only in its
// image (a locally imported busybox image), run by `pipeyard server` with
// PIPEYARD_LAUNCHER=docker, watched in the browser until it succeeds, and its container's
// log read in the task's Logs tab. Afterwards the engine lists no container of the run.
//
// Needs a running Docker engine (scripts/start-docker.sh, called by scripts/test.sh).
// Screenshots 70-74 in <repo>/test-artifacts/screenshots/.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { assert, ensureBuilt, graphNode, graphSettled, launchBrowser, log, main, python, repo, runState, screenshots, startServer } from './helpers.mjs';

const shot = screenshots(70, 74);

function docker(args) {
  const r = spawnSync('docker', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')} failed (is the engine running? scripts/start-docker.sh):\n${r.stderr}`);
  return r.stdout;
}

function compile(out) {
  const r = spawnSync(python, [path.join(repo, 'ui', 'e2e', 'docker_pipelines.py'), out], {
    encoding: 'utf8',
    cwd: repo,
    env: { ...process.env, PYTHONPATH: repo },
  });
  if (r.status !== 0) throw new Error(`compiling the docker pipeline failed:\n${r.stderr}`);
}

main(async () => {
  docker(['version', '--format', '{{.Server.Version}}']);
  ensureBuilt();
  process.env.PIPEYARD_LAUNCHER = 'docker';
  const server = await startServer('pipeyard-e2e-docker-');
  const { home, base } = server;
  let browser;
  try {
    const yaml = path.join(home, 'docker_produce.yaml');
    compile(yaml);
    const upload = new FormData();
    upload.append('uploadfile', new Blob([fs.readFileSync(yaml)]), 'docker_produce.yaml');
    const pipeline = await (await fetch(`${base}/apis/v2beta1/pipelines/upload?name=e2e-docker`, { method: 'POST', body: upload })).json();
    assert(pipeline.pipeline_id, `pipeline uploaded (${JSON.stringify(pipeline)})`);
    const versions = await (await fetch(`${base}/apis/v2beta1/pipelines/${pipeline.pipeline_id}/versions`)).json();
    const versionId = versions.pipeline_versions[0].pipeline_version_id;
    const created = await fetch(`${base}/apis/v2beta1/runs`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        display_name: 'docker from the browser test',
        pipeline_version_reference: { pipeline_id: pipeline.pipeline_id, pipeline_version_id: versionId },
        runtime_config: { parameters: { word: 'browser' } },
      }),
    });
    const run = await created.json();
    assert(created.ok && run.run_id, `run created (${JSON.stringify(run)})`);

    let page, pageErrors;
    ({ browser, page, pageErrors } = await launchBrowser());
    await page.goto(`${base}/#/runs/details/${run.run_id}`);
    await graphNode(page, 'produce');
    await runState(page, 'SUCCEEDED');
    await graphSettled(page);
    await shot(page, 'docker-run-succeeded');

    await (await graphNode(page, 'produce')).click();
    await page.getByRole('tab', { name: 'Logs' }).click();
    // printed by /opt/tools/produce inside the container, with the task's env variable
    await page.locator('.logs').getByText('produced browser in / with GREETING=from-the-ui-test').waitFor();
    await shot(page, 'docker-task-log');

    // container labels: pipeyard.launcher=docker and pipeyard.key=<run id>/<task>/<attempt>
    const keys = docker(['ps', '-a', '--filter', 'label=pipeyard.launcher=docker', '--format', '{{.Label "pipeyard.key"}}']);
    const left = keys.split('\n').filter((k) => k.startsWith(`${run.run_id}/`));
    assert(left.length === 0, `no container of the run is left (${left.join(', ')})`);
    assert(pageErrors.length === 0, `no uncaught page errors (${pageErrors.join('; ')})`);
    log(`PASS: ${shot.count()} screenshots`);
  } finally {
    await browser?.close().catch(() => undefined);
    await server.stop();
  }
});
