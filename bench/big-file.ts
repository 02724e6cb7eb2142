// One oversized YAML file in an otherwise small fleet: how long `ygg validate` takes and how much
// memory it needs to say no. Runs the built CLI in fresh processes; prints figures, not a test.
//
//   npm run build && node --import tsx bench/big-file.ts [--mb 50] [--runs 3]
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { median } from './synthetic-fleet.js';

const root = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({ options: { mb: { type: 'string', default: '50' }, runs: { type: 'string', default: '3' } } });
const targetBytes = Number(values.mb) * 1024 * 1024;
const runs = Number(values.runs);

/** Host documents, one after another, until the file reaches `bytes`; the last one has a mistake, so
 * the file is also re-parsed for positions, as an erroneous file is. */
function hostsYaml(bytes: number): string {
  const parts: string[] = [];
  let size = 0;
  for (let index = 0; size < bytes; index++) {
    const ip = `172.${16 + ((index >> 16) & 15)}.${(index >> 8) & 255}.${index & 255}`;
    const document = `---\napiVersion: ygg/v1\nkind: Host\nmetadata: { name: bulk-${index} }\nspec:\n  ip: ${ip}\n  labels: { idc: bulk, rack: r${index % 64} }\n  state: spare\n`;
    parts.push(document);
    size += document.length;
  }
  parts.push('---\napiVersion: ygg/v1\nkind: Host\nmetadata: { name: bulk-last }\nspec: { ip: 172.31.255.255, state: retired }\n');
  return parts.join('');
}

const dir = mkdtempSync(path.join(tmpdir(), 'ygg-big-file-'));
try {
  cpSync(path.join(root, 'example-repo'), dir, { recursive: true });
  writeFileSync(path.join(dir, 'hosts/bulk.yaml'), hostsYaml(targetBytes));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('-c', 'user.name=bench', '-c', 'user.email=bench@example.com', 'commit', '-qm', 'bulk hosts');
  git('gc', '-q');

  const measure = (label: string, args: string[]) => {
    const samples = Array.from({ length: runs }, () => {
      const started = performance.now();
      const child = spawnSync(process.execPath, ['--import', path.join(root, 'bench/report-resources.mjs'), path.join(root, 'bin/ygg.js'), ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
      const wallMs = performance.now() - started;
      const rss = /YGG_BENCH_MAX_RSS_KB=(\d+)/.exec(child.stderr);
      if (!rss) throw new Error(`no resource report from ygg ${args.join(' ')}:\n${child.stderr}`);
      const firstLine = child.stdout.split('\n').find((line) => line.includes('bulk.yaml')) ?? child.stdout.split('\n')[0];
      return { wallMs, maxRssMb: Number(rss[1]) / 1024, code: child.status, firstLine };
    });
    const wall = samples.map((sample) => sample.wallMs);
    console.log(`${label.padEnd(28)} median ${median(wall).toFixed(0)} ms (min ${Math.min(...wall).toFixed(0)}, max ${Math.max(...wall).toFixed(0)})  peak RSS ${Math.max(...samples.map((sample) => sample.maxRssMb)).toFixed(0)} MB  exit ${samples[0]!.code}`);
    console.log(`${''.padEnd(28)} ${samples[0]!.firstLine?.slice(0, 140)}`);
  };
  console.log(`hosts/bulk.yaml: ${(targetBytes / 1024 / 1024).toFixed(1)} MiB of Host documents; ${runs} runs each; node ${process.version}`);
  measure('validate (working tree)', ['validate', '--repo', dir]);
  measure('validate --ref HEAD (git)', ['validate', '--repo', dir, '--ref', 'HEAD']);
  measure('validate, small fleet only', ['validate', '--repo', path.join(root, 'example-repo')]);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
