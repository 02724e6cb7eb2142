// --check and --reload for `ygg render`: argv split on whitespace with {file} substituted, run without a
// shell; and the defaults (keepalived -t where keepalived is installed, SIGHUP to keepalived's pid).
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { keepalivedAvailable, keepalivedCheck, namedCheckzone, commandAvailable, promtoolCheck } from '../../render/check-commands.js';
import type { RenderKind } from '../../render/run-renderer.js';
import { RenderCheckError } from '../../render/render-errors.js';
import type { WriteCheckedOptions } from '../../render/write-checked-file.js';
import { UsageError } from '../usage-error.js';

const KEEPALIVED_PID_FILE = '/run/keepalived.pid';
const COMMAND_TIMEOUT_MS = 30_000;

export async function renderWriteOptions(kind: RenderKind, zone: string | undefined, check?: string, reload?: string): Promise<WriteCheckedOptions> {
  const checkArgv = check === undefined ? undefined : splitCommand(check, 'check');
  const reloadArgv = reload === undefined ? undefined : splitCommand(reload, 'reload');
  let fileCheck: WriteCheckedOptions['check'];
  if (checkArgv) fileCheck = (file) => runCommand(checkArgv.map((part) => part.replaceAll('{file}', file))).catch((error: Error) => {
    throw new RenderCheckError(file, `${checkArgv[0]} failed`, error.message.split('\n').filter((line) => line.trim() !== '').slice(0, 10));
  });
  else if (kind === 'keepalived' && (await keepalivedAvailable())) fileCheck = keepalivedCheck();
  else if (kind === 'dns' && zone !== undefined && (await commandAvailable('named-checkzone'))) fileCheck = namedCheckzone(zone);
  else if (kind === 'prometheus' && (await commandAvailable('promtool'))) fileCheck = promtoolCheck();
  const fileReload: WriteCheckedOptions['reload'] = reloadArgv ? () => runCommand(reloadArgv) : kind === 'keepalived' ? signalKeepalived : undefined;
  return { ...(fileCheck && { check: fileCheck }), ...(fileReload && { reload: fileReload }) };
}

/** `keepalived -t -f {file}` → ['keepalived', '-t', '-f', '{file}']: no quoting, no shell. */
export function splitCommand(text: string, flag: string): string[] {
  const argv = text.trim().split(/\s+/).filter((part) => part !== '');
  if (argv.length === 0) throw new UsageError(`--${flag} must name a command`);
  return argv;
}

function runCommand(argv: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(argv[0]!, argv.slice(1), { timeout: COMMAND_TIMEOUT_MS, killSignal: 'SIGKILL', encoding: 'utf8' }, (error, stdout, stderr) => {
      if (!error) return resolve();
      reject(new Error(`${argv.join(' ')}: ${error.killed ? 'timed out' : `exited with ${error.code ?? error.signal}`}\n${stderr}\n${stdout}`));
    });
  });
}

/** SIGHUP makes keepalived re-read its config; no pid file means keepalived is not running: nothing to do. */
async function signalKeepalived(): Promise<void> {
  let text: string;
  try {
    text = await readFile(KEEPALIVED_PID_FILE, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid < 2) throw new Error(`${KEEPALIVED_PID_FILE} holds no pid: "${text.trim()}"`);
  process.kill(pid, 'SIGHUP');
}
