// Checkers for writeCheckedFile: run a config validator on the temp file (argv, no shell, with a
// timeout) and turn a refusal into a RenderCheckError carrying the validator's first stderr lines.
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RenderCheckError } from './render-errors.js';

export type FileCheck = (file: string) => Promise<void>;

const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_DETAIL_LINES = 10;
/** Validators live in sbin, which is often not on an unprivileged user's PATH. */
const EXTRA_DIRECTORIES = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** The absolute path of an executable (a name is looked up on PATH and the sbin directories). */
export async function findCommand(command: string): Promise<string | undefined> {
  const candidates = command.includes('/')
    ? [command]
    : [...(process.env.PATH ?? '').split(path.delimiter).filter((dir) => dir !== ''), ...EXTRA_DIRECTORIES].map((dir) => path.join(dir, command));
  for (const candidate of candidates) {
    try {
      await fs.access(candidate, constants.X_OK);
      if ((await fs.stat(candidate)).isFile()) return candidate;
    } catch {
      // Not here: try the next directory.
    }
  }
  return undefined;
}

export async function commandAvailable(command: string): Promise<boolean> {
  return (await findCommand(command)) !== undefined;
}

export async function keepalivedAvailable(binary = 'keepalived'): Promise<boolean> {
  return commandAvailable(binary);
}

/** `keepalived -t -f FILE`: valid → exit 0; anything it complains about → exit 5 (or 2 on a parse abort). */
export function keepalivedCheck(binary = 'keepalived', timeoutMs = DEFAULT_TIMEOUT_MS): FileCheck {
  return (file) => runCheck(binary, (resolved) => [resolved, ['-t', '-f', file]], file, timeoutMs);
}

/** `named-checkzone ZONE FILE`, for the DNS zone template. */
export function namedCheckzone(zone: string, binary = 'named-checkzone', timeoutMs = DEFAULT_TIMEOUT_MS): FileCheck {
  return (file) => runCheck(binary, (resolved) => [resolved, [zone, file]], file, timeoutMs);
}

/**
 * A Prometheus file_sd target file, the way Prometheus itself would read it: `promtool check config`
 * on a scrape config whose file_sd_configs names a copy of it (promtool has no check of a target file
 * alone, and file discovery only takes names ending in .json, .yml or .yaml, which the temp file's
 * does not). The copy and the config live in a private temp directory, removed afterwards.
 */
export function promtoolCheck(binary = 'promtool', timeoutMs = DEFAULT_TIMEOUT_MS): FileCheck {
  return async (file) => {
    const dir = await fs.mkdtemp(path.join(tmpdir(), 'ygg-promtool-'));
    try {
      const targets = path.join(dir, 'targets.json');
      await fs.copyFile(file, targets);
      const config = path.join(dir, 'prometheus.yml');
      await fs.writeFile(config, scrapeConfigFor(targets));
      await runCheck(binary, (resolved) => [resolved, ['check', 'config', config]], file, timeoutMs);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  };
}

/** The smallest Prometheus config that reads `targetsFile` through file_sd (JSON quoting is valid YAML). */
export function scrapeConfigFor(targetsFile: string): string {
  return `scrape_configs:\n  - job_name: ygg\n    file_sd_configs:\n      - files: [${JSON.stringify(targetsFile)}]\n`;
}

async function runCheck(binary: string, argv: (resolved: string) => [string, string[]], file: string, timeoutMs: number): Promise<void> {
  // keepalived -t exits 0 on a missing or empty file: check that ourselves.
  let size: number;
  try {
    size = (await fs.stat(file)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new RenderCheckError(file, 'file to check does not exist');
    throw error;
  }
  if (size === 0) throw new RenderCheckError(file, 'file to check is empty');
  const resolved = await findCommand(binary);
  if (resolved === undefined) throw new RenderCheckError(file, `checker ${binary} is not installed`);
  const [command, args] = argv(resolved);
  await new Promise<void>((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (!error) return resolve();
      const details = `${stderr}\n${stdout}`
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line !== '')
        .slice(0, MAX_DETAIL_LINES);
      const exit = error.killed ? `timed out after ${timeoutMs} ms` : `exited with ${error.code ?? error.signal ?? 'an error'}`;
      reject(new RenderCheckError(file, `${path.basename(command)} ${exit}`, details));
    });
  });
}
