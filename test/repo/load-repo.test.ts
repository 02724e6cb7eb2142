import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { RepoLoader } from '../../src/repo/load-repo.js';
import { createSchemaValidator } from '../../src/repo/schema-validator.js';
import { WorkingTreeSource } from '../../src/repo/working-tree-source.js';
import { edit, removeDir, writeFleet } from '../fixtures/small-fleet.js';
import { assertFindings, findingsOf } from './load-findings.js';

const validator = createSchemaValidator();
const dirs: string[] = [];
after(() => dirs.forEach(removeDir));

describe('loader on a valid fleet', () => {
  it('builds the model with defaults filled and no findings', async () => {
    const dir = writeFleet();
    dirs.push(dir);
    const result = await new RepoLoader(validator).load(await new WorkingTreeSource(dir).snapshot());
    assert.deepEqual(result.findings, []);
    const model = result.model!;
    assert.deepEqual([...model.hosts.keys()].sort(), ['lvs-a1', 'web-a1', 'web-a2', 'web-b1', 'web-b2']);
    assert.equal(model.hosts.get('web-a1')!.state, 'online');
    assert.equal(model.hosts.get('web-b2')!.state, 'spare');
    assert.deepEqual(model.jobs.get('search')!.spec.rollout, { maxParallel: 1, minHealthySeconds: 10, autoRevert: true, progressDeadlineSeconds: 300, drainSeconds: 2 });
    assert.deepEqual(model.jobs.get('search')!.spec.env, {});
    assert.equal(model.jobs.get('frontend')!.spec.health!.intervalSeconds, 5);
    assert.deepEqual(model.config, {
      etcdPrefix: '/ygg/v1',
      pruneGuard: { maxDeletePercent: 50 },
      rescheduleAfterSeconds: 300,
      reschedule: { maxHostsPercentPerMinute: 10, unhealthyIdcThresholdPercent: 30 },
      requireSignedCommits: false,
    });
    const vip = model.services.get('acme.shop.www')!.vip!;
    assert.deepEqual([vip.protocol, vip.lbAlgo, vip.lbKind, vip.persistenceSeconds], ['TCP', 'wrr', 'NAT', 0]);
    assert.deepEqual(model.jobs.get('frontend')!.origin, { file: 'jobs/frontend.yaml', docIndex: 0 });
  });

  it('re-parses only the files whose content changed', async () => {
    const dir = writeFleet();
    dirs.push(dir);
    const loader = new RepoLoader(validator);
    const source = new WorkingTreeSource(dir);
    const first = await loader.load(await source.snapshot());
    assert.equal(first.stats.parsed, 6);
    writeFileSync(path.join(dir, 'jobs/search.yaml'), edit('jobs/search.yaml', 'version: 2.1.0', 'version: 2.2.0')['jobs/search.yaml']!);
    const second = await loader.load(await source.snapshot());
    assert.equal(second.stats.parsed, 1);
    assert.equal(second.model!.jobs.get('search')!.spec.version, '2.2.0');
    // Unchanged blobs give the very same objects: the plan relies on it.
    assert.equal(second.model!.jobs.get('frontend'), first.model!.jobs.get('frontend'));
  });
});

describe('loader on bad input: one located line per problem', () => {
  const cases: { name: string; changes: Record<string, string | null>; expected: string[] }[] = [
    {
      name: 'YAML syntax error',
      changes: edit('jobs/search.yaml', '  ports: { http: 8090 }', '  ports: { http: 8090\n'),
      expected: [/^jobs\/search\.yaml:\d+:\d+: .*(flow|map|collection|\}).*/i.source],
    },
    {
      name: 'wrong type, with advice to quote',
      changes: edit('jobs/search.yaml', 'version: 2.1.0', 'version: 2.1'),
      expected: ['jobs/search.yaml:7:12: spec.version must be a string, found number 2.1: quote it ("2.1")'],
    },
    {
      name: 'unknown field with a suggestion',
      changes: edit('jobs/search.yaml', '  replicas: 2', '  replica: 2'),
      expected: ['jobs/search.yaml:13:3: spec: unknown field "replica"; did you mean "replicas"?'],
    },
    {
      name: 'shell string where argv is required',
      changes: edit('jobs/search.yaml', 'command: [bin/server, --port, "{{ports.http}}"]', 'command: "bin/server --port 8090"'),
      expected: ['jobs/search.yaml:9:12: spec.command must be an argv list such as [bin/app, --port, "8080"], not a shell string'],
    },
    {
      name: 'shell string as the first argv element',
      changes: edit('jobs/search.yaml', 'command: [bin/server, --port, "{{ports.http}}"]', 'command: ["bin/server --port 8090"]'),
      expected: [/^jobs\/search\.yaml:9:13: spec\.command\[0\]: "bin\/server --port 8090" is not allowed/.source],
    },
    {
      name: 'bad IP',
      changes: edit('hosts.yaml', 'ip: 10.0.0.2', 'ip: 10.0.0.300'),
      expected: [/^hosts\.yaml:9:13: spec\.ip/.source],
    },
    {
      name: 'bad cron schedule (valid characters, impossible value)',
      changes: edit('jobs/frontend.yaml', 'schedule: "0 * * * *"', 'schedule: "61 * * * *"'),
      expected: ['jobs/frontend.yaml:17:37: invalid cron schedule "61 * * * *": Invalid value for minute: 61'],
    },
    {
      name: 'bad digest',
      changes: edit('jobs/search.yaml', 'sha256: ', 'sha256: XYZ'),
      expected: [/^jobs\/search\.yaml:8:51: spec\.artifact\.sha256: "XYZ/.source],
    },
    {
      name: 'digest that does not match the file',
      changes: { 'files/dict.txt': 'cherry\n' },
      expected: [/^jobs\/search\.yaml:12:63: sha256 of files\/dict\.txt is [0-9a-f]{64}, not [0-9a-f]{64}$/.source],
    },
    {
      name: 'bad tag: level out of order',
      changes: edit('tree.yaml', 'cop.acme_owt.shop_pdl.web_cluster.prod', 'cop.acme_pdl.web_owt.shop_cluster.prod'),
      expected: [/^tree\.yaml:4:8: invalid tag "cop\.acme_pdl\.web_owt\.shop_cluster\.prod": level owt is missing before pdl$/.source, /^jobs\/frontend\.yaml:5:8: no TreeNode/.source, /^jobs\/search\.yaml:5:8: no TreeNode/.source],
    },
    {
      name: 'job tag that does not end in its own name',
      changes: edit('jobs/search.yaml', '_job.search', '_job.searcher'),
      expected: ['jobs/search.yaml:5:8: the tag\'s job level must be the job\'s name: expected "_job.search" at the end of the tag'],
    },
    {
      name: 'requireSignedCommits that is not a boolean',
      changes: edit('ygg.yaml', '  pruneGuard:', '  requireSignedCommits: "yes"\n  pruneGuard:'),
      expected: ['ygg.yaml:4:25: spec.requireSignedCommits must be boolean, found string'],
    },
    {
      name: 'wrong apiVersion',
      changes: edit('services.yaml', 'apiVersion: ygg/v1', 'apiVersion: ygg/v2'),
      expected: ['services.yaml:1:13: apiVersion must be "ygg/v1", found "ygg/v2"'],
    },
    {
      name: 'unknown kind',
      changes: edit('services.yaml', 'kind: Service', 'kind: Servic'),
      expected: ['services.yaml:2:7: unknown kind "Servic" (one of Repo, Host, TreeNode, Job, Service, Zone)'],
    },
    { name: 'empty file', changes: { 'extra.yaml': '' }, expected: ['extra.yaml:1:1: file contains no YAML documents (expected apiVersion, kind, metadata, spec)'] },
    { name: 'comments only', changes: { 'extra.yaml': '# nothing yet\n' }, expected: ['extra.yaml:1:1: file contains no YAML documents (expected apiVersion, kind, metadata, spec)'] },
    {
      name: 'non-mapping document',
      changes: { 'extra.yaml': '- apiVersion: ygg/v1\n- kind: Host\n' },
      expected: ['extra.yaml:1:1: document must be a mapping with apiVersion, kind, metadata and spec, found a list'],
    },
    {
      name: 'dangling host in a tree node',
      changes: edit('tree.yaml', 'web-b2]', 'web-b3]'),
      expected: ['tree.yaml:7:35: unknown host "web-b3" (no Host document has that name)'],
    },
    {
      name: 'dangling job in a service',
      changes: edit('services.yaml', 'job: frontend', 'job: frontends'),
      expected: ['services.yaml:5:8: unknown job "frontends" (no Job document has that name)'],
    },
    {
      name: 'dangling port in a service',
      changes: edit('services.yaml', 'port: http', 'port: https'),
      expected: ['services.yaml:6:9: job frontend has no port named "https" (ports: http)'],
    },
    {
      name: 'dangling director',
      changes: edit('services.yaml', 'directors: [lvs-a1]', 'directors: [lvs-a9]'),
      expected: ['services.yaml:8:15: unknown director host "lvs-a9" (no Host document has that name)'],
    },
    {
      name: 'vip without directors',
      changes: edit('services.yaml', '  directors: [lvs-a1]\n', ''),
      expected: ['services.yaml:7:8: a vip needs at least one director host in spec.directors'],
    },
    {
      name: 'dangling artifact file',
      changes: { 'artifacts/app.tar.gz': null },
      expected: [/^jobs\/frontend\.yaml:8:21: file "artifacts\/app\.tar\.gz" does not exist in the repo$/.source, /^jobs\/search\.yaml:8:21: file/.source],
    },
    {
      name: 'dangling health port',
      changes: edit('jobs/frontend.yaml', 'http: { port: http, path: /health }', 'http: { port: admin, path: /health }'),
      expected: ['jobs/frontend.yaml:18:27: health check port "admin" is not one of the job\'s ports (http)'],
    },
    {
      name: 'unknown template variable',
      changes: edit('jobs/frontend.yaml', '{{host.ip}}', '{{host.address}}'),
      expected: ['jobs/frontend.yaml:14:17: unknown field "address" in "host.address" (host has name, ip, labels)'],
    },
    {
      name: 'a template reading a label some hosts lack',
      changes: { ...edit('jobs/frontend.yaml', 'listen: {{host.ip}}', 'rack: {{host.labels.rack}}\n        listen: {{host.ip}}'), ...edit('hosts.yaml', 'spec: { ip: 10.0.1.1, labels: { idc: b, rack: r1 } }', 'spec: { ip: 10.0.1.1, labels: { idc: b } }') },
      expected: ['jobs/frontend.yaml:14:17: the template reads host.labels.rack, but host(s) web-b1 of the job\'s tree node have no label "rack"'],
    },
    {
      name: 'a job with no tree node',
      changes: edit('jobs/search.yaml', 'tag: cop.acme_owt.shop_pdl.web_cluster.prod_service', 'tag: cop.acme_owt.shop_pdl.api_cluster.prod_service'),
      expected: ['jobs/search.yaml:5:8: no TreeNode at or above tag "cop.acme_owt.shop_pdl.api_cluster.prod_service.search_job.search": the job has no hosts to run on'],
    },
    {
      name: 'port clash between jobs that can share a host',
      changes: edit('jobs/search.yaml', 'http: 8090', 'http: 8080'),
      expected: ['jobs/search.yaml:10:18: port 8080 clashes with port "http" of job frontend (jobs/frontend.yaml): both can run on web-a1, web-a2, web-b1 and 1 more'],
    },
    {
      name: 'VIP clash',
      changes: { 'services2.yaml': 'apiVersion: ygg/v1\nkind: Service\nmetadata: { name: acme.shop.search }\nspec:\n  job: search\n  port: http\n  vip: { address: 10.0.100.1, port: 80, lbKind: NAT }\n  directors: [lvs-a1]\n' },
      expected: ['services2.yaml:7:19: vip 10.0.100.1:80/TCP is already used by service acme.shop.www'],
    },
    {
      name: 'duplicate job name',
      changes: { 'jobs/copy.yaml': edit('jobs/search.yaml', 'version: 2.1.0', 'version: 2.1.1')['jobs/search.yaml']! },
      expected: [/^jobs\/search\.yaml:4:9: duplicate job "search": already declared in jobs\/copy\.yaml$|^jobs\/copy\.yaml/.source],
    },
    {
      name: 'duplicate host ip',
      changes: edit('hosts.yaml', 'ip: 10.0.0.2', 'ip: 10.0.0.1'),
      expected: ['hosts.yaml:9:13: ip 10.0.0.1 is also the ip of host web-a1 (hosts.yaml)'],
    },
    {
      name: 'path traversal in a config path',
      changes: edit('jobs/frontend.yaml', 'path: conf/app.yaml', 'path: ../../etc/passwd'),
      expected: [/^jobs\/frontend\.yaml:13:13: spec\.configs\[0\]\.path: "\.\.\/\.\.\/etc\/passwd" is not allowed/.source],
    },
    {
      name: 'absolute dependency path',
      changes: edit('jobs/search.yaml', 'path: dict/words.txt', 'path: /etc/words.txt'),
      expected: [/^jobs\/search\.yaml:12:15: spec\.dependencies\[0\]\.path: "\/etc\/words\.txt" is not allowed/.source],
    },
    {
      name: 'label value that could break out of a config file',
      changes: edit('hosts.yaml', 'rack: r2', 'rack: "r2\\" }"'),
      expected: [/^hosts\.yaml:9:47: spec\.labels\.rack: "r2\\" }" is not allowed/.source],
    },
  ];

  for (const testCase of cases) {
    it(testCase.name, () => assertFindings(testCase.changes, testCase.expected));
  }

  it('reports every problem at once, sorted by file and line', async () => {
    const findings = await findingsOf({
      ...edit('services.yaml', 'job: frontend', 'job: nope'),
      ...edit('jobs/search.yaml', '  replicas: 2', '  replicas: 2\n  colour: blue'),
      'extra.yaml': '',
    });
    assert.deepEqual(findings.map((line) => line.split(': ')[0]), ['extra.yaml:1:1', 'jobs/search.yaml:14:3', 'services.yaml:5:8']);
  });
});
