// The chaos suite's view of the machine's processes, read straight from /proc: it must see what
// really runs (a job the agent forgot, a second agent, a watchdog's restart), not what any ygg
// process reports about itself. Everything a chaos fleet starts names the fleet's directory in its
// command line (--root, --repo, --out, --data-dir) or runs inside it (jobs), which is how the suite
// finds its own processes among the machine's, and how clean-up finds every last one.
import { readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { parseStatFields } from '../../src/agent/process-metrics.js';

export interface ProcessInfo {
  readonly pid: number;
  readonly argv: readonly string[];
  /** Resolved working directory ('' when unreadable). */
  readonly cwd: string;
  readonly state: string;
  readonly processGroup: number;
  /** Clock ticks since boot (field 22): with pid, the identity of a process. */
  readonly startTime: number;
  /** utime + stime in clock ticks. */
  readonly cpuTicks: number;
}

/** Clock ticks per second of /proc/<pid>/stat; 100 on every Linux this suite runs on. */
export const CLOCK_TICKS_PER_SECOND = 100;

function readProcess(pid: number): ProcessInfo | undefined {
  try {
    const fields = parseStatFields(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((part) => part !== '');
    let cwd = '';
    try {
      cwd = readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      // a zombie or a process of another user: no cwd to read
    }
    // fields[0] is field 3 (state): field N is fields[N - 3].
    return { pid, argv, cwd, state: fields[0]!, processGroup: Number(fields[2]), startTime: Number(fields[19]), cpuTicks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined; // exited while we looked
  }
}

/** Live (not zombie) processes whose command line mentions `dir` or whose cwd is inside it. */
export function processesUnder(dir: string): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    const info = readProcess(pid);
    if (!info || info.state === 'Z' || info.state === 'X') continue;
    if (isInside(info.cwd, dir) || info.argv.some((arg) => isInside(arg, dir) || arg.includes(`=${dir}/`))) found.push(info);
  }
  return found;
}

/** `path` is `dir` or below it (not merely a sibling sharing its name as a prefix). */
function isInside(path: string, dir: string): boolean {
  return path === dir || path.startsWith(`${dir}/`);
}

export function signalGroupAndProcess(pid: number, signal: NodeJS.Signals): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, signal);
    } catch {
      // gone already, or not a group leader
    }
  }
}

/** Dirs whose processes die with this process, however it ends (a runner's SIGTERM, a crash). */
const guarded = new Set<string>();
let exitHookInstalled = false;

/** Until `release`, an exit of this process (normal, SIGINT, SIGTERM) SIGKILLs everything under `dir` and removes it. */
export function killOnExit(dir: string): { release(): void } {
  guarded.add(dir);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const each of guarded) {
        for (const info of processesUnder(each)) signalGroupAndProcess(info.pid, 'SIGKILL');
        rmSync(each, { recursive: true, force: true });
      }
    });
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(128 + (signal === 'SIGINT' ? 2 : 15)));
  }
  return { release: () => guarded.delete(dir) };
}

/**
 * SIGKILLs every process (and its group) that belongs to `dir`, round after round, because an agent
 * and its twin watchdog restart each other: a round can race a restart. Returns how many rounds it took.
 */
export async function killEverythingUnder(dir: string, maxRounds = 20): Promise<number> {
  for (let round = 1; round <= maxRounds; round++) {
    const found = processesUnder(dir);
    if (found.length === 0) return round;
    for (const info of found) signalGroupAndProcess(info.pid, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const left = processesUnder(dir);
  if (left.length > 0) throw new Error(`processes of ${dir} survived clean-up: ${left.map((info) => `${info.pid} ${info.argv.join(' ')}`).join('; ')}`);
  return maxRounds;
}
