// `ygg dev` end to end on real parts: its own etcd, the controller, 19 agents on their hosts'
// loopback addresses, the example echo-server jobs, keepalived -t on the directors' configs.
// One run goes through a config change, a broken commit, reverts, a killed job, a second ygg dev,
// Ctrl-C; a second run is killed -9 and a third recovers what it left.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { processIdentity } from '../../src/agent/process-identity.js';
import { httpStatus } from '../fixtures/agent-harness.js';
import { FleetView, waitUntil, type ControllerProcess } from '../fixtures/controller-harness.js';
import { devSandbox, git, jobPids, killAll, recordConf, recordedPids, removeSandbox, startDev, waitForEvent, type DevSandbox } from '../fixtures/dev-harness.js';
import { readLock } from '../../src/dev/dev-lock.js';
import { runYgg } from '../cli/ygg-process.js';

const DISPATCHER = 'jobs/miliao/alias-job-dispatcher.yaml';
const SUBNET = '127.0.9';
const DISPATCHER_HOSTS = [['lg-im-01', `${SUBNET}.11`], ['lg-im-03', `${SUBNET}.13`]] as const;
const SERVICE = 'xiaomi.miliao.im.dispatcher';

/** The dispatcher's endpoints as its director renders them. */
function dispatcherServers(conf: string): string[] {
  return DISPATCHER_HOSTS.filter(([, ip]) => conf.includes(`real_server ${ip} 8080 {`)).map(([host]) => host);
}

/** Alive and not a zombie: a job whose agent is gone is reparented to init, which may not reap it here. */
const running = (pid: number) => processIdentity(pid) !== undefined;

function keepalivedCheck(file: string): void {
  assert.ok(readFileSync(file, 'utf8').includes('virtual_server'), `${file} has virtual servers`);
  execFileSync('keepalived', ['-t', '-f', file], { stdio: 'pipe' });
}

describe('ygg dev', { timeout: 150_000 }, () => {
  // Rollouts of the dispatcher gate on 1 s of health instead of 10, checked every second, to keep the
  // file short; the hosts move from 127.0.0.x to 127.0.9.x so that a ygg dev of example-repo running
  // beside this test (the demo, another test) binds other addresses.
  const sandbox: DevSandbox = devSandbox((source) => {
    const edit = (file: string, change: (text: string) => string) => writeFileSync(path.join(source, file), change(readFileSync(path.join(source, file), 'utf8')));
    edit(DISPATCHER, (text) => text.replace('minHealthySeconds: 10', 'minHealthySeconds: 1').replace('intervalSeconds: 5', 'intervalSeconds: 1'));
    for (const hosts of ['hosts/lg.yaml', 'hosts/c3.yaml']) edit(hosts, (text) => text.replaceAll('ip: 127.0.0.', `ip: ${SUBNET}.`));
  });
  const conf = sandbox.layout.keepalivedConf('lg-lvs-01');
  const seen = new Set<number>();
  let dev: ControllerProcess;
  let etcdUrl: string;
  let view: FleetView;

  before(async () => {
    dev = startDev(sandbox);
    const converged = await waitForEvent(dev, 'converged', 60_000);
    etcdUrl = converged.etcdUrl as string;
    view = new FleetView(etcdUrl, '/ygg/v1');
    console.log(`# converged in ${(converged.seconds as number).toFixed(1)} s`);
  });
  after(async () => {
    for (const pid of recordedPids(sandbox.layout)) seen.add(pid);
    await dev?.kill();
    killAll(seen);
    await view?.close();
    removeSandbox(sandbox);
  });

  it('runs every job healthy on its host address, with both directors rendered and checked', async () => {
    const assignments = await view.assignments();
    assert.equal(assignments.size, 21);
    for (const record of assignments.values()) {
      const port = Object.values(record.spec.ports ?? {})[0]!;
      assert.equal(await httpStatus(port, '/health', record.host.ip), 200, `${record.job} on ${record.host.name} (${record.host.ip}:${port})`);
    }
    // The renderers follow naming a debounce behind the health reports (200 ms to 2 s).
    await waitUntil(() => dispatcherServers(readFileSync(conf, 'utf8')).length === 2, 'both dispatchers in the director config', 5000);
    for (const director of ['lg-lvs-01', 'c3-lvs-01']) keepalivedCheck(sandbox.layout.keepalivedConf(director));
  });

  it('keeps the zone file of the Zone, passing named-checkzone, and the Prometheus targets of every endpoint and agent', async () => {
    const zone = sandbox.layout.zoneFile('svc.example.test');
    // A service with a VIP answers with it; one without (search-suggest) with each healthy instance.
    const published = () => existsSync(zone) && /^suggest\.search IN A 127\.0\.9\.\d+$/m.test(readFileSync(zone, 'utf8'));
    await waitUntil(() => published() || undefined, 'search-suggest instances in the zone', 5000);
    assert.match(readFileSync(zone, 'utf8'), /^dispatcher\.im IN A 10\.1\.100\.10$/m);
    execFileSync('named-checkzone', ['svc.example.test', zone], { stdio: 'pipe' });
    type Group = { targets: string[]; labels: Record<string, string> };
    const groups = () => JSON.parse(readFileSync(sandbox.layout.prometheusTargets, 'utf8')) as Group[];
    const kind = (name: string) => groups().filter((group) => group.labels['__meta_ygg_target'] === name);
    await waitUntil(() => kind('agent').length === 19 || undefined, '19 agents in the Prometheus targets', 5000);
    assert.ok(kind('instance').some((group) => group.labels['job'] === 'alias-job-dispatcher' && group.targets.includes(`${SUBNET}.11:8080`)), JSON.stringify(kind('instance')));
  });

  it('prints the plan of a saved, uncommitted change', async () => {
    const from = dev.logs.length;
    const file = path.join(sandbox.layout.repo, DISPATCHER);
    writeFileSync(file, readFileSync(file, 'utf8').replace('LOG_LEVEL: info', 'LOG_LEVEL: debug'));
    const plan = await waitForEvent(dev, 'plan', 10_000, () => true, from);
    assert.equal(plan.empty, false);
    assert.match(plan.text as string, /~ alias-job-dispatcher on lg-im-01: changed env/);
    assert.match(plan.text as string, /~ alias-job-dispatcher on lg-im-03: changed env/);
    assert.match(plan.text as string, /Instances: 0 to add, 2 to update, 0 to remove/);
  });

  let rolled: string;
  let original: Record<string, string>;
  it('rolls a committed change across its hosts: new processes healthy on their addresses, in naming, in the director config', async () => {
    original = await view.specHashes();
    const before = new Map(DISPATCHER_HOSTS.map(([host]) => [host, jobPids(sandbox.layout, host).get('alias-job-dispatcher')!]));
    before.forEach((pid) => seen.add(pid));
    const recorder = recordConf(conf);
    const from = dev.logs.length;
    const committedAt = Date.now();
    git(sandbox, 'commit', '-qam', 'Debug logs for the dispatcher');
    rolled = git(sandbox, 'rev-parse', 'HEAD');
    await waitForEvent(dev, 'commit_applied', 10_000, (line) => line.sha === rolled, from);
    await waitForEvent(dev, 'settled', 40_000, (line) => line.commit === rolled, from);
    await waitUntil(() => dispatcherServers(recorder.versions.at(-1)!.text).length === 2 && recorder.versions.length > 2, 'the director config back to both dispatchers', 10_000);
    recorder.stop();
    for (const [host, ip] of DISPATCHER_HOSTS) {
      const pid = jobPids(sandbox.layout, host).get('alias-job-dispatcher')!;
      seen.add(pid);
      assert.notEqual(pid, before.get(host), `a new process on ${host}`);
      assert.equal(await httpStatus(8080, '/health', ip), 200);
    }
    const naming = await view.values(view.layout.namings(SERVICE));
    assert.deepEqual([...naming.keys()].map((key) => key.slice(view.layout.namings(SERVICE).length)).sort(), ['lg-im-01:8080', 'lg-im-03:8080']);
    // One instance at a time (maxParallel 1): the director config lost each in turn and got it back.
    const counts = recorder.versions.map((version) => dispatcherServers(version.text).length);
    assert.ok(counts.includes(1), `the config dropped a dispatcher during the rollout: ${counts.join(',')}`);
    assert.equal(counts.at(-1), 2);
    keepalivedCheck(conf);
    const firstChange = recorder.versions[1]!.at - committedAt;
    const lastChange = recorder.versions.at(-1)!.at - committedAt;
    console.log(`# commit → director config first updated ${firstChange} ms, final ${lastChange} ms`);
  });

  it('rejects a broken commit: nothing restarts, and ygg status shows the rejection', async () => {
    const pids = jobPids(sandbox.layout, 'lg-im-01');
    const from = dev.logs.length;
    writeFileSync(path.join(sandbox.layout.repo, DISPATCHER), 'kind: Job\nspec: [unclosed\n');
    git(sandbox, 'commit', '-qam', 'Oops');
    const broken = git(sandbox, 'rev-parse', 'HEAD');
    const rejected = await waitForEvent(dev, 'commit_rejected', 10_000, (line) => line.sha === broken, from);
    assert.match((rejected.errors as string[])[0]!, /alias-job-dispatcher\.yaml:\d+:\d+/);
    const status = await runYgg(['status', '--etcd', etcdUrl], { timeoutMs: 20_000 });
    assert.match(status.stdout, /Sync: Rejected/);
    assert.match(status.stdout, new RegExp(`Rejected: ${broken.slice(0, 12)}`));
    assert.match(status.stdout, new RegExp(`Commit in force: ${rolled.slice(0, 12)}`));
    assert.deepEqual(jobPids(sandbox.layout, 'lg-im-01'), pids);
  });

  it('puts the previous spec back on git revert', async () => {
    const from = dev.logs.length;
    git(sandbox, 'revert', '--no-edit', 'HEAD');
    git(sandbox, 'revert', '--no-edit', rolled);
    const head = git(sandbox, 'rev-parse', 'HEAD');
    await waitForEvent(dev, 'commit_applied', 10_000, (line) => line.sha === head, from);
    await waitForEvent(dev, 'settled', 40_000, (line) => line.commit === head, from);
    assert.deepEqual(await view.specHashes(), original);
  });

  it('restarts a job killed with SIGKILL; the director config drops it and gets it back', async () => {
    const recorder = recordConf(conf);
    const victim = jobPids(sandbox.layout, 'lg-im-01').get('alias-job-dispatcher')!;
    process.kill(victim, 'SIGKILL');
    const restarted = await waitUntil(() => {
      const pid = jobPids(sandbox.layout, 'lg-im-01').get('alias-job-dispatcher');
      return pid !== undefined && pid !== victim && running(pid) ? pid : undefined;
    }, 'the dispatcher restarted on lg-im-01', 15_000);
    seen.add(restarted);
    await waitUntil(() => recorder.versions.length > 2 && dispatcherServers(recorder.versions.at(-1)!.text).length === 2, 'lg-im-01 back in the director config', 20_000);
    recorder.stop();
    assert.ok(recorder.versions.some((version) => dispatcherServers(version.text).join() === 'lg-im-03'), 'the config dropped lg-im-01 meanwhile');
    assert.equal(await httpStatus(8080, '/health', `${SUBNET}.11`), 200);
    keepalivedCheck(conf);
  });

  it('starts an agent for a Host that a commit adds', async () => {
    const from = dev.logs.length;
    const hosts = path.join(sandbox.layout.repo, 'hosts/c3.yaml');
    writeFileSync(hosts, `${readFileSync(hosts, 'utf8')}\n---\napiVersion: ygg/v1\nkind: Host\nmetadata: { name: c3-spare-05 }\nspec: { ip: ${SUBNET}.39, labels: { idc: c3, rack: r03, role: spare }, state: spare }\n`);
    git(sandbox, 'commit', '-qam', 'A spare host for c3');
    await waitForEvent(dev, 'started', 15_000, (line) => line.what === 'agents' && line.detail === 'c3-spare-05 (new hosts)', from);
    await waitUntil(async () => (await view.values(view.layout.agent('c3-spare-05'))).size === 1, 'the agent of c3-spare-05 registered', 15_000);
  });

  it('refuses a second ygg dev in the same directory', async () => {
    const second = await runYgg(['dev', '--repo', sandbox.source, '--dir', sandbox.layout.dir], { timeoutMs: 20_000 });
    assert.equal(second.code, 1);
    assert.match(second.stderr, new RegExp(`^ygg dev: already running \\(pid ${dev.child.pid}\\), console at http://127\\.0\\.0\\.1:\\d+\\n$`));
  });

  it('stops everything on Ctrl-C: agents, every job, the controller, etcd', async () => {
    const pids = recordedPids(sandbox.layout);
    pids.forEach((pid) => seen.add(pid));
    assert.ok(pids.length >= 21 + 21, `recorded ${pids.length} pids`);
    dev.child.kill('SIGINT');
    const code = await new Promise((resolve) => dev.child.once('exit', resolve));
    assert.equal(code, 0);
    assert.deepEqual([...seen].filter(running), []);
    assert.equal(existsSync(sandbox.layout.lockFile), false);
    assert.equal(dev.logs.at(-1)!.event, 'stopped');
  });

  it('recovers from a run killed with SIGKILL: what it left is stopped, a new run starts clean (and stops when its controller dies)', async () => {
    const crashed = startDev(sandbox);
    await waitForEvent(crashed, 'converged', 60_000);
    const left = recordedPids(sandbox.layout);
    left.forEach((pid) => seen.add(pid));
    await crashed.kill();
    assert.ok(left.every(running), 'its processes outlive a SIGKILLed ygg dev');
    dev = startDev(sandbox);
    const recovered = await waitForEvent(dev, 'recovered', 30_000);
    assert.equal(recovered.pid, crashed.child.pid);
    assert.deepEqual(left.filter(running), []);
    await waitForEvent(dev, 'started', 30_000, (line) => line.what === 'agents');
    // Without its controller the run cannot go on: it stops everything and says why.
    const controller = readLock(sandbox.layout.lockFile)!.processes.find((started) => started.name === 'controller')!;
    for (const pid of recordedPids(sandbox.layout)) seen.add(pid);
    process.kill(controller.pid, 'SIGKILL');
    assert.equal(await new Promise((resolve) => dev.child.once('exit', resolve)), 1);
    assert.match(dev.stderr.join(''), /^ygg dev: stopped everything: controller exited\n$/);
    for (const pid of recordedPids(sandbox.layout)) seen.add(pid);
    assert.deepEqual([...seen].filter(running), []);
  });
});
