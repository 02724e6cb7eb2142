// The console in a real browser (Debian's chromium driven by playwright-core) against a real
// controller on a real etcd: load it, open the tree, open a job, then change that job's instance in
// etcd and watch the page show it without a reload. A machine without chromium fails here with the
// command that installs it: a browser test that skips would pass without testing anything.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { startConsoleFleet } from '../../fixtures/console-harness.js';
import { useSharedEtcd } from '../../fixtures/etcd-server.js';

const CHROMIUM = '/usr/bin/chromium';
const CLUSTER = 'cop.acme_owt.shop_pdl.web_cluster.prod';

async function launchChromium(): Promise<Browser> {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install it with \`sudo apt-get install -y chromium\` (or run \`bash scripts/preflight.sh --tests\` as root)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', ...(process.getuid?.() === 0 ? ['--no-sandbox'] : [])],
  });
}

describe('console in a browser', () => {
  const etcd = useSharedEtcd();

  test('load, expand the tree, open a job, and see an instance state change arrive live', async () => {
    const { url, view } = await startConsoleFleet(etcd, 'console-browser');
    const browser = await launchChromium();
    etcd.cleanups.push(() => browser.close());
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`${response.status()} ${response.url()}`);
    });
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });

    await page.goto(`${url}/`);
    await page.locator('#connection.live').waitFor();
    await page.locator('#sync-result .badge', { hasText: 'Synced' }).waitFor();
    // Open down to pdl at first: the cluster is shown, its services are not.
    const cluster = page.locator(`li.tree-node[data-tag="${CLUSTER}"]`);
    await cluster.waitFor();
    assert.equal(await page.locator(`li.tree-node[data-tag="${CLUSTER}_service.www"]`).count(), 0);
    await cluster.locator(':scope > .node > button.toggle').click();
    const service = page.locator(`li.tree-node[data-tag="${CLUSTER}_service.www"]`);
    await service.waitFor();
    await service.locator(':scope > .node > button.toggle').click();
    const jobLink = page.locator(`li.tree-node[data-tag="${CLUSTER}_service.www_job.frontend"] a`);
    await jobLink.click();
    await page.waitForURL(/#\/jobs\/frontend$/);
    const row = page.locator('table.instances tr[data-host="web-a1"] td.state');
    await row.locator('.badge', { hasText: 'Healthy' }).waitFor();
    await page.locator('#job-state', { hasText: 'Healthy' }).waitFor();

    // A mark on the window survives only if the page is never reloaded.
    await page.evaluate(() => Object.assign(globalThis, { yggNoReload: true }));
    const hash = (await view.assignments()).get('web-a1/frontend')!.specHash;
    const changedAt = Date.now();
    await view.reportStatus('web-a1', 'frontend', hash, 'CrashLoop');
    await row.locator('.badge', { hasText: 'CrashLoop' }).waitFor({ timeout: 5000 });
    const latencyMs = Date.now() - changedAt;
    await page.locator('#job-state', { hasText: 'Degraded' }).waitFor();
    assert.equal(await page.evaluate(() => (globalThis as { yggNoReload?: boolean }).yggNoReload), true, 'the page was not reloaded');
    assert.ok(latencyMs < 3000, `the change took ${latencyMs} ms to show`);
    // The header counts the degraded job too.
    await page.locator('#headline .counts', { hasText: 'Degraded' }).waitFor();

    // Everything the page shows came in as text: hostile values show as text, no element is made of them.
    await view.store.applyBatch([{ put: view.layout.status('web-a2', 'frontend'), value: { specHash: hash, state: 'Unhealthy', restarts: 1, lastError: '<img src=x onerror="globalThis.yggInjected=1">', since: new Date().toISOString(), updatedAt: new Date().toISOString() } }]);
    await page.locator('table.instances tr[data-host="web-a2"] td.error', { hasText: '<img src=x' }).waitFor();
    assert.equal(await page.locator('table.instances img').count(), 0);
    assert.equal(await page.evaluate(() => (globalThis as { yggInjected?: number }).yggInjected), undefined);
    assert.deepEqual(problems, []);
  });
});
