import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkTemplate } from '../../src/repo/check-template.js';

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
