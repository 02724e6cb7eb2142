// Bounded work for unbounded input: what one commit may make the loader read and parse. Each limit
// is checked before the work it bounds (sizes before reading, counts before parsing), so a 50 MiB
// file or an alias bomb costs milliseconds to refuse. Errors name the setting that would allow it.
import { REPO_CONFIG_FILE, type RepoFile } from './source.js';
import type { RepoLimits } from '../model/types.js';
import type { Finding } from './finding.js';

const MiB = 1024 * 1024;

export const DEFAULT_REPO_LIMITS: RepoLimits = {
  maxFileBytes: MiB,
  maxDocumentsPerFile: 10_000,
  maxAliasesPerFile: 100,
  maxFiles: 100_000,
  maxTotalBytes: 256 * MiB,
};

/** The limits in force and the ygg.yaml that sets them (for messages). */
export interface AppliedLimits extends RepoLimits {
  readonly setIn: string;
}

export function applyLimits(configured: Partial<RepoLimits> | undefined, setIn: string): AppliedLimits {
  return { ...DEFAULT_REPO_LIMITS, ...configured, setIn };
}

/** "50.0 MiB" for a size; "1 MiB" for a limit (`round`), which people write as round numbers. */
export function formatBytes(bytes: number, round = false): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${bytes} bytes`;
  return `${round && Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}

const count = (value: number) => value.toLocaleString('en-US');

/** "(spec.limits.NAME in ygg.yaml)": where a limit is raised. */
export function limitSetting(limits: AppliedLimits, name: keyof RepoLimits): string {
  return `(spec.limits.${name} in ${limits.setIn})`;
}

export interface FleetSizeCheck {
  /** Over a repo-wide limit: nothing is parsed, these are the only findings. */
  readonly refused: readonly Finding[];
  /** Files over the per-file limit: reported, not read. */
  readonly oversized: ReadonlyMap<string, Finding>;
}

/** Checks file count, total and per-file sizes, before any file is read. */
export function checkFleetSize(files: readonly RepoFile[], sizes: readonly number[], limits: AppliedLimits): FleetSizeCheck {
  const atConfig = (code: string, message: string): Finding => ({ code, severity: 'error', file: REPO_CONFIG_FILE, line: 1, col: 1, message });
  if (files.length > limits.maxFiles) {
    return { refused: [atConfig('E_TOO_MANY_FILES', `the fleet has ${count(files.length)} YAML files, over the ${count(limits.maxFiles)} limit ${limitSetting(limits, 'maxFiles')}`)], oversized: new Map() };
  }
  const total = sizes.reduce((sum, size) => sum + size, 0);
  if (total > limits.maxTotalBytes) {
    const message = `the fleet's YAML files add up to ${formatBytes(total)}, over the ${formatBytes(limits.maxTotalBytes, true)} limit ${limitSetting(limits, 'maxTotalBytes')}`;
    return { refused: [atConfig('E_FLEET_TOO_LARGE', message)], oversized: new Map() };
  }
  const oversized = new Map<string, Finding>();
  files.forEach((file, index) => {
    const size = sizes[index]!;
    if (size <= limits.maxFileBytes) return;
    const message = `file is ${formatBytes(size)}, over the ${formatBytes(limits.maxFileBytes, true)} limit ${limitSetting(limits, 'maxFileBytes')}`;
    oversized.set(file.path, { code: 'E_FILE_TOO_LARGE', severity: 'error', file: file.path, line: 1, col: 1, message });
  });
  return { refused: [], oversized };
}
