// What `ygg` says about itself and about mistakes in how it was called.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { runCli } from './run-cli.js';
import { runYgg } from './ygg-process.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

describe('did you mean', () => {
  it('a misspelt command', async () => {
    const result = await runCli('stauts');
    assert.equal(result.code, 2);
    assert.equal(result.stderr, 'ygg: unknown command "stauts"; did you mean "status"?\nRun "ygg --help" for the list of commands.');
  });

  it('a misspelt flag', async () => {
    for (const [argv, expected] of [
      [['validate', '--rpeo', 'x'], "ygg validate: unknown option '--rpeo'; did you mean --repo?"],
      [['status', '--etcd-prefx=/ygg'], "ygg status: unknown option '--etcd-prefx'; did you mean --etcd-prefix?"],
      [['controller', '--lsiten', ':7070'], "ygg controller: unknown option '--lsiten'; did you mean --listen?"],
    ] as const) {
      const result = await runCli(...argv);
      assert.equal(result.code, 2);
      assert.equal(result.stderr.split('\n')[0], expected);
    }
  });

  it('nothing when nothing is close', async () => {
    assert.match((await runCli('deploy')).stderr, /^ygg: unknown command "deploy"\n/);
    assert.match((await runCli('validate', '--colour')).stderr, /^ygg validate: unknown option '--colour'\n/);
  });
});

describe('the version', () => {
  it('ygg --version and ygg version print the package version', async () => {
    for (const argv of [['--version'], ['version']]) {
      const result = await runCli(...argv);
      assert.equal(result.code, 0);
      assert.equal(result.stdout, `ygg ${version}`);
    }
    assert.match((await runCli('--help')).stdout, /"ygg --version"/);
  });

  it('as a process', async () => {
    const result = await runYgg(['--version']);
    assert.equal(result.code, 0);
    assert.equal(result.stdout, `ygg ${version}\n`);
  });
});

describe('files named by etcd flags', () => {
  it('a TLS file that cannot be read is a usage error naming its flag (not a raw ENOENT)', async () => {
    for (const flag of ['--etcd-ca', '--etcd-cert', '--etcd-key']) {
      const result = await runCli('status', '--etcd', 'https://127.0.0.1:1', flag, '/nonexistent/file.pem');
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stderr.split('\n')[0], `ygg status: ${flag}: cannot read /nonexistent/file.pem: ENOENT`);
    }
  });
});
