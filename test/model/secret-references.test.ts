import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jobSecrets, templateSecrets } from '../../src/model/secret-references.js';
import { job } from '../fixtures/model-builder.js';

test('a template references the secrets its {{secret}} statements name, sorted and once each', () => {
  assert.deepEqual(templateSecrets('a: {{secret "db-password"}}\nb: {{{secret "api.token"}}}\nc: {{secret "db-password"}}'), ['api.token', 'db-password']);
  assert.deepEqual(templateSecrets('{{#if host.labels.idc}}{{secret "in-block"}}{{else}}{{secret "in-else"}}{{/if}}'), ['in-block', 'in-else']);
});

test('comments, plain text and malformed calls reference nothing', () => {
  assert.deepEqual(templateSecrets('{{!-- {{secret "commented"}} --}} secret "text"'), []);
  assert.deepEqual(templateSecrets('{{secret host.name}} {{secret "Bad/Name"}} {{secret "a" "b"}}'), []);
  assert.deepEqual(templateSecrets('{{secret "unclosed"'), []);
});

test('a job references the secrets of its configs and env, not of its argv', () => {
  const spec = job('api', {
    command: ['bin/api', '{{secret "in-argv"}}'],
    env: { DB_PASSWORD: '{{secret "db-password"}}', PLAIN: 'x' },
    configs: [{ path: 'conf/a.yaml', template: 'token: {{secret "api-token"}}' }],
  }).spec;
  assert.deepEqual(jobSecrets(spec), ['api-token', 'db-password']);
});
