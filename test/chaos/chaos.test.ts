// The chaos suite in its reduced form, for CI (npm run test:chaos:ci): every scenario once, each a
// test that fails when one of its zero-goals is not zero; the table is printed at the end.
// Two scenarios run at a time (each on its own fleet, dir, ports and etcd; CPU and log lines are
// counted per fleet), longest first, to stay within three minutes on two cores.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { formatTable } from './report-table.js';
import { zeroGoalFailures, type ScenarioRow } from './scenario-run.js';
import { SCENARIOS } from './scenarios.js';

/** Longest first (as measured two at a time on this machine), so the two lanes finish together. */
const LONGEST_FIRST = ['controller-killed', 'etcd-cluster', 'leader-frozen', 'commit-storm', 'agents-lost', 'two-agents', 'etcd-killed', 'agent-killed', 'etcd-restored-old', 'director-typo', 'etcd-wiped', 'assign-garbage'];
const rows = new Map<string, ScenarioRow>();

describe('chaos suite (reduced)', { concurrency: 2 }, () => {
  after(() => {
    const inTableOrder = SCENARIOS.map((scenario) => rows.get(scenario.name)).filter((row): row is ScenarioRow => row !== undefined);
    process.stdout.write(`\nchaos suite (reduced):\n${formatTable(inTableOrder)}\n\n`);
  });

  const ordered = [...SCENARIOS].sort((a, b) => rank(a.name) - rank(b.name));
  for (const scenario of ordered) {
    test(`${scenario.name}: ${scenario.promise}`, { timeout: 180_000 }, async () => {
      const row = await scenario.run(true);
      rows.set(scenario.name, row);
      assert.deepEqual(zeroGoalFailures(row), [], `${scenario.name} broke its promise`);
    });
  }
});

function rank(name: string): number {
  const at = LONGEST_FIRST.indexOf(name);
  return at < 0 ? LONGEST_FIRST.length : at;
}
