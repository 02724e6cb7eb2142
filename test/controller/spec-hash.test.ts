import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeSpecHash, hashInstanceSpec, hashJobSpec } from '../../src/controller/spec-hash.js';
import type { JobSpec } from '../../src/model/types.js';
import { host, job } from '../fixtures/model-builder.js';

const SHA256_HEX = /^[0-9a-f]{64}$/;

const WEB_HOST = host('lg-1', { ip: '10.0.0.11', labels: { idc: 'lg', rack: 'r01' } });
const hostFacts = { name: 'lg-1', ip: '10.0.0.11', labels: { idc: 'lg', rack: 'r01' } };

/** A spec that uses every kind of field, so a change to any of them can be tried. */
function webSpec(): JobSpec {
  return job('web', {
    ports: { http: 8080, admin: 8081 },
    env: { LOG_LEVEL: 'info', REGION: 'lg' },
    configs: [{ path: 'conf/app.yaml', template: 'listen: {{host.ip}}:{{ports.http}}\n' }],
    dependencies: [{ path: 'dict/words.txt', source: 'files/words.txt', sha256: 'b'.repeat(64) }],
    cron: [{ name: 'clean-logs', schedule: '0 * * * *', command: ['find', '{{dirs.log}}', '-delete'] }],
    health: { http: { port: 'http', path: '/health' }, intervalSeconds: 5, timeoutSeconds: 2 },
  }).spec;
}

/** The same data with every object's keys inserted in reverse order. */
function reverseKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(reverseKeys) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .reverse()
        .map((key) => [key, reverseKeys((value as Record<string, unknown>)[key])]),
    ) as T;
  }
  return value;
}

const TAG = job('web').tag;
const baseHash = () => computeSpecHash('web', TAG, hostFacts, webSpec());

test('hashInstanceSpec returns the host facts, the job spec itself and the sha256 from computeSpecHash', () => {
  const web = job('web', webSpec());
  const hashed = hashInstanceSpec(web, WEB_HOST);
  assert.deepEqual(hashed.host, hostFacts);
  assert.equal(hashed.spec, web.spec);
  assert.match(hashed.specHash, SHA256_HEX);
  assert.equal(hashed.specHash, computeSpecHash('web', web.tag, hostFacts, web.spec));
  assert.equal(hashed.specHash, baseHash());
});

test('the host state and document origin are not part of the instance hash', () => {
  const web = job('web', webSpec());
  const maintenance = host('lg-1', { ip: '10.0.0.11', labels: { idc: 'lg', rack: 'r01' }, state: 'maintenance' });
  assert.notDeepEqual(maintenance.origin, WEB_HOST.origin);
  assert.equal(hashInstanceSpec(web, maintenance).specHash, hashInstanceSpec(web, WEB_HOST).specHash);
});

test('computeSpecHash is stable across the key order of the spec and the host facts', () => {
  const reversedHost = { labels: { rack: 'r01', idc: 'lg' }, ip: '10.0.0.11', name: 'lg-1' };
  assert.deepEqual(Object.keys(reverseKeys(webSpec())), Object.keys(webSpec()).reverse());
  assert.equal(computeSpecHash('web', TAG, reversedHost, reverseKeys(webSpec())), baseHash());
});

test('computeSpecHash differs for a different host ip, label, host name, job name or tag', () => {
  const variants: Record<string, string> = {
    ip: computeSpecHash('web', TAG, { ...hostFacts, ip: '10.0.0.12' }, webSpec()),
    labelValue: computeSpecHash('web', TAG, { ...hostFacts, labels: { idc: 'lg', rack: 'r02' } }, webSpec()),
    labelAdded: computeSpecHash('web', TAG, { ...hostFacts, labels: { idc: 'lg', rack: 'r01', role: 'im' } }, webSpec()),
    hostName: computeSpecHash('web', TAG, { ...hostFacts, name: 'lg-2' }, webSpec()),
    jobName: computeSpecHash('web2', TAG, hostFacts, webSpec()),
    tag: computeSpecHash('web', `${TAG}x`, hostFacts, webSpec()),
  };
  const hashes = [baseHash(), ...Object.values(variants)];
  assert.equal(new Set(hashes).size, hashes.length, JSON.stringify(variants));
});

test('computeSpecHash differs for a change to any field the agent runs', () => {
  const base = webSpec();
  const changed: Record<string, JobSpec> = {
    version: { ...base, version: '1.0.1' },
    artifact: { ...base, artifact: { ...base.artifact, sha256: 'c'.repeat(64) } },
    command: { ...base, command: [...base.command, '--verbose'] },
    env: { ...base, env: { ...base.env, LOG_LEVEL: 'debug' } },
    ports: { ...base, ports: { ...base.ports, http: 8090 } },
    configs: { ...base, configs: [{ path: 'conf/app.yaml', template: 'listen: 0.0.0.0:{{ports.http}}\n' }] },
    dependencies: { ...base, dependencies: [] },
    cron: { ...base, cron: [{ name: 'clean-logs', schedule: '30 * * * *', command: ['find', '{{dirs.log}}', '-delete'] }] },
    health: { ...base, health: { http: { port: 'http', path: '/ready' }, intervalSeconds: 5, timeoutSeconds: 2 } },
    resources: { ...base, resources: { memoryMB: 512 } },
  };
  const hashes = [baseHash(), ...Object.values(changed).map((spec) => computeSpecHash('web', TAG, hostFacts, spec))];
  assert.equal(new Set(hashes).size, hashes.length);
});

test('a change to the rollout policy alone changes neither the instance hash nor the job hash', () => {
  const base = webSpec();
  const rolledDifferently: JobSpec = { ...base, rollout: { maxParallel: 5, minHealthySeconds: 60, autoRevert: false, progressDeadlineSeconds: 900, drainSeconds: 0 } };
  assert.notDeepEqual(rolledDifferently.rollout, base.rollout);
  assert.equal(computeSpecHash('web', TAG, hostFacts, rolledDifferently), baseHash());
  assert.equal(hashInstanceSpec(job('web', rolledDifferently), WEB_HOST).specHash, baseHash());
  assert.equal(hashJobSpec(job('web', rolledDifferently)), hashJobSpec(job('web', base)));
});

test('a change to the replica count alone changes neither the instance hash nor the job hash', () => {
  // Scaling a job from 2 to 3 replicas must add one instance, not restart the two that run.
  const two = job('worker', { ...webSpec(), replicas: 2 });
  const three = job('worker', { ...webSpec(), replicas: 3 });
  assert.equal(hashInstanceSpec(three, WEB_HOST).specHash, hashInstanceSpec(two, WEB_HOST).specHash);
  assert.equal(hashJobSpec(three), hashJobSpec(two));
  assert.equal(hashJobSpec(three), hashJobSpec(job('worker', webSpec())));
});

test('hashInstanceSpec is remembered per (job, host) object: the very same object comes back', () => {
  const web = job('web', webSpec());
  const first = hashInstanceSpec(web, WEB_HOST);
  assert.equal(hashInstanceSpec(web, WEB_HOST), first);
  // An equal but distinct host object is a different key: equal hash, new object.
  const twin = host('lg-1', { ip: '10.0.0.11', labels: { idc: 'lg', rack: 'r01' } });
  const forTwin = hashInstanceSpec(web, twin);
  assert.notEqual(forTwin, first);
  assert.equal(forTwin.specHash, first.specHash);
  // Another host of the same job gets its own entry.
  const other = hashInstanceSpec(web, host('lg-2', { ip: '10.0.0.12', labels: { idc: 'lg', rack: 'r01' } }));
  assert.notEqual(other.specHash, first.specHash);
  assert.equal(hashInstanceSpec(web, WEB_HOST), first);
});

test('hashJobSpec is a sha256 independent of hosts, stable across key order, and not an instance hash', () => {
  const web = job('web', webSpec());
  const hash = hashJobSpec(web);
  assert.match(hash, SHA256_HEX);
  assert.equal(hashJobSpec(web), hash);
  assert.equal(hashJobSpec(job('web', reverseKeys(webSpec()))), hash);
  assert.notEqual(hash, hashInstanceSpec(web, WEB_HOST).specHash);
});

test('hashJobSpec differs for a different spec, job name or tag', () => {
  const base = webSpec();
  const hashes = [
    hashJobSpec(job('web', base)),
    hashJobSpec(job('web', { ...base, version: '2.0.0' })),
    hashJobSpec(job('web', { ...base, env: { ...base.env, REGION: 'zw' } })),
    hashJobSpec(job('web2', base)),
    hashJobSpec(job('web', { ...base, tag: `${TAG}x` })),
  ];
  assert.equal(new Set(hashes).size, hashes.length);
});
