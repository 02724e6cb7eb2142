// The controller's per-job gauges on /metrics, through the real controller, etcd and git: desired,
// healthy, rolling and out-of-sync figures labelled by the job's tree levels, set by each reconcile,
// and a job removed from the repo gone from /metrics.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FleetView, reconcileNow, startInProcess, waitUntil } from '../fixtures/controller-harness.js';
import { uniquePrefix, useSharedEtcd } from '../fixtures/etcd-server.js';
import { FRONTEND_HOSTS, frontendAt } from '../fixtures/fleet-changes.js';
import { createGitFleet } from '../fixtures/git-fleet.js';

const FRONTEND = 'job="frontend",cop="acme",owt="shop",pdl="web",cluster="prod",service="www"';
const SEARCH = 'job="search",cop="acme",owt="shop",pdl="web",cluster="prod",service="search"';

/** name{labels} → value, for the ygg_job_ series. */
function jobSeries(text: string): Map<string, number> {
  const series = new Map<string, number>();
  for (const match of text.matchAll(/^(ygg_job_\w+\{[^}]*\}) (\S+)$/gm)) series.set(match[1]!, Number(match[2]));
  return series;
}

describe('controller job gauges', () => {
  const etcd = useSharedEtcd();

  test('desired, healthy, rolling and out of sync per job, by tree level; a removed job is dropped', async () => {
    const prefix = uniquePrefix('job-metrics');
    const fleet = createGitFleet();
    const first = fleet.commit('Fast rollouts for frontend', frontendAt('1.0.0'));
    const view = new FleetView(etcd.url, prefix);
    await view.registerAgents(FRONTEND_HOSTS);
    const controller = await startInProcess({ repo: fleet.dir, etcdPrefix: prefix, etcdUrl: etcd.url, listen: { host: '127.0.0.1', port: 0 } });
    etcd.cleanups.push(() => view.close(), () => controller.close());
    const scrape = async () => jobSeries(await (await fetch(`${controller.url}/metrics`)).text());
    await waitUntil(async () => (await view.current())?.commit.sha === first, 'the first commit in force');

    // Assigned, nothing reported yet: every instance is out of sync, none healthy.
    await reconcileNow(controller);
    let series = await scrape();
    assert.equal(series.get(`ygg_job_desired_instances{${FRONTEND}}`), 3);
    assert.equal(series.get(`ygg_job_healthy_instances{${FRONTEND}}`), 0);
    assert.equal(series.get(`ygg_job_out_of_sync_instances{${FRONTEND}}`), 3);
    assert.equal(series.get(`ygg_job_desired_instances{${SEARCH}}`), 2);

    await view.reportAllHealthy(new Date(Date.now() - 60_000));
    await reconcileNow(controller);
    series = await scrape();
    assert.equal(series.get(`ygg_job_healthy_instances{${FRONTEND}}`), 3);
    assert.equal(series.get(`ygg_job_out_of_sync_instances{${FRONTEND}}`), 0);
    assert.equal(series.get(`ygg_job_rolling{${FRONTEND}}`), 0);
    assert.equal(series.get(`ygg_job_out_of_sync_instances{${SEARCH}}`), 0);

    // A new version rolls one host at a time: rolling, and every instance behind until it reports.
    fleet.commit('frontend 1.1.0', frontendAt('1.1.0'));
    await reconcileNow(controller);
    series = await scrape();
    assert.equal(series.get(`ygg_job_rolling{${FRONTEND}}`), 1);
    assert.equal(series.get(`ygg_job_out_of_sync_instances{${FRONTEND}}`), 3);
    assert.equal(series.get(`ygg_job_healthy_instances{${FRONTEND}}`), 0, 'healthy counts instances on the desired spec only');

    // search leaves the repo: its series go, frontend's stay.
    fleet.commit('Retire search [ygg:allow-prune]', { 'jobs/search.yaml': null });
    await reconcileNow(controller);
    series = await scrape();
    assert.deepEqual([...series.keys()].filter((key) => key.includes('job="search"')), []);
    assert.equal(series.get(`ygg_job_desired_instances{${FRONTEND}}`), 3);

    // Only the leader speaks for the fleet: a deposed one's last figures would be stale duplicates.
    const standby = await startInProcess({ repo: fleet.dir, etcdPrefix: prefix, etcdUrl: etcd.url, listen: { host: '127.0.0.1', port: 0 } });
    etcd.cleanups.push(() => standby.close());
    assert.equal(standby.election.isLeader, false);
    await controller.election.resign();
    await waitUntil(() => standby.election.isLeader, 'the standby elected');
    await reconcileNow(standby);
    assert.deepEqual([...(await scrape()).keys()], [], 'the old leader says nothing about jobs');
    assert.equal(jobSeries(await (await fetch(`${standby.url}/metrics`)).text()).get(`ygg_job_desired_instances{${FRONTEND}}`), 3);
  });
});
