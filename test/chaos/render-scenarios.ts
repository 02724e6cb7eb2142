// Mistakes around the director: a typo in --director must not empty a working keepalived.conf.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DIRECTOR } from './chaos-repo.js';
import { realServersOf } from './keepalived-observer.js';
import { runScenario, type Scenario } from './scenario-run.js';
import { runYggOnce } from './ygg-process.js';

/** A near miss, a near miss the schema allows, a name the schema does not; the reduced form skips the middle one. */
const TYPOS = ['lvs-l', 'lvs-01', 'LVS-1'];

export const directorTypo: Scenario = {
  name: 'director-typo',
  promise: '`ygg render keepalived --director <typo> --out <existing file> --once` exits non-zero and leaves the file byte-identical (an unknown director is a mistake, not an empty LB).',
  run: (reduced) =>
    runScenario({ name: 'director-typo', reduced }, async (fleet, log) => {
      const live = readFileSync(fleet.keepalivedFile);
      const render = (director: string, out: string) => runYggOnce(['render', 'keepalived', '--director', director, '--out', out, '--once', '--etcd', fleet.etcd.endpoints, '--log-level', 'warn']);
      for (const typo of reduced ? TYPOS.filter((name) => name !== 'lvs-01') : TYPOS) {
        await log.trial(`--director ${typo}`, async () => {
          const copy = path.join(fleet.dir, 'scratch', `typo-${typo}.conf`);
          writeFileSync(copy, live);
          const { code, output } = await render(typo, copy);
          if (code === 0) log.violation(`--director ${typo}: exit 0, want non-zero`);
          if (!readFileSync(copy).equals(live)) log.violation(`--director ${typo}: the file changed (${realServersOf(readFileSync(copy, 'utf8')).length} real servers left of ${realServersOf(live.toString('utf8')).length})`);
          log.note(`--director ${typo}: exit ${code}${output.trim() ? `: ${output.trim().split('\n')[0]!.slice(0, 160)}` : ''}`);
        }, { settleMs: 0 });
      }
      // The control: the right name renders the same real servers and succeeds, so the runs above
      // fail for the typo and nothing else.
      const control = path.join(fleet.dir, 'scratch', 'control.conf');
      const { code, output } = await render(DIRECTOR.name, control);
      const rendered = realServersOf(readFileSync(control, 'utf8'));
      if (code !== 0 || rendered.join(' ') !== realServersOf(live.toString('utf8')).join(' ')) log.violation(`control render as ${DIRECTOR.name}: exit ${code}, real servers [${rendered.join(' ')}]: ${output.trim().slice(0, 200)}`);
    }),
};
