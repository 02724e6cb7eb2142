// Figures of the fleet simulator: percentiles of samples, the bench process's own CPU and peak RSS
// over a window, a process's RSS and CPU time from /proc, and the results files (bench/results/<scenario>.json,
// one entry per host count, so runs at 100, 1,000 and 3,000 hosts make the growth table).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface Percentiles {
  readonly p50: number;
  readonly p95: number;
  readonly min: number;
  readonly max: number;
}

/** Nearest-rank percentiles. */
export function percentiles(samples: readonly number[]): Percentiles {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
  return { p50: rank(50), p95: rank(95), min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

/** This process's CPU (% of one core) and peak RSS since the last reset. */
export class ResourceSampler {
  private cpuStart = process.cpuUsage();
  private wallStart = performance.now();
  private peakRss = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 100) {
    // rss() alone: memoryUsage() also walks the V8 heap's statistics, 10 times a second in an idle window
    this.timer = setInterval(() => (this.peakRss = Math.max(this.peakRss, process.memoryUsage.rss())), intervalMs);
    this.timer.unref();
  }

  reset(): void {
    this.cpuStart = process.cpuUsage();
    this.wallStart = performance.now();
    this.peakRss = process.memoryUsage.rss();
  }

  read(): { peakRssMb: number; cpuPercent: number } {
    const cpu = process.cpuUsage(this.cpuStart);
    const peakRss = Math.max(this.peakRss, process.memoryUsage.rss());
    return { peakRssMb: peakRss / 2 ** 20, cpuPercent: ((cpu.user + cpu.system) / 1000 / (performance.now() - this.wallStart)) * 100 };
  }
}

/** VmRSS of a process in MB; 0 when it is gone. */
export function rssMbOf(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/** User + system CPU seconds a process has used (/proc/<pid>/stat, in clock ticks of 1/100 s); 0 when it is gone. */
export function cpuSecondsOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

const RESULTS_DIR = path.resolve(import.meta.dirname, 'results');

/** Merges `data` under the host count into bench/results/<scenario>.json. */
export function saveResult(scenario: string, hosts: number, data: object): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${scenario}.json`);
  const all = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  all[String(hosts)] = { measuredAt: new Date().toISOString(), ...data };
  writeFileSync(file, `${JSON.stringify(all, null, 2)}\n`);
}
