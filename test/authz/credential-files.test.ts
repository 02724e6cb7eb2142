import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { CredentialDirectory, CredentialFileError, generatePassword, parseCredential, readCredentialFile } from '../../src/authz/credential-files.js';
import { removeDir } from '../fixtures/small-fleet.js';

const dir = mkdtempSync(path.join(tmpdir(), 'ygg-credential-files-'));
after(() => removeDir(dir));

describe('credential files', () => {
  it('splits user:password at the first colon; the password may hold more', () => {
    assert.deepEqual(parseCredential('ygg-host-a:pa:ss\n', 'f'), { user: 'ygg-host-a', password: 'pa:ss' });
  });

  for (const text of ['', 'no-colon', ':password', 'user:', 'user:pass\nuser2:pass2']) {
    it(`refuses ${JSON.stringify(text)} with a typed error naming the file`, () => {
      assert.throws(() => parseCredential(text, '/etc/ygg/h1'), (error: unknown) => error instanceof CredentialFileError && error.code === 'E_CREDENTIAL_FILE' && error.message.startsWith('credential file /etc/ygg/h1: '));
    });
  }

  it('passwords are 192 random bits, base64url (never a colon), different every time', () => {
    const passwords = new Set(Array.from({ length: 100 }, generatePassword));
    assert.equal(passwords.size, 100);
    for (const password of passwords) assert.match(password, /^[A-Za-z0-9_-]{32}$/);
  });

  it('writes mode 0600 files (the directory 0700) and reads them back; a bad or missing file reads as none', async () => {
    const credentials = new CredentialDirectory(path.join(dir, 'out'));
    await credentials.write('h1', { user: 'ygg-host-h1', password: 'secret' });
    assert.equal(statSync(credentials.file('h1')).mode & 0o777, 0o600);
    assert.equal(statSync(credentials.dir).mode & 0o777, 0o700);
    assert.equal(readFileSync(credentials.file('h1'), 'utf8'), 'ygg-host-h1:secret\n');
    assert.deepEqual(await readCredentialFile(credentials.file('h1')), { user: 'ygg-host-h1', password: 'secret' });
    writeFileSync(credentials.file('h2'), 'garbage');
    assert.equal(await credentials.read('h2'), undefined);
    assert.equal(await credentials.read('h3'), undefined);
    await credentials.remove('h1');
    await assert.rejects(readCredentialFile(credentials.file('h1')), /ENOENT/);
  });
});
