import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_AGENT_ROOT, instanceDirs, renderInstance, TemplateRenderError } from '../../src/plan/render-instance.js';
import { host, job } from '../fixtures/model-builder.js';

const TAG = 'cop.xiaomi_owt.miliao_pdl.im_cluster.production-lg_service.mipush_job.dispatcher';
const HOST = host('lg-im-01', { ip: '10.1.0.11', labels: { idc: 'lg', rack: 'r01' } });
const DIRS = instanceDirs('/srv/ygg', 'dispatcher');

/** Asserts the call throws a TemplateRenderError for this job, host and place. */
function assertRenderError(call: () => unknown, where: string, variable: string) {
  assert.throws(call, (error: unknown) => {
    assert.ok(error instanceof TemplateRenderError, `expected TemplateRenderError, got ${String(error)}`);
    assert.equal(error.code, 'E_TEMPLATE_RENDER');
    assert.equal(error.job, 'dispatcher');
    assert.equal(error.host, 'lg-im-01');
    assert.equal(error.where, where);
    assert.ok(error.message.startsWith(`job dispatcher on host lg-im-01: ${where}: `), error.message);
    assert.ok(error.message.includes(`"${variable}"`), error.message);
    return true;
  });
}

test('instanceDirs lays a job out under the agent root', () => {
  assert.deepEqual(instanceDirs('/srv/ygg', 'api'), { release: '/srv/ygg/jobs/api/current', data: '/srv/ygg/data/api', log: '/srv/ygg/log/api' });
  assert.equal(DEFAULT_AGENT_ROOT, '/var/lib/ygg');
});

test('renders command, configs and cron with host, job, ports, dirs, tags and labels', () => {
  const spec = renderInstance(
    job('dispatcher', {
      tag: TAG,
      version: '1.4.2',
      command: ['bin/dispatcher', '--port', '{{ports.http}}', '--name={{job.name}}@{{host.name}}', '--data', '{{dirs.data}}'],
      env: { LOG_LEVEL: 'info' },
      ports: { http: 8080, admin: 9090 },
      configs: [
        {
          path: 'conf/app.yaml',
          mode: '0600',
          template: 'listen: {{host.ip}}:{{ports.http}}\nadmin: {{ports.admin}}\nidc: {{host.labels.idc}}\ncluster: {{tags.cluster}}\nservice: {{tags.service}}\nversion: {{job.version}}\ntag: {{job.tag}}\nrelease: {{dirs.release}}\n',
        },
        { path: 'conf/static.txt', template: 'no variables here\n' },
      ],
      cron: [{ name: 'clean-logs', schedule: '0 * * * *', command: ['find', '{{dirs.log}}', '-mtime', '+7', '-delete'], timeoutSeconds: 60 }],
    }),
    HOST,
    DIRS,
  );
  assert.deepEqual(spec.command, ['bin/dispatcher', '--port', '8080', '--name=dispatcher@lg-im-01', '--data', '/srv/ygg/data/dispatcher']);
  assert.deepEqual(spec.configs, [
    {
      path: 'conf/app.yaml',
      mode: '0600',
      content: `listen: 10.1.0.11:8080\nadmin: 9090\nidc: lg\ncluster: production-lg\nservice: mipush\nversion: 1.4.2\ntag: ${TAG}\nrelease: /srv/ygg/jobs/dispatcher/current\n`,
    },
    { path: 'conf/static.txt', content: 'no variables here\n' },
  ]);
  assert.deepEqual(spec.cron, [{ name: 'clean-logs', schedule: '0 * * * *', command: ['find', '/srv/ygg/log/dispatcher', '-mtime', '+7', '-delete'], timeoutSeconds: 60 }]);
  assert.equal(spec.job, 'dispatcher');
  assert.equal(spec.tag, TAG);
  assert.equal(spec.version, '1.4.2');
  assert.deepEqual(spec.env, { LOG_LEVEL: 'info' });
  assert.deepEqual(spec.ports, { http: 8080, admin: 9090 });
});

test('the parsed tag levels include servicegroup when the tag has one', () => {
  const tag = 'cop.xiaomi_owt.miliao_pdl.im_cluster.c1_servicegroup.push_service.mipush_job.dispatcher';
  const spec = renderInstance(job('dispatcher', { tag, command: ['{{tags.cop}}/{{tags.owt}}/{{tags.pdl}}/{{tags.servicegroup}}/{{tags.job}}'] }), HOST, DIRS);
  assert.deepEqual(spec.command, ['xiaomi/miliao/im/push/dispatcher']);
});

test('each host gets its own values', () => {
  const dispatcher = job('dispatcher', { tag: TAG, configs: [{ path: 'a.conf', template: 'ip={{host.ip}} rack={{host.labels.rack}}' }] });
  const other = host('lg-im-02', { ip: '10.1.0.12', labels: { idc: 'lg', rack: 'r02' } });
  assert.equal(renderInstance(dispatcher, HOST, DIRS).configs[0]!.content, 'ip=10.1.0.11 rack=r01');
  assert.equal(renderInstance(dispatcher, other, DIRS).configs[0]!.content, 'ip=10.1.0.12 rack=r02');
});

test('a label loop renders every label', () => {
  const spec = renderInstance(job('dispatcher', { tag: TAG, configs: [{ path: 'labels', template: '{{#each host.labels}}{{@key}}={{this}};{{/each}}' }] }), HOST, DIRS);
  assert.equal(spec.configs[0]!.content, 'idc=lg;rack=r01;');
});

test('rendering does no HTML escaping', () => {
  const tricky = host('lg-im-01', { ip: '10.1.0.11', labels: { idc: `a&b<c>"d"'e\`` } });
  const spec = renderInstance(
    job('dispatcher', { tag: TAG, command: ['--label={{host.labels.idc}}'], configs: [{ path: 'x.xml', template: '<host idc="{{host.labels.idc}}" />&amp;' }] }),
    tricky,
    DIRS,
  );
  assert.deepEqual(spec.command, [`--label=a&b<c>"d"'e\``]);
  assert.equal(spec.configs[0]!.content, `<host idc="a&b<c>"d"'e\`" />&amp;`);
});

test('optional spec parts are carried over only when present', () => {
  const bare = renderInstance(job('dispatcher', { tag: TAG }), HOST, DIRS);
  assert.equal('health' in bare, false);
  assert.equal('resources' in bare, false);
  const health = { http: { port: 'http', path: '/health' }, intervalSeconds: 5, timeoutSeconds: 2 };
  const full = renderInstance(job('dispatcher', { tag: TAG, health, resources: { memoryMB: 512, cpu: 1 } }), HOST, DIRS);
  assert.deepEqual(full.health, health);
  assert.deepEqual(full.resources, { memoryMB: 512, cpu: 1 });
});

test('a missing variable in a config throws TemplateRenderError naming job, host and file', () => {
  assertRenderError(
    () => renderInstance(job('dispatcher', { tag: TAG, ports: { http: 8080 }, configs: [{ path: 'conf/app.yaml', template: 'listen: {{ports.grpc}}' }] }), HOST, DIRS),
    'conf/app.yaml',
    'grpc',
  );
});

test('a missing label throws rather than rendering an empty string', () => {
  assertRenderError(
    () => renderInstance(job('dispatcher', { tag: TAG, configs: [{ path: 'conf/app.yaml', template: 'zone: {{host.labels.zone}}' }] }), HOST, DIRS),
    'conf/app.yaml',
    'zone',
  );
});

test('a missing variable in the command or a cron task names the argument', () => {
  assertRenderError(() => renderInstance(job('dispatcher', { tag: TAG, command: ['bin/x', '--port', '{{ports.http}}'] }), HOST, DIRS), 'command[2]', 'http');
  assertRenderError(
    () => renderInstance(job('dispatcher', { tag: TAG, cron: [{ name: 'rotate', schedule: '@daily', command: ['rotate', '{{dirs.tmp}}'] }] }), HOST, DIRS),
    'cron rotate command[1]',
    'tmp',
  );
});

test('an optional label can be guarded with #if', () => {
  const template = '{{#if host.labels.zone}}zone: {{host.labels.zone}}{{else}}no zone{{/if}}';
  const dispatcher = job('dispatcher', { tag: TAG, configs: [{ path: 'z', template }] });
  assert.equal(renderInstance(dispatcher, HOST, DIRS).configs[0]!.content, 'no zone');
  assert.equal(renderInstance(dispatcher, host('z1', { labels: { zone: 'z9' } }), DIRS).configs[0]!.content, 'zone: z9');
});

test('secrets render from the values given into configs and env; without values the reference shows as a mark', () => {
  const withSecrets = job('dispatcher', {
    tag: TAG,
    env: { DB_PASSWORD: '{{secret "db-password"}}', LISTEN: '{{host.ip}}' },
    configs: [{ path: 'conf/db.yaml', template: 'password: {{secret "db-password"}}\n' }],
  });
  const values = new Map([['db-password', 's3cr3t']]);
  const rendered = renderInstance(withSecrets, HOST, DIRS, (name) => values.get(name)!);
  assert.deepEqual(rendered.env, { DB_PASSWORD: 's3cr3t', LISTEN: '10.1.0.11' });
  assert.equal(rendered.configs[0]!.content, 'password: s3cr3t\n');
  const shown = renderInstance(withSecrets, HOST, DIRS);
  assert.equal(shown.env.DB_PASSWORD, '<secret db-password>');
  assert.equal(shown.configs[0]!.content, 'password: <secret db-password>\n');
});
