// scripts/preflight.sh, run as on a fresh machine: the programs it checks are hidden from PATH (a
// scratch directory of links to everything else on PATH), apt-get is a stand-in that records how it
// was called and "installs" by linking the hidden programs back, and `id` says root or the script
// runs as nobody. `npm test`, `npm run demo` and `.ci/run` must stop at once on the same check.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';

const scratch = mkdtempSync(path.join(tmpdir(), 'ygg-preflight-'));
chmodSync(scratch, 0o755); // nobody must reach the PATH directories in it
after(() => rmSync(scratch, { recursive: true, force: true }));
// The entry points, copied where nobody can read them: a checkout under a private home (root's is
// 0700 on Debian) is out of nobody's reach. Each one runs the preflight before anything else.
const REPO = path.join(scratch, 'repo');
for (const file of ['package.json', 'scripts/preflight.sh', 'scripts/demo.sh', '.ci/run']) {
  mkdirSync(path.dirname(path.join(REPO, file)), { recursive: true, mode: 0o755 });
  copyFileSync(path.resolve(import.meta.dirname, '../..', file), path.join(REPO, file));
  chmodSync(path.join(REPO, file), 0o755);
}
const PREFLIGHT = path.join(REPO, 'scripts/preflight.sh');

/** Where PATH finds `command` now (the preflight of this very run found them all). */
function realPath(command: string): string {
  const found = spawnSync('bash', ['-c', `command -v ${command}`], { encoding: 'utf8' }).stdout.trim();
  assert.ok(found, `${command} is on PATH`);
  return found;
}

/** A PATH of one directory: links to what the real PATH finds first, but not `hidden`, plus `scripts` (name → shell script). */
function scratchPath(label: string, hidden: readonly string[], scripts: Record<string, string> = {}): string {
  const dir = path.join(scratch, label);
  mkdirSync(dir, { mode: 0o755 });
  const linked = new Set([...hidden, ...Object.keys(scripts)]);
  for (const from of (process.env['PATH'] ?? '').split(':')) {
    if (!from || !existsSync(from) || !statSync(from).isDirectory()) continue;
    for (const name of readdirSync(from)) {
      if (linked.has(name)) continue;
      linked.add(name);
      symlinkSync(path.join(from, name), path.join(dir, name));
    }
  }
  for (const [name, body] of Object.entries(scripts)) writeFileSync(path.join(dir, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return dir;
}

interface Run {
  readonly status: number | null;
  readonly output: string;
  readonly ms: number;
}

/** `command` with PATH=`bin`, as nobody when this runs as root; killed (with its group) after `timeoutMs`. */
async function runAsUser(bin: string, command: readonly string[], timeoutMs = 30_000): Promise<Run> {
  const home = mkdtempSync(path.join(scratch, 'home-'));
  chmodSync(home, 0o777);
  const asNobody = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
  const [program, ...args] = [...asNobody, ...command];
  const { NODE_TEST_CONTEXT: _outer, ...env } = process.env;
  const started = Date.now();
  const child = spawn(program!, args, { cwd: REPO, detached: true, env: { ...env, PATH: bin, HOME: home, npm_config_cache: path.join(home, 'npm') } });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), timeoutMs);
  const status = await new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  clearTimeout(timer);
  return { status, output, ms: Date.now() - started };
}

const ALL_BUT_KEEPALIVED = ['etcd', 'etcdctl', 'named-checkzone', 'git', 'openssl'];
const INSTALL_LINE = '  sudo apt-get update && sudo apt-get install -y --no-install-recommends etcd-server etcd-client bind9-utils git openssl';

test('not root and programs missing: stops at once with the one command that installs them', async () => {
  const bin = scratchPath('user', ALL_BUT_KEEPALIVED);
  const { status, output, ms } = await runAsUser(bin, ['bash', PREFLIGHT]);
  assert.equal(status, 1, output);
  assert.ok(ms < 5000, `took ${ms} ms`);
  assert.equal(output, `preflight: missing etcd etcdctl named-checkzone git openssl; install them with:\n${INSTALL_LINE}\n`);
});

test('npm test, npm run demo and .ci/run stop on that check before anything else runs', async () => {
  const bin = scratchPath('commands', ['etcd']);
  for (const command of [['npm', 'test'], ['npm', 'run', 'demo'], ['bash', '.ci/run']]) {
    const { status, output, ms } = await runAsUser(bin, command);
    assert.notEqual(status, 0, `${command.join(' ')}: ${output}`);
    assert.ok(ms < 15_000, `${command.join(' ')} took ${ms} ms`);
    const install = output.split('\n').filter((line) => line.includes('apt-get install'));
    assert.deepEqual(install, ['  sudo apt-get update && sudo apt-get install -y --no-install-recommends etcd-server'], `${command.join(' ')}: ${output}`);
    assert.doesNotMatch(output, /tsc|passed|\$ ygg/, `${command.join(' ')} ran nothing else`);
  }
});

/** A stand-in apt-get: logs each call with DEBIAN_FRONTEND and whether policy-rc.d holds services back, and on install links `provides` into `bin`. */
function fakeAptGet(log: string, bin: string, provides: readonly string[]): string {
  const links = provides.map((command) => `ln -s ${realPath(command)} ${path.join(bin, command)}`).join('; ');
  return [
    `held=$( [ -x /usr/sbin/policy-rc.d ] && { /usr/sbin/policy-rc.d etcd start; echo $?; } )`,
    `echo "DEBIAN_FRONTEND=$DEBIAN_FRONTEND policy-rc.d=$held apt-get $*" >> ${log}`,
    `case " $* " in *" install "*) ${links || ':'} ;; esac`,
  ].join('\n');
}

test('as root: apt-get update, then one noninteractive install of exactly what is missing, with no service started; then it passes', async () => {
  const log = path.join(scratch, 'apt-root.log');
  const bin = path.join(scratch, 'root');
  scratchPath('root', ['etcd', 'etcdctl', 'named-checkzone'], { id: 'echo 0', 'apt-get': fakeAptGet(log, bin, ['etcd', 'etcdctl', 'named-checkzone']) });
  const result = spawnSync('bash', [PREFLIGHT], { cwd: REPO, encoding: 'utf8', env: { ...process.env, PATH: bin } });
  assert.equal(result.status, 0, result.stderr);
  assert.deepEqual(readFileSync(log, 'utf8').trim().split('\n'), [
    'DEBIAN_FRONTEND=noninteractive policy-rc.d=101 apt-get update -qq',
    'DEBIAN_FRONTEND=noninteractive policy-rc.d=101 apt-get install -y -qq --no-install-recommends etcd-server etcd-client bind9-utils',
  ]);
  assert.match(result.stderr, /^preflight: installing etcd-server etcd-client bind9-utils \(for etcd etcdctl named-checkzone\)$/m);
});

test('as root, when installing does not bring them: says what is still missing and fails', () => {
  const log = path.join(scratch, 'apt-broken.log');
  const bin = scratchPath('broken', ['etcd'], { id: 'echo 0', 'apt-get': fakeAptGet(log, path.join(scratch, 'broken'), []) });
  const result = spawnSync('bash', [PREFLIGHT], { cwd: REPO, encoding: 'utf8', env: { ...process.env, PATH: bin } });
  assert.equal(result.status, 1);
  assert.match(result.stderr, /^preflight: still missing etcd after installing etcd-server$/m);
});

test('a program installed in an sbin directory that PATH leaves out: says to extend PATH, not to install it again', async () => {
  const keepalived = realPath('keepalived');
  const bin = scratchPath('sbin', ['keepalived']);
  const { status, output } = await runAsUser(bin, ['bash', PREFLIGHT]);
  assert.equal(status, 1);
  const sbin = ['/usr/local/sbin', '/usr/sbin', '/sbin'].find((dir) => existsSync(path.join(dir, 'keepalived')));
  assert.equal(
    output,
    sbin
      ? `preflight: keepalived is installed in ${sbin}, which is not on your PATH; run: export PATH="$PATH:${sbin}"\n`
      : `preflight: missing keepalived; install them with:\n  sudo apt-get update && sudo apt-get install -y --no-install-recommends keepalived\n`,
    `keepalived is at ${keepalived}`,
  );
});

test('--tests also wants the browser and promtool; the demo does without them', async () => {
  const bin = scratchPath('test-tools', ['chromium', 'promtool']);
  const forTests = await runAsUser(bin, ['bash', PREFLIGHT, '--tests']);
  assert.equal(forTests.status, 1, forTests.output);
  assert.equal(
    forTests.output,
    'preflight: missing chromium promtool; install them with:\n  sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium prometheus\n',
  );
  const forDemo = await runAsUser(bin, ['bash', PREFLIGHT]);
  assert.equal(forDemo.status, 0, forDemo.output);
});
