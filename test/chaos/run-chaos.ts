// `npm run test:chaos`: every scenario at full strength (or --reduced, the CI form), one after the
// other, each row printed as it finishes, then the table. Exits 1 when a zero-goal was missed.
//
//   node --import tsx test/chaos/run-chaos.ts [--reduced] [--only name,name]
import { parseArgs } from 'node:util';
import { formatTable, tableRow } from './report-table.js';
import { zeroGoalFailures, type ScenarioRow } from './scenario-run.js';
import { SCENARIOS } from './scenarios.js';

const { values } = parseArgs({ options: { reduced: { type: 'boolean' }, only: { type: 'string' } } });
const only = values.only?.split(',').map((name) => name.trim());
const unknown = only?.filter((name) => !SCENARIOS.some((scenario) => scenario.name === name)) ?? [];
if (unknown.length > 0) {
  process.stderr.write(`unknown scenario(s): ${unknown.join(', ')}; known: ${SCENARIOS.map((scenario) => scenario.name).join(', ')}\n`);
  process.exit(2);
}

const rows: ScenarioRow[] = [];
for (const scenario of SCENARIOS.filter((candidate) => !only || only.includes(candidate.name))) {
  const startedMs = Date.now();
  const row = await scenario.run(values.reduced ?? false);
  rows.push(row);
  process.stdout.write(`${tableRow(row).join(' | ')}   (${((Date.now() - startedMs) / 1000).toFixed(0)} s)\n`);
}
process.stdout.write(`\n${formatTable(rows)}\n`);
process.exitCode = rows.some((row) => zeroGoalFailures(row).length > 0) ? 1 : 0;
