import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MASKED_VALUE, maskEnv } from '../../../src/server/console/mask-env.js';

test('values whose names say secret, or that take a secret from the store, are masked; the rest are shown', () => {
  assert.deepEqual(
    maskEnv({ LOG_LEVEL: 'info', DB_PASSWORD: 'hunter2', API_TOKEN: 't', aws_secret_access_key: 'k', STRIPE_API_KEY: 'sk', PORT: '80', PRIVATE_KEY_PEM: 'pem', DSN: 'pg://u:{{secret "db"}}@db' }),
    { LOG_LEVEL: 'info', DB_PASSWORD: MASKED_VALUE, API_TOKEN: MASKED_VALUE, aws_secret_access_key: MASKED_VALUE, STRIPE_API_KEY: MASKED_VALUE, PORT: '80', PRIVATE_KEY_PEM: MASKED_VALUE, DSN: MASKED_VALUE },
  );
});
