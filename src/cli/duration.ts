// Durations on the command line: 500ms, 30s, 5m, 1h (a bare number is seconds).
import { UsageError } from './usage-error.js';

const UNITS_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseDurationMs(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new UsageError(`--${flag} must be a duration such as 500ms, 30s, 5m or 1h, got "${text}"`);
  const milliseconds = Number(match[1]) * UNITS_MS[match[2] ?? 's']!;
  if (milliseconds <= 0) throw new UsageError(`--${flag} must be longer than zero, got "${text}"`);
  return Math.round(milliseconds);
}
