import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Host, Job } from '../../src/model/types.js';
import { instanceDirs, renderInstance, TemplateRenderError } from '../../src/plan/render-instance.js';
import { checkTemplate, jobTemplateVariables, templateLabels } from '../../src/repo/check-template.js';

const VARIABLES = { portNames: ['http', 'admin'] };
const check = (template: string) => checkTemplate(template, VARIABLES);

/** Asserts exactly one problem, matching `pattern`. */
function assertOneProblem(template: string, pattern: RegExp) {
  const problems = check(template);
  assert.equal(problems.length, 1, `${template}: ${JSON.stringify(problems)}`);
  assert.match(problems[0]!, pattern);
}

test('every documented variable passes', () => {
  const template = [
    'listen: {{host.ip}}:{{ports.http}}',
    'admin: {{ports.admin}}',
    'name: {{host.name}} idc: {{host.labels.idc}}',
    'job: {{job.name}} {{job.tag}} {{job.version}}',
    'dirs: {{dirs.release}} {{dirs.data}} {{dirs.log}}',
    'tags: {{tags.cop}} {{tags.owt}} {{tags.pdl}} {{tags.cluster}} {{tags.servicegroup}} {{tags.service}} {{tags.job}}',
    'raw: {{{host.ip}}}',
  ].join('\n');
  assert.deepEqual(check(template), []);
});

test('plain text and comments pass', () => {
  assert.deepEqual(check('no variables at all\n'), []);
  assert.deepEqual(check('{{! a comment naming {bogus} }}x'), []);
  assert.deepEqual(check(''), []);
});

test('a label loop with @key and this passes', () => {
  assert.deepEqual(check('{{#each host.labels}}{{@key}}={{this}}{{/each}}'), []);
});

test('#if / #unless / #with on known variables pass', () => {
  assert.deepEqual(check('{{#if host.labels.zone}}zone={{host.labels.zone}}{{else}}none{{/if}}'), []);
  assert.deepEqual(check('{{#unless ports.admin}}no admin{{/unless}}'), []);
  assert.deepEqual(check('{{#with host}}{{name}}{{/with}}'), []);
});

test('an unknown root variable is reported, listing the known ones', () => {
  assertOneProblem('{{hots.ip}}', /^unknown template variable "hots.ip" \(known: host, job, dirs, tags, ports\)$/);
  assertOneProblem('{{ip}}', /unknown template variable "ip"/);
});

test('an unknown field is reported, listing the fields', () => {
  assertOneProblem('{{host.address}}', /^unknown field "address" in "host.address" \(host has name, ip, labels\)$/);
  assertOneProblem('{{job.owner}}', /unknown field "owner" in "job.owner"/);
  assertOneProblem('{{dirs.tmp}}', /unknown field "tmp" in "dirs.tmp"/);
  assertOneProblem('{{tags.team}}', /unknown field "team" in "tags.team"/);
});

test('an unknown port is reported with the job\'s ports', () => {
  assertOneProblem('{{ports.grpc}}', /^unknown port "grpc" in "ports.grpc" \(ports: http, admin\)$/);
  assert.match(checkTemplate('{{ports.http}}', { portNames: [] })[0]!, /\(ports: none\)/);
});

test('a root that needs a field is reported when used bare', () => {
  assertOneProblem('{{job}}', /"job" is an object: name one of its fields \(name, tag, version\)/);
  assertOneProblem('{{dirs}}', /"dirs" is an object: name one of its fields/);
});

test('a path deeper than the variable is reported', () => {
  assertOneProblem('{{host.ip.octet}}', /"host.ip.octet" goes deeper than the variable/);
  assertOneProblem('{{host.labels.idc.x}}', /"host.labels.idc.x" goes deeper/);
  assertOneProblem('{{ports.http.x}}', /"ports.http.x" goes deeper/);
});

test('helpers with params or hash arguments are reported', () => {
  assertOneProblem('{{upper host.name}}', /^unknown helper "upper"/);
  assertOneProblem('{{lookup host.labels "idc"}}', /unknown helper "lookup"/);
  assertOneProblem('{{format value=1}}', /unknown helper "format"/);
});

test('partials and decorators are reported', () => {
  assertOneProblem('{{> header}}', /partials and decorators are not allowed/);
  assertOneProblem('{{#> layout}}x{{/layout}}', /partials and decorators are not allowed/);
});

test('an unknown block helper is reported', () => {
  assertOneProblem('{{#repeat 3}}x{{/repeat}}', /^unknown block helper "#repeat" \(allowed: #if, #unless, #each, #with\)$/);
});

test('variables inside blocks are checked: the condition, the body of #if and the else branch', () => {
  assertOneProblem('{{#if host.adress}}x{{/if}}', /unknown field "adress"/);
  assertOneProblem('{{#if host.ip}}{{ports.grpc}}{{/if}}', /unknown port "grpc"/);
  assertOneProblem('{{#each host.labels}}{{@key}}{{else}}{{hots.name}}{{/each}}', /unknown template variable "hots.name"/);
});

test('every problem in a template is reported, in order', () => {
  assert.deepEqual(check('{{hots.ip}} {{ports.grpc}} {{host.adress}}'), [
    'unknown template variable "hots.ip" (known: host, job, dirs, tags, ports)',
    'unknown port "grpc" in "ports.grpc" (ports: http, admin)',
    'unknown field "adress" in "host.adress" (host has name, ip, labels)',
  ]);
});

test('a syntax error is reported as one problem instead of thrown', () => {
  const problems = check('{{#if host.ip}}unclosed');
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /^template syntax: /);
  assertOneProblem('{{host.ip', /^template syntax: /);
});

test('checkTemplate: objects printed whole are reported, block params are not', () => {
  const variables = { portNames: ['http'] };
  assert.deepEqual(checkTemplate('{{host}}', variables), ['"host" is an object: name one of its fields (name, ip, labels)']);
  assert.deepEqual(checkTemplate('{{ports}}', variables), ['"ports" is an object: name one of its fields (ports: http)']);
  assert.deepEqual(checkTemplate('{{host.labels}}', variables), ['"host.labels" is an object: name a label, e.g. host.labels.idc']);
  assert.deepEqual(checkTemplate('{{#each ports}}{{@key}}={{this}} {{/each}}{{#if host.labels}}x{{/if}}', variables), []);
});

test('tags: only the levels the job tag has', () => {
  const variables = { portNames: [], tagLevels: ['cop', 'owt', 'pdl', 'cluster', 'service', 'job'] };
  assert.deepEqual(checkTemplate('{{tags.cluster}}', variables), []);
  assert.deepEqual(checkTemplate('{{tags.servicegroup}}', variables), ['the job\'s tag has no level "servicegroup" in "tags.servicegroup" (levels: cop, owt, pdl, cluster, service, job)']);
});

test('names from Object.prototype are unknown variables, not a crash', () => {
  for (const name of ['toString', 'constructor', 'valueOf', 'hasOwnProperty', '__proto__', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString', '__defineGetter__']) {
    assertOneProblem(`{{${name}}}`, new RegExp(`^unknown template variable "${name}" \\(known: host, job, dirs, tags, ports\\)$`));
    assertOneProblem(`{{${name}.x}}`, /^unknown template variable/);
    assertOneProblem(`{{#with ${name}}}x{{/with}}`, /^unknown template variable/);
  }
  assertOneProblem('{{host.constructor}}', /^unknown field "constructor" in "host.constructor" \(host has name, ip, labels\)$/);
  assertOneProblem('{{ports.constructor}}', /^unknown port "constructor"/);
  assertOneProblem('{{tags.toString}}', /^unknown field "toString"/);
  assertOneProblem('{{dirs.__proto__}}', /^unknown field "__proto__"/);
});

test('inside #each and #with, paths are checked against the context the block sets', () => {
  assertOneProblem('{{#each ports}}{{foo}}{{/each}}', /^"foo" the context here is a single value$/);
  assertOneProblem('{{#with host}}{{name}} {{nope}}{{/with}}', /^unknown field "nope" in "nope" \(host has name, ip, labels\)$/);
  assertOneProblem('{{#with host}}{{labels}}{{/with}}', /"labels" is an object: name a label/);
  assertOneProblem('{{#with ports}}{{grpc}}{{/with}}', /^unknown port "grpc"/);
  assertOneProblem('{{#each ports}}{{this.x}}{{/each}}', /the context here is a single value/);
  assert.deepEqual(check('{{#each ports}}{{../host.ip}}:{{this}} {{@key}} {{@index}} {{@first}} {{@last}}{{/each}}'), []);
  assert.deepEqual(check('{{#with job}}{{name}} {{#with ../host}}{{ip}} {{../../dirs.log}}{{/with}}{{/with}}'), []);
  assert.deepEqual(check('{{#each host}}{{this}}{{/each}}'), [], 'a record of mixed fields: not checked inside');
});

test('block params are typed like the context they stand for', () => {
  assert.deepEqual(check('{{#each ports as |port name|}}{{name}}={{port}} {{/each}}{{#with host as |h|}}{{h.ip}}{{/with}}'), []);
  assertOneProblem('{{#each ports as |p|}}{{p.x}}{{/each}}', /^"p.x" goes deeper than the variable$/);
  assertOneProblem('{{#with host as |h|}}{{h.ip}}{{h.nope}}{{/with}}', /^unknown field "nope" in "h.nope"/);
  assertOneProblem('{{#each ports as |p|}}{{this.p}}{{/each}}', /the context here is a single value/);
});

test('../ above the template, and @data outside #each, are reported', () => {
  assertOneProblem('{{../host.ip}}', /^"..\/host.ip" steps above the template's context/);
  assertOneProblem('{{#if host.ip}}{{../host.ip}}{{/if}}', /steps above/);
  assertOneProblem('{{#each ports}}{{../../host.ip}}{{/each}}', /steps above/);
  assertOneProblem('{{@key}}', /^"@key" is only set inside #each$/);
  assertOneProblem('{{#each ports}}{{@../key}}{{/each}}', /only set inside 2 nested #each/);
  assertOneProblem('{{@foo}}', /^unknown data variable "@foo"/);
  assertOneProblem('{{@root.nope}}', /^unknown template variable "@root.nope"/);
  assert.deepEqual(check('{{@root.host.ip}}{{#each ports}}{{@root.job.name}}{{/each}}'), []);
});

test('literals, subexpressions and wrong argument counts are reported', () => {
  assertOneProblem('{{"text"}}', /is a literal/);
  assertOneProblem('{{5}}', /is a literal/);
  assertOneProblem('{{true}}', /is a literal/);
  assertOneProblem('{{#if (host.ip)}}x{{/if}}', /^subexpression "\(host.ip \.\.\.\)" calls a helper/);
  assertOneProblem('{{#each}}x{{/each}}', /^#each takes exactly one argument, found 0$/);
  assertOneProblem('{{#if host.ip ports.http}}x{{/if}}', /^#if takes exactly one argument, found 2$/);
  assertOneProblem('{{#each host.ip}}x{{/each}}', /^#each over "host.ip", a single value, renders nothing/);
  assertOneProblem('{{this}}', /^"this" is the whole context/);
  assert.deepEqual(check('{{#if true}}x{{/if}}'), []);
});

test('a label read only under #if of that label is not required of every host', () => {
  assert.deepEqual(templateLabels('{{#if host.labels.zone}}zone={{host.labels.zone}}{{/if}}', VARIABLES), []);
  assert.deepEqual(templateLabels('{{#unless host.labels.zone}}none{{else}}{{host.labels.zone}}{{/unless}}', VARIABLES), []);
  assert.deepEqual(templateLabels('{{#if host.labels.zone}}{{host.labels.rack}}{{else}}{{host.labels.zone}}{{/if}}', VARIABLES), ['rack', 'zone']);
  assert.deepEqual(templateLabels('{{#with host}}{{labels.idc}}{{/with}}{{#with host.labels as |l|}}{{l.rack}}{{/with}}', VARIABLES), ['idc', 'rack']);
});

/** A job and a host that has exactly the labels the template reads, rendered as the agent does. */
function renderOnHost(template: string): string {
  const job: Job = {
    name: 'web',
    tag: 'cop.acme_owt.shop_pdl.web_cluster.prod_service.www_job.web',
    spec: {
      version: '1.0.0',
      artifact: { url: 'https://example.com/a.tar.gz', sha256: '0'.repeat(64) },
      command: ['bin/web'],
      env: {},
      ports: { http: 8080, admin: 8081 },
      configs: [{ path: 'conf/a', template }],
      dependencies: [],
      cron: [],
      rollout: { maxParallel: 1, minHealthySeconds: 0, autoRevert: true, progressDeadlineSeconds: 60, drainSeconds: 2 },
    },
    origin: { file: 'jobs/web.yaml', docIndex: 0 },
  };
  const labels = Object.fromEntries(templateLabels(template, jobTemplateVariables(job)).map((label) => [label, 'x']));
  const host: Host = { name: 'web-1', ip: '10.0.0.1', labels, state: 'online', origin: { file: 'hosts.yaml', docIndex: 0 } };
  return renderInstance(job, host, instanceDirs('/var/lib/ygg', 'web')).configs[0]!.content;
}

test('the checker agrees with the renderer: what passes renders, what it reports throws', () => {
  const variables = { portNames: ['http', 'admin'], tagLevels: ['cop', 'owt', 'pdl', 'cluster', 'service', 'job'] };
  const passing = [
    '{{#each ports}}{{../host.ip}}:{{this}} {{@key}}{{/each}}',
    '{{#with host}}{{name}} {{labels.idc}}{{/with}}',
    '{{#each ports as |port name|}}{{name}}={{port}}{{/each}}',
    '{{#if host.labels.zone}}{{host.labels.zone}}{{else}}none{{/if}}',
    '{{@root.tags.cluster}} {{#each host.labels}}{{@key}}={{this}}{{/each}}',
    '{{#with job}}{{#with ../dirs}}{{log}} {{../../ports.admin}}{{/with}}{{/with}}',
  ];
  for (const template of passing) {
    assert.deepEqual(checkTemplate(template, variables), [], template);
    assert.doesNotThrow(() => renderOnHost(template), template);
  }
  const throwing = [
    '{{#each ports}}{{foo}}{{/each}}',
    '{{#with host}}{{nope}}{{/with}}',
    '{{../host.ip}}',
    '{{#if host.ip}}{{../job.name}}{{/if}}',
    '{{@key}}',
    '{{"text"}}',
    '{{#each}}x{{/each}}',
    '{{#if host.ip job.name}}x{{/if}}',
    '{{#if (host.ip)}}x{{/if}}',
    '{{#each ports as |p|}}{{this.p}}{{/each}}',
    '{{#with ports}}{{grpc}}{{/with}}',
    '{{tags.servicegroup}}',
    '{{#each ports}}{{#with ../host}}{{../job.name}}{{/with}}{{/each}}',
  ];
  for (const template of throwing) {
    assert.notDeepEqual(checkTemplate(template, variables), [], template);
    assert.throws(() => renderOnHost(template), TemplateRenderError, template);
  }
});

test('{{secret "name"}} passes; a malformed secret call is a problem that says how to write it', () => {
  assert.deepEqual(check('password: {{secret "db-password"}}\ntoken: {{{secret "api.token_2"}}}'), []);
  assertOneProblem('{{secret host.name}}', /secret needs a quoted name, not the variable "host.name"/);
  assertOneProblem('{{secret (lookup "x")}}', /secret needs a quoted name, not an expression/);
  assertOneProblem('{{secret "Db/Password"}}', /secret name "Db\/Password" is invalid/);
  assertOneProblem('{{secret ""}}', /secret name "" is invalid/);
  assertOneProblem('{{secret "a" "b"}}', /secret takes exactly one quoted name/);
  assertOneProblem('{{secret name="a"}}', /secret takes exactly one quoted name/);
});
