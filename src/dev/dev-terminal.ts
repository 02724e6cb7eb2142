// Where dev events go. A terminal gets a live block of per-job progress bars, redrawn in place
// under the lines that scroll; anything else (a pipe, a file, a test) gets plain lines and no escape
// codes; `--output json` gets one JSON object per line.
import { terminalSafe } from '../cli/terminal-text.js';
import type { DevEvent, JobProgress } from './dev-events.js';
import { describeEvent, progressLine } from './dev-view.js';

export type OutputMode = 'tty' | 'plain' | 'json';

export interface DevTerminal {
  emit(event: DevEvent): void;
}

/** `write` receives whole chunks, newlines included; nothing in them came unescaped from outside. */
export function createDevTerminal(mode: OutputMode, write: (chunk: string) => void, now: () => Date = () => new Date()): DevTerminal {
  if (mode === 'json') return { emit: (event) => write(`${terminalSafe(JSON.stringify({ time: now().toISOString(), ...event }))}\n`) };
  if (mode === 'plain') return { emit: (event) => write(describeEvent(event).map((line) => `${terminalSafe(line)}\n`).join('')) };
  return liveTerminal(write);
}

const ERASE_BLOCK = (lines: number) => (lines > 0 ? `\x1b[${lines}F\x1b[0J` : '');

function liveTerminal(write: (chunk: string) => void): DevTerminal {
  const jobs = new Map<string, JobProgress>();
  let drawn = 0;
  let scheduled: NodeJS.Immediate | undefined;
  const block = () => {
    const width = Math.max(0, ...[...jobs.keys()].map((name) => name.length));
    return [...jobs.values()].sort((a, b) => (a.job < b.job ? -1 : 1)).map((progress) => terminalSafe(progressLine(progress, width)));
  };
  /** Erases the block, prints `lines` where it was, and draws the block again below them. */
  const redraw = (lines: readonly string[], keepBlock: boolean) => {
    clearImmediate(scheduled);
    scheduled = undefined;
    const next = keepBlock ? block() : [];
    write(ERASE_BLOCK(drawn) + [...lines, ...next].map((line) => `${line}\n`).join(''));
    drawn = next.length;
  };
  return {
    emit(event) {
      if (event.event !== 'job') return redraw(describeEvent(event).map(terminalSafe), event.event !== 'stopped');
      jobs.set(event.progress.job, event.progress);
      // A reading changes many jobs at once: one redraw for all of them.
      scheduled ??= setImmediate(() => redraw([], true));
    },
  };
}
