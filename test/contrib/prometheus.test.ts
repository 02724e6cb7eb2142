// contrib/prometheus as Prometheus itself reads it: the alert rules load and behave as their unit
// tests say (promtool test rules), and the scrape config is valid.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const CONTRIB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../contrib/prometheus');
const run = promisify(execFile);

async function promtool(...args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run('promtool', args, { cwd: CONTRIB });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

test('the alert rules pass promtool check rules', async () => {
  const checked = await promtool('check', 'rules', 'ygg-alerts.yml');
  assert.equal(checked.code, 0, checked.output);
  assert.match(checked.output, /SUCCESS: 5 rules found/);
});

test('the alerts fire as their unit tests say: below desired healthy, down, out of sync, agent down, render held', async () => {
  const tested = await promtool('test', 'rules', 'ygg-alerts.test.yml');
  assert.equal(tested.code, 0, tested.output);
  for (const alert of ['YggJobBelowDesiredHealthy', 'YggJobDown', 'YggJobOutOfSync', 'YggAgentDown', 'YggRenderHeld']) {
    const expectations = await run('grep', ['-c', `alertname: ${alert}$`, 'ygg-alerts.test.yml'], { cwd: CONTRIB });
    assert.ok(Number(expectations.stdout) > 0, `${alert} is tested`);
  }
});

test('the scrape config passes promtool check config', async () => {
  const checked = await promtool('check', 'config', 'prometheus.yml');
  assert.equal(checked.code, 0, checked.output);
  assert.match(checked.output, /SUCCESS: prometheus\.yml is valid/);
});
