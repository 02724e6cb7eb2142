import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isSecretEnv, isSecretName, mentionsSecret } from '../../src/model/secret-values.js';

test('secret names by the words people give them, whatever the case', () => {
  for (const name of ['DB_PASSWORD', 'passwd', 'API_TOKEN', 'aws_secret_access_key', 'tls.key', 'PRIVATE_PEM', 'Credentials']) assert.ok(isSecretName(name), name);
  for (const name of ['LOG_LEVEL', 'PORT', 'HOST', 'region']) assert.ok(!isSecretName(name), name);
});

test('a value that takes a secret from the store is one, under any name', () => {
  assert.ok(mentionsSecret('{{secret "db-password"}}'));
  assert.ok(mentionsSecret('pg://u:{{~ secret "db"}}@db'));
  assert.ok(!mentionsSecret('{{host.ip}}'));
  assert.ok(isSecretEnv('DSN', 'pg://u:{{secret "db"}}@db'));
  assert.ok(!isSecretEnv('DSN', 'pg://db'));
});
