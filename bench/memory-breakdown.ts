// Where a process's resident memory is, for the memory benchmarks: V8's own view (heap committed vs
// used per space, external and array buffers) next to the kernel's (/proc/self/status and
// /proc/self/smaps), with the anonymous mappings split by what glibc malloc and V8 make of them.
// Linux only; prints what it can read.
import { readFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)}`;

function statusFields(): Record<string, number> {
  const fields: Record<string, number> = {};
  for (const line of readFileSync('/proc/self/status', 'utf8').split('\n')) {
    const match = /^(\w+):\s+(\d+)(?: kB)?$/.exec(line);
    if (match) fields[match[1]!] = Number(match[2]) * (line.endsWith('kB') ? 1024 : 1);
  }
  return fields;
}

/**
 * Resident bytes of the anonymous mappings by kind: `brk` is malloc's main arena ([heap]);
 * `arena` the 64 MiB-aligned regions glibc reserves for other threads' arenas (a mapping of
 * 64 MiB with its unused tail, or its resident head); `other` everything else anonymous: V8's heap
 * pages and code space, big malloc blocks (≥ 128 KiB by default go to their own mmap), thread stacks.
 */
function anonymousByKind(): { brk: number; arena: number; other: number; file: number } {
  const totals = { brk: 0, arena: 0, other: 0, file: 0 };
  let kind: keyof typeof totals = 'other';
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (header) {
      const start = BigInt(`0x${header[1]}`);
      const name = header[4]!;
      const arenaAligned = start % BigInt(64 * 2 ** 20) === 0n;
      kind = name === '[heap]' ? 'brk' : name.startsWith('/') ? 'file' : arenaAligned && name === '' ? 'arena' : 'other';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB$/.exec(line);
    if (rss) totals[kind] += Number(rss[1]) * 1024;
  }
  return totals;
}

/** One paragraph: V8 heap committed/used, off-heap, and the kernel's split of the RSS, in MB. */
export function memoryBreakdown(label: string): string {
  const usage = process.memoryUsage();
  const spaces = getHeapSpaceStatistics()
    .filter((space) => space.space_size > 2 ** 20)
    .map((space) => `${space.space_name.replace('_space', '')} ${mb(space.space_used_size)}/${mb(space.space_size)}`)
    .join(', ');
  const status = statusFields();
  const anon = anonymousByKind();
  return [
    `[${label}] RSS ${mb(usage.rss)} MB (peak VmHWM ${mb(status['VmHWM'] ?? 0)}; anon ${mb(status['RssAnon'] ?? 0)}, file ${mb(status['RssFile'] ?? 0)}; threads ${status['Threads']})`,
    `  V8 heap used/committed ${mb(usage.heapUsed)}/${mb(usage.heapTotal)} MB (${spaces}); external ${mb(usage.external)} MB, of it array buffers ${mb(usage.arrayBuffers)} MB`,
    `  anonymous resident: malloc main arena (brk) ${mb(anon.brk)} MB, 64 MiB-aligned (thread arenas) ${mb(anon.arena)} MB, other (V8 pages, big mallocs, stacks) ${mb(anon.other)} MB; file-backed ${mb(anon.file)} MB`,
  ].join('\n');
}
