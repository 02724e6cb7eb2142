// Samples the director's keepalived.conf every 50 ms, checks every distinct content with the real
// `keepalived -t`, and afterwards finds the samples that held fewer real servers than there were
// healthy endpoints while the fleet did not change: the renderer's promise is to follow the fleet,
// never a reset, wipe or blip of etcd.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

const SAMPLE_INTERVAL_MS = 50;
/**
 * A real change reaches the file up to the renderer's max wait (2 s) later, longer while etcd elects
 * a leader (a new instance's naming entry waits for the election, < 2 s, and the client's reconnect,
 * < 2 s: 5 s was seen once in a rollout across a leader's SIGKILL), and an instance leaves naming a
 * drain (2 s) before its process stops: a sample this close to a change is not judged.
 */
const JUDGED_AFTER_CHANGE_MS = 8000;
const JUDGED_BEFORE_CHANGE_MS = 3000;

interface Sample {
  readonly atMs: number;
  /** undefined: the file was missing. */
  readonly realServers: readonly string[] | undefined;
}

export interface KeepalivedFindings {
  /** Largest number of real servers missing from a sample while the fleet was steady. */
  readonly droppedMax: number;
  readonly droppedSamples: number;
  /** When the first such sample was taken. */
  readonly firstDroppedAtMs: number | undefined;
  readonly samples: number;
  readonly invalidContents: readonly string[];
  readonly missingSamples: number;
}

export class KeepalivedObserver {
  private timer: NodeJS.Timeout | undefined;
  private sampling = false;
  private samples: Sample[] = [];
  private readonly checked = new Map<string, Promise<string | undefined>>();
  private latest: Sample | undefined;

  constructor(
    readonly file: string,
    private readonly scratchDir: string,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.sample(), SAMPLE_INTERVAL_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  resetCounts(): void {
    this.samples = [];
  }

  /** The real servers (ip:port) of the newest sample; undefined when the file is missing. */
  current(): readonly string[] | undefined {
    return this.latest?.realServers;
  }

  /** Judges the samples so far; `healthyAt` and `changesAtMs` (processes, health) describe the fleet over the same time. */
  async findings(healthyAt: (atMs: number) => number, changesAtMs: readonly number[]): Promise<KeepalivedFindings> {
    const changes = [...changesAtMs].sort((a, b) => a - b);
    const steady = (atMs: number) => !changes.some((change) => change > atMs - JUDGED_AFTER_CHANGE_MS && change < atMs + JUDGED_BEFORE_CHANGE_MS);
    let droppedMax = 0;
    let droppedSamples = 0;
    let missingSamples = 0;
    let firstDroppedAtMs: number | undefined;
    for (const sample of this.samples) {
      if (sample.realServers === undefined) {
        missingSamples++;
        continue;
      }
      const missing = healthyAt(sample.atMs) - sample.realServers.length;
      if (missing > 0 && steady(sample.atMs)) {
        droppedSamples++;
        firstDroppedAtMs ??= sample.atMs;
        droppedMax = Math.max(droppedMax, missing);
      }
    }
    const invalid = (await Promise.all(this.checked.values())).filter((problem): problem is string => problem !== undefined);
    return { droppedMax, droppedSamples, firstDroppedAtMs, samples: this.samples.length, invalidContents: invalid, missingSamples };
  }

  private async sample(): Promise<void> {
    if (this.sampling) return;
    this.sampling = true;
    const atMs = Date.now();
    try {
      const text = await readFile(this.file, 'utf8').catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined;
        throw error;
      });
      const sample: Sample = { atMs, realServers: text === undefined ? undefined : realServersOf(text) };
      this.samples.push(sample);
      this.latest = sample;
      if (text !== undefined) this.check(text);
    } finally {
      this.sampling = false;
    }
  }

  /** `keepalived -t` once per distinct content (on a copy: the file may change meanwhile). */
  private check(text: string): void {
    const digest = createHash('sha256').update(text).digest('hex');
    if (this.checked.has(digest)) return;
    this.checked.set(digest, checkKeepalived(text, path.join(this.scratchDir, `keepalived-${digest.slice(0, 16)}.conf`)));
  }
}

export function realServersOf(text: string): string[] {
  return [...text.matchAll(/^\s*real_server\s+(\S+)\s+(\d+)/gm)].map((match) => `${match[1]}:${match[2]}`).sort();
}

/** undefined when keepalived accepts the config; else what it said. An empty file is not a config. */
async function checkKeepalived(text: string, copyFile: string): Promise<string | undefined> {
  if (text.trim() === '') return 'empty keepalived.conf';
  await writeFile(copyFile, text);
  return new Promise((resolve) => {
    execFile('keepalived', ['-t', '-f', copyFile], { timeout: 10_000 }, (error, _stdout, stderr) => {
      resolve(error ? `keepalived -t: ${stderr.trim().split('\n').slice(0, 3).join(' | ') || error.message}` : undefined);
    });
  });
}
