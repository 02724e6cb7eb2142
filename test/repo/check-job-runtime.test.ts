// What the agent or the controller would refuse or never manage at run time is refused by
// `ygg validate` first. Where the runtime part can be run here, it is, to show the two agree.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ArtifactFetchError, fetchArtifact } from '../../src/agent/fetch-artifact.js';
import { prepareRelease, ReleaseSpecError } from '../../src/agent/prepare-release.js';
import type { AssignmentRecord } from '../../src/store/records.js';
import { ARTIFACT_BYTES, edit, sha256 } from '../fixtures/small-fleet.js';
import { MAX_JOB_SPEC_BYTES } from '../../src/repo/check-job-runtime.js';
import { assertFindings, loadFleet } from './load-findings.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'ygg-runtime-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** The assignment the controller would write for the frontend job of a fleet with `changes` (validation errors ignored). */
async function frontendAssignment(changes: Record<string, string>): Promise<AssignmentRecord> {
  const { model } = await loadFleet({});
  const job = model!.jobs.get('frontend')!;
  const host = model!.hosts.get('web-a1')!;
  const configs = changes.configPath ? [{ path: changes.configPath, template: 'x' }] : job.spec.configs;
  return {
    job: job.name, tag: job.tag, host: { name: host.name, ip: host.ip, labels: host.labels },
    spec: { ...job.spec, configs }, specHash: 'b'.repeat(64), commit: 'c'.repeat(40), assignedAt: new Date(0).toISOString(),
  };
}

describe('files the agent places in a release', () => {
  it('.ygg-release.json is the agent\'s: refused by validate and by prepareRelease alike', async () => {
    await assertFindings(edit('jobs/frontend.yaml', 'path: conf/app.yaml', 'path: .ygg-release.json'), [
      /^jobs\/frontend\.yaml:13:13: \.ygg-release\.json is where the agent marks a complete release: choose another name$/.source,
    ]);
    const assignment = await frontendAssignment({ configPath: '.ygg-release.json' });
    await assert.rejects(prepareRelease(assignment, { root: path.join(scratch, 'agent'), fetchUrl: () => 'http://127.0.0.1:9/never' }), (error) => error instanceof ReleaseSpecError && /reserved for the agent/.test(error.message));
  });

  it('a path that needs another placed file to be a folder', () =>
    assertFindings(edit('jobs/search.yaml', '  dependencies:\n', '  configs: [{ path: dict, template: "x" }]\n  dependencies:\n'), [
      /^jobs\/search\.yaml:13:15: dict\/words\.txt needs dict to be a folder, but the job also places a file there$/.source,
    ]));
});

describe('URLs the agent cannot fetch', () => {
  const cases: [url: string, problem: RegExp][] = [
    ['file://fileserver/app.tar.gz', /names host "fileserver": a file URL is read on the agent's own host, write file:\/\/\/path$/],
    ['file:///srv/a%2Fb.tar.gz', /encodes "\/" or a NUL byte in its path/],
    ['http://example.com:99999/app.tar.gz', /is not a URL the agent can fetch/],
  ];
  for (const [url, problem] of cases) {
    it(url, async () => {
      await assertFindings(edit('jobs/search.yaml', 'artifact: { path: artifacts/app.tar.gz,', `artifact: { url: "${url}",`), [`^jobs/search\\.yaml:8:\\d+: ${url.replace(/[.?/]/g, '\\$&')} ${problem.source.slice(0, -1).replace(/^\^/, '')}`]);
      await assert.rejects(fetchArtifact({ url, sha256: sha256(ARTIFACT_BYTES) }, path.join(scratch, 'cache')), ArtifactFetchError);
    });
  }

  it('a local file URL and an https URL with credentials pass', () =>
    assertFindings(
      {
        ...edit('jobs/search.yaml', 'artifact: { path: artifacts/app.tar.gz,', 'artifact: { url: "file:///srv/app.tar.gz",'),
        ...edit('jobs/frontend.yaml', 'artifact: { path: artifacts/app.tar.gz,', 'artifact: { url: "https://user:secret@artifacts.example.com/app.tar.gz",'),
      },
      [],
    ));
});

describe('health checks, cron schedules and rollouts that cannot work', () => {
  it('a template in a health exec command is passed as is: refused', () =>
    assertFindings(edit('jobs/frontend.yaml', 'health: { http: { port: http, path: /health } }', 'health: { exec: { command: [bin/check, "{{ports.http}}"] } }'), [
      /^jobs\/frontend\.yaml:18:\d+: health check commands are not templates: "\{\{ports\.http\}\}" would be passed as is/.source,
    ]));

  it('a cron schedule that never fires', () =>
    assertFindings(edit('jobs/frontend.yaml', 'schedule: "0 * * * *"', 'schedule: "0 0 30 2 *"'), ['jobs/frontend.yaml:17:37: cron schedule "0 0 30 2 *" never fires (no such date)']));

  it('minHealthySeconds not shorter than progressDeadlineSeconds', async () => {
    await assertFindings(edit('jobs/search.yaml', '  replicas: 2\n', '  replicas: 2\n  rollout: { minHealthySeconds: 600 }\n'), [
      /^jobs\/search\.yaml:14:\d+: minHealthySeconds 600 is not shorter than progressDeadlineSeconds 300: no batch could become healthy in time, every rollout would fail$/.source,
    ]);
    await assertFindings(edit('jobs/search.yaml', '  replicas: 2\n', '  replicas: 2\n  rollout: { minHealthySeconds: 297 }\n'), []);
  });

  it('a drain that, with minHealthySeconds, fills the deadline; a negative or non-numeric drain', async () => {
    await assertFindings(edit('jobs/search.yaml', '  replicas: 2\n', '  replicas: 2\n  rollout: { minHealthySeconds: 200, drainSeconds: 100 }\n'), [
      /^jobs\/search\.yaml:14:\d+: drainSeconds 100 plus minHealthySeconds 200 is not shorter than progressDeadlineSeconds 300: no batch could become healthy in time, every rollout would fail$/.source,
    ]);
    await assertFindings(edit('jobs/search.yaml', '  replicas: 2\n', '  replicas: 2\n  rollout: { drainSeconds: -1 }\n'), [/^jobs\/search\.yaml:14:\d+: spec\.rollout\.drainSeconds must be >= 0/.source]);
    await assertFindings(edit('jobs/search.yaml', '  replicas: 2\n', '  replicas: 2\n  rollout: { drainSeconds: 2s }\n'), [/^jobs\/search\.yaml:14:\d+: spec\.rollout\.drainSeconds must be number/.source]);
    await assertFindings(edit('jobs/search.yaml', '  replicas: 2\n', '  replicas: 2\n  rollout: { minHealthySeconds: 0, drainSeconds: 0.5 }\n'), []);
  });
});

describe('what the renderer refuses in a Service', () => {
  it('a label of a service name longer than DNS allows', () =>
    assertFindings(edit('services.yaml', 'name: acme.shop.www', `name: acme.${'s'.repeat(64)}.www`), [/^services\.yaml:3:\d+: metadata\.name: "acme\.s+/.source]));

  it('a query string in a director\'s HTTP check path', () =>
    assertFindings(edit('services.yaml', 'lbKind: NAT }', 'lbKind: NAT, check: { http: { path: "/health?full=1" } } }'), [/^services\.yaml:7:\d+: spec\.vip\.check\.http\.path: "\/health\?full=1" is not allowed/.source]));
});

describe('what etcd cannot hold', () => {
  it('a job spec too big for an assignment record', async () => {
    const big = 'x'.repeat(MAX_JOB_SPEC_BYTES);
    await assertFindings(edit('jobs/frontend.yaml', '        listen: {{host.ip}}:{{ports.http}}', `        listen: {{host.ip}}:{{ports.http}}\n        # ${big}`), [
      /^jobs\/frontend\.yaml:7:3: the job's spec is 60\d KiB as JSON, over 600 KiB: an assignment carries it twice during a rollout and etcd takes at most 1\.5 MiB per request/.source,
    ]);
    await assertFindings(edit('jobs/frontend.yaml', '        listen: {{host.ip}}:{{ports.http}}', `        listen: {{host.ip}}:{{ports.http}}\n        # ${big.slice(0, MAX_JOB_SPEC_BYTES - 4096)}`), []);
  });
});
