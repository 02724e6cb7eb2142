import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { RemoteGitSource, parseRemoteUrl } from '../../src/repo/remote-git-source.js';
import { SourceError } from '../../src/repo/source.js';
import { createGitFleet, type GitFleet } from '../fixtures/git-fleet.js';
import { startGitHttpServer, type GitHttpServer, type GitHttpServerOptions } from '../fixtures/git-http-server.js';
import { removeDir } from '../fixtures/small-fleet.js';

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
}

/** Removes a directory this file made with mkdtemp after its tests, and never anything else. */
function removeLater(dir: string): void {
  assert.match(path.basename(dir), /^ygg-[a-z-]+-\w{6}$/, `refusing to remove ${dir}`);
  cleanups.push(() => removeDir(dir));
}

function temporaryDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  removeLater(dir);
  return dir;
}

function createFleet(): GitFleet {
  const fleet = createGitFleet();
  removeLater(fleet.dir);
  return fleet;
}

interface Served {
  readonly fleet: GitFleet;
  readonly server: GitHttpServer;
  /** The repository's URL on the server. */
  readonly url: string;
  readonly cacheDir: string;
  /** Pushes the fleet's HEAD to the served branch, forced. */
  push(): void;
}

/** A bare repository with the fleet's two commits on `main`, served over http. */
async function serveFleet(options: GitHttpServerOptions = {}): Promise<Served> {
  const root = temporaryDir('ygg-served-');
  const bare = path.join(root, 'fleet.git');
  git(root, 'init', '-q', '--bare', '-b', 'main', bare);
  const fleet = createFleet();
  fleet.commit('Add notes', { 'NOTES.md': 'first notes\n' });
  const push = () => void git(fleet.dir, 'push', '-q', '--force', bare, 'HEAD:refs/heads/main');
  push();
  const server = await startGitHttpServer(root, options);
  cleanups.push(() => server.close());
  return { fleet, server, url: `${server.url}/fleet.git`, cacheDir: temporaryDir('ygg-mirror-'), push };
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<SourceError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof SourceError, `expected a SourceError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected ${code}, but it resolved`);
}

describe('RemoteGitSource', () => {
  it('fetches the branch head and reads the commit like a local repository', async () => {
    const { fleet, url, cacheDir } = await serveFleet();
    const source = await RemoteGitSource.open({ url, branch: 'main', cacheDir });
    const head = await source.fetchHead();
    assert.deepEqual(head, { sha: git(fleet.dir, 'rev-parse', 'HEAD'), forced: false });

    const snapshot = await source.snapshotOf(head.sha);
    assert.equal(snapshot.commit?.message, 'Add notes');
    assert.deepEqual(
      snapshot.files.map((file) => file.path),
      git(fleet.dir, 'ls-tree', '-r', '--name-only', 'HEAD').split('\n').sort(),
    );
    for (const file of snapshot.files) assert.equal(await snapshot.readText(file), readFileSync(path.join(fleet.dir, file.path), 'utf8'), file.path);
    assert.equal(source.label, url);
  });

  it('follows a new commit as a fast-forward, and an unchanged branch as no move', async () => {
    const { fleet, url, cacheDir, push } = await serveFleet();
    const source = await RemoteGitSource.open({ url, branch: 'main', cacheDir });
    const first = await source.fetchHead();
    const second = fleet.commit('More notes', { 'NOTES.md': 'second notes\n' });
    push();

    assert.deepEqual(await source.fetchHead(), { sha: second, previous: first.sha, forced: false });
    assert.deepEqual(await source.fetchHead(), { sha: second, previous: second, forced: false });
    const notes = (await source.snapshotOf(second)).files.find((file) => file.path === 'NOTES.md')!;
    assert.equal(await (await source.snapshotOf(second)).readText(notes), 'second notes\n');
  });

  it('flags a force-push and keeps the old commit readable', async () => {
    const { fleet, url, cacheDir, push } = await serveFleet();
    const source = await RemoteGitSource.open({ url, branch: 'main', cacheDir });
    const first = await source.fetchHead();
    git(fleet.dir, 'reset', '-q', '--hard', 'HEAD~1');
    const rewritten = fleet.commit('Rewritten notes', { 'NOTES.md': 'rewritten\n' });
    push();

    assert.deepEqual(await source.fetchHead(), { sha: rewritten, previous: first.sha, forced: true });
    assert.equal((await source.snapshotOf(rewritten)).commit?.message, 'Rewritten notes');
    assert.equal((await source.snapshotOf(first.sha)).commit?.message, 'Add notes');
  });

  it('fails static when the server is down: a typed error, the last head still readable', async () => {
    const { server, url, cacheDir } = await serveFleet();
    const source = await RemoteGitSource.open({ url, branch: 'main', cacheDir });
    const head = await source.fetchHead();
    await server.close();

    const error = await rejectsWith(source.fetchHead(), 'E_FETCH_FAILED');
    assert.match(error.message, new RegExp(url.replace(/[.]/g, '\\.')));
    assert.equal((await source.snapshotOf(head.sha)).commit?.sha, head.sha);
  });

  it('fails a fetch from a server that accepts but never answers, after timeoutMs', async () => {
    // Reads (so it sees the client hang up) but never answers.
    const silent = net.createServer((socket) => socket.resume());
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => silent.close(() => resolve())));
    const { port } = silent.address() as net.AddressInfo;
    const source = await RemoteGitSource.open({ url: `http://127.0.0.1:${port}/fleet.git`, branch: 'main', cacheDir: temporaryDir('ygg-mirror-'), timeoutMs: 200 });
    const started = Date.now();
    await rejectsWith(source.fetchHead(), 'E_FETCH_FAILED');
    assert.ok(Date.now() - started < 2000);
  });

  it('uses basic-auth credentials and reports refused ones as E_AUTH_FAILED without the password', async () => {
    const auth = { username: 'deploy', password: 's3cret-pass' };
    const { fleet, url, cacheDir } = await serveFleet({ auth });
    const head = git(fleet.dir, 'rev-parse', 'HEAD');

    const wrong = await RemoteGitSource.open({ url, branch: 'main', cacheDir, credentials: { username: 'deploy', password: 'wrong-pass' } });
    const refused = await rejectsWith(wrong.fetchHead(), 'E_AUTH_FAILED');
    assert.ok(refused.message.includes(url), refused.message);
    assert.ok(!refused.message.includes('wrong-pass'), refused.message);

    const anonymous = await RemoteGitSource.open({ url, branch: 'main', cacheDir });
    assert.match((await rejectsWith(anonymous.fetchHead(), 'E_AUTH_FAILED')).message, /requires credentials/);

    const right = await RemoteGitSource.open({ url, branch: 'main', cacheDir, credentials: auth });
    assert.equal((await right.fetchHead()).sha, head);

    // Credentials written into the URL are used, and kept out of the label.
    const inUrl = url.replace('http://', 'http://deploy:s3cret-pass@');
    const fromUrl = await RemoteGitSource.open({ url: inUrl, branch: 'main', cacheDir: temporaryDir('ygg-mirror-') });
    assert.equal(fromUrl.label, url);
    assert.equal((await fromUrl.fetchHead()).sha, head);
  });

  it('remembers the previous head across a restart on the same cache dir', async () => {
    const { fleet, url, cacheDir, push } = await serveFleet();
    const first = await (await RemoteGitSource.open({ url, branch: 'main', cacheDir })).fetchHead();
    const second = fleet.commit('More notes', { 'NOTES.md': 'second notes\n' });
    push();

    const restarted = await RemoteGitSource.open({ url, branch: 'main', cacheDir });
    assert.deepEqual(await restarted.fetchHead(), { sha: second, previous: first.sha, forced: false });
    git(fleet.dir, 'reset', '-q', '--hard', 'HEAD~2');
    const rewritten = fleet.commit('Rewritten', { 'NOTES.md': 'rewritten\n' });
    push();
    const again = await RemoteGitSource.open({ url, branch: 'main', cacheDir });
    assert.deepEqual(await again.fetchHead(), { sha: rewritten, previous: second, forced: true });
  });

  it('fetches only what is new once the mirror holds the history', async () => {
    const { fleet, server, url, cacheDir, push } = await serveFleet();
    const source = await RemoteGitSource.open({ url, branch: 'main', cacheDir });
    await source.fetchHead();
    const packs = () => readdirPacks(cacheDir);
    const before = packs();
    fleet.commit('More notes', { 'NOTES.md': 'second notes\n' });
    push();
    await source.fetchHead();
    assert.equal(packs().length, before.length + 1);
    // An unchanged branch writes no pack at all.
    await source.fetchHead();
    assert.equal(packs().length, before.length + 1);
    assert.ok(server.requests.every((request) => request.includes('/fleet.git/')));
  });

  it('reports a missing branch, a missing repository and an unknown commit with their codes', async () => {
    const { server, url, cacheDir } = await serveFleet();
    await rejectsWith((await RemoteGitSource.open({ url, branch: 'nope', cacheDir })).fetchHead(), 'E_REF_NOT_FOUND');
    const missing = await RemoteGitSource.open({ url: `${server.url}/absent.git`, branch: 'main', cacheDir: temporaryDir('ygg-mirror-') });
    await rejectsWith(missing.fetchHead(), 'E_REPO_NOT_FOUND');
    const source = await RemoteGitSource.open({ url, branch: 'main', cacheDir });
    await rejectsWith(source.snapshotOf('0123456789abcdef0123456789abcdef01234567'), 'E_REF_NOT_FOUND');
  });

  it('runs overlapping fetches one after the other', async () => {
    const { fleet, url, cacheDir } = await serveFleet();
    const source = await RemoteGitSource.open({ url, branch: 'main', cacheDir });
    const head = git(fleet.dir, 'rev-parse', 'HEAD');
    const [one, two] = await Promise.all([source.fetchHead(), source.fetchHead()]);
    assert.deepEqual(one, { sha: head, forced: false });
    assert.deepEqual(two, { sha: head, previous: head, forced: false });
  });
});

describe('parseRemoteUrl', () => {
  it('takes credentials out of the URL and drops a trailing slash', () => {
    assert.deepEqual(parseRemoteUrl('https://bot:p%40ss@git.example.com/org/fleet.git/'), {
      url: 'https://git.example.com/org/fleet.git',
      credentials: { username: 'bot', password: 'p@ss' },
    });
    assert.deepEqual(parseRemoteUrl('http://git.example.com/fleet'), { url: 'http://git.example.com/fleet' });
  });

  it('refuses other schemes without echoing a password', () => {
    assert.throws(() => parseRemoteUrl('ssh://git:pw@example.com/fleet.git'), (error: unknown) => error instanceof SourceError && error.code === 'E_UNSUPPORTED_URL' && !error.message.includes('pw@'));
  });
});

function readdirPacks(cacheDir: string): string[] {
  const dir = path.join(cacheDir, '.git', 'objects', 'pack');
  return existsSync(dir) ? readdirSync(dir).filter((name) => name.endsWith('.pack')) : [];
}
