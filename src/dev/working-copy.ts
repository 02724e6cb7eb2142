// The git working copy a dev run follows (.ygg/repo): made from --repo on the first run, kept on
// later runs so the user's edits and commits survive. The controller follows its checked-out branch.
import { execFile } from 'node:child_process';
import { cpSync, existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Never copied from --repo: another repository's history, installed packages, a dev dir inside it. */
const NOT_COPIED = new Set(['.git', 'node_modules', '.ygg']);

export class WorkingCopyError extends Error {
  readonly code = 'E_WORKING_COPY';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WorkingCopyError';
  }
}

export interface WorkingCopy {
  readonly dir: string;
  readonly branch: string;
  /** True when this run made it (and its first commit). */
  readonly created: boolean;
}

export const IMPORT_MESSAGE = 'Import the fleet';
/** Only for the import commit: the user's own name goes on the commits they make. */
const IMPORT_AUTHOR = ['-c', 'user.name=ygg dev', '-c', 'user.email=ygg-dev@localhost'];

export async function ensureWorkingCopy(from: string, dir: string): Promise<WorkingCopy> {
  const created = !existsSync(path.join(dir, '.git'));
  if (created && existsSync(dir)) throw new WorkingCopyError(`${dir} exists but is no git repository: move it away, and the next run makes a fresh copy of the fleet`);
  if (created) {
    if (!existsSync(path.join(from, 'ygg.yaml'))) throw new WorkingCopyError(`--repo ${from} has no ygg.yaml: it is not a fleet repo`);
    cpSync(from, dir, { recursive: true, filter: (source) => !NOT_COPIED.has(path.basename(source)) });
    await git(dir, 'init', '-q', '-b', 'main');
    await git(dir, 'add', '-A');
    await git(dir, ...IMPORT_AUTHOR, 'commit', '-q', '--no-verify', '-m', IMPORT_MESSAGE);
  }
  // -q: exit 1 and no message when HEAD is no branch; other failures (no git) are said as they are
  const detached = (error: WorkingCopyError) => ((error.cause as { code?: unknown } | undefined)?.code === 1 ? '' : Promise.reject(error));
  const branch = (await git(dir, 'symbolic-ref', '-q', '--short', 'HEAD').catch(detached)).trim();
  // A checked-out commit (git checkout SHA, a bisect): no branch for the controller to follow.
  if (!branch) throw new WorkingCopyError(`${dir} has no branch checked out (HEAD is detached): the controller follows a branch; git -C ${dir} switch main`);
  return { dir, branch, created };
}

async function git(dir: string, ...args: string[]): Promise<string> {
  try {
    return (await run('git', ['-C', dir, ...args], { encoding: 'utf8' })).stdout;
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: string };
    if (failure.code === 'ENOENT') throw new WorkingCopyError('git is not installed: sudo apt-get install -y git', { cause: error });
    throw new WorkingCopyError(`git ${args.filter((arg) => !arg.startsWith('user.')).join(' ')} in ${dir} failed: ${(failure.stderr ?? failure.message).trim()}`, { cause: error });
  }
}
