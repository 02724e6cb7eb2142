import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { keepalivedCheck } from '../../src/render/check-commands.js';
import { renderConfig } from '../../src/render/render-config.js';
import type { RenderData } from '../../src/render/render-data.js';
import { RenderCheckError, RenderReloadError } from '../../src/render/render-errors.js';
import { writeCheckedFile } from '../../src/render/write-checked-file.js';

const template = await readFile(new URL('../../templates/keepalived.conf.hbs', import.meta.url), 'utf8');
const root = await mkdtemp(path.join(tmpdir(), 'ygg-write-checked-'));
after(() => rm(root, { recursive: true, force: true }));
let counter = 0;

async function freshDir(): Promise<string> {
  const dir = path.join(root, `case-${++counter}`);
  await mkdir(dir);
  return dir;
}

const data: RenderData = {
  director: 'lb-1',
  commit: 'abc1234',
  revision: '7',
  services: [
    {
      name: 'web',
      job: 'web',
      port: 'http',
      directors: ['lb-1'],
      vip: { address: '10.0.0.10', port: 80, protocol: 'TCP', lbAlgo: 'wrr', lbKind: 'NAT', persistenceSeconds: 0, check: { tcp: {}, connectTimeoutSeconds: 3, delayLoopSeconds: 5 } },
      endpoints: [{ host: 'h1', ip: '10.0.1.1', port: 8080, weight: 1, job: 'web' }],
    },
  ],
};

function counting(): { calls: number; reload: () => Promise<void> } {
  const state = { calls: 0, reload: async () => void state.calls++ };
  return state;
}

describe('writeCheckedFile', () => {
  it('writes a new file, returns its sha256 and reloads once', async () => {
    const target = path.join(await freshDir(), 'keepalived.conf');
    const reloads = counting();
    const result = await writeCheckedFile(target, 'a\n', { reload: reloads.reload });
    assert.deepEqual(result, { changed: true, checksum: createHash('sha256').update('a\n').digest('hex') });
    assert.equal(await readFile(target, 'utf8'), 'a\n');
    assert.equal(reloads.calls, 1);
  });

  it('does not write or reload when the content is unchanged', async () => {
    const dir = await freshDir();
    const target = path.join(dir, 'keepalived.conf');
    await writeFile(target, 'same\n');
    const reloads = counting();
    const checks: string[] = [];
    const result = await writeCheckedFile(target, 'same\n', { reload: reloads.reload, check: async (file) => void checks.push(file) });
    assert.equal(result.changed, false);
    assert.equal(reloads.calls, 0);
    assert.deepEqual(checks, []);
    assert.deepEqual(await readdir(dir), ['keepalived.conf']);
  });

  it('on change: checks the temp file in the target directory, keeps .bak, reloads once', async () => {
    const dir = await freshDir();
    const target = path.join(dir, 'keepalived.conf');
    await writeFile(target, 'old\n');
    const reloads = counting();
    const checked: string[] = [];
    const result = await writeCheckedFile(target, 'new\n', {
      reload: reloads.reload,
      check: async (file) => {
        checked.push(file);
        assert.equal(await readFile(file, 'utf8'), 'new\n');
      },
    });
    assert.equal(result.changed, true);
    assert.equal(checked.length, 1);
    assert.equal(path.dirname(checked[0] ?? ''), dir);
    assert.equal(await readFile(target, 'utf8'), 'new\n');
    assert.equal(await readFile(`${target}.bak`, 'utf8'), 'old\n');
    assert.equal(reloads.calls, 1);
    assert.deepEqual((await readdir(dir)).sort(), ['keepalived.conf', 'keepalived.conf.bak']);
  });

  it('keeps no .bak when asked not to', async () => {
    const dir = await freshDir();
    const target = path.join(dir, 'keepalived.conf');
    await writeFile(target, 'old\n');
    await writeCheckedFile(target, 'new\n', { keepBackup: false });
    assert.deepEqual(await readdir(dir), ['keepalived.conf']);
  });

  it('refuses empty content and leaves the old file', async () => {
    const dir = await freshDir();
    const target = path.join(dir, 'keepalived.conf');
    await writeFile(target, 'old\n');
    await assert.rejects(writeCheckedFile(target, ''), RenderCheckError);
    assert.equal(await readFile(target, 'utf8'), 'old\n');
    assert.deepEqual(await readdir(dir), ['keepalived.conf']);
  });

  it('a failed reload leaves the new file in place and says so', async () => {
    const target = path.join(await freshDir(), 'keepalived.conf');
    await assert.rejects(
      writeCheckedFile(target, 'x\n', { reload: async () => Promise.reject(new Error('no pid')) }),
      (error: unknown) => error instanceof RenderReloadError && error.code === 'E_RENDER_RELOAD',
    );
    assert.equal(await readFile(target, 'utf8'), 'x\n');
  });

  it('a config rendered from a broken template fails the real keepalived -t; the old file stays, no temp file left', async () => {
    const dir = await freshDir();
    const target = path.join(dir, 'keepalived.conf');
    const good = renderConfig(template, data);
    await writeCheckedFile(target, good, { check: keepalivedCheck() });
    // The virtual_server's closing brace is gone.
    const broken = template.replace(/^\}\n\{\{else\}\}/m, '{{else}}');
    assert.notEqual(broken, template);
    const reloads = counting();
    await assert.rejects(writeCheckedFile(target, renderConfig(broken, { ...data, revision: '8' }), { check: keepalivedCheck(), reload: reloads.reload }), (error: unknown) => {
      assert.ok(error instanceof RenderCheckError);
      assert.equal(error.code, 'E_RENDER_CHECK');
      assert.ok(error.details.some((line) => /missing '\}'/.test(line)), JSON.stringify(error.details));
      return true;
    });
    assert.equal(await readFile(target, 'utf8'), good);
    assert.equal(reloads.calls, 0);
    assert.deepEqual(await readdir(dir), ['keepalived.conf']);
  });
});

describe('check commands', () => {
  it('keepalivedCheck refuses a missing or empty file (keepalived itself exits 0 on both)', async () => {
    const dir = await freshDir();
    await assert.rejects(keepalivedCheck()(path.join(dir, 'missing.conf')), /does not exist/);
    await writeFile(path.join(dir, 'empty.conf'), '');
    await assert.rejects(keepalivedCheck()(path.join(dir, 'empty.conf')), /is empty/);
  });

  it('keepalivedCheck reports a checker that is not installed', async () => {
    const file = path.join(await freshDir(), 'x.conf');
    await writeFile(file, 'x\n');
    await assert.rejects(keepalivedCheck('no-such-keepalived-binary')(file), /not installed/);
  });

  it('keepalivedCheck carries keepalived\'s own message', async () => {
    const file = path.join(await freshDir(), 'x.conf');
    await writeFile(file, 'virtual_server 10.0.0.1 80 {\n    lb_algo bogus\n}\n');
    await assert.rejects(keepalivedCheck()(file), (error: unknown) => error instanceof RenderCheckError && /Line 2\) Invalid lvs_scheduler 'bogus'/.test(error.message));
  });

});
