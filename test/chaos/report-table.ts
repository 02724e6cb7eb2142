// The suite's output: one markdown table row per scenario (the README's table has the same columns),
// then what each scenario broke beyond the columns, and its notes.
import { zeroGoalFailures, type ScenarioRow } from './scenario-run.js';

const HEADER = ['scenario', 'trials', 'converged', 'restarted', 'lost / dup', 'RS dropped', 'worst converge', 'log lines/s', 'CPU %', 'verdict'];

export function tableRow(row: ScenarioRow): string[] {
  return [
    row.scenario,
    String(row.trials),
    String(row.converged),
    String(row.restarted),
    `${row.lost} / ${row.duplicated}`,
    String(row.droppedRealServers),
    row.worstConvergeMs === undefined ? 'never' : `${(row.worstConvergeMs / 1000).toFixed(1)} s`,
    row.logLinesPerSecond.toFixed(1),
    row.cpuPercent.toFixed(0),
    zeroGoalFailures(row).length === 0 ? 'ok' : 'FAIL',
  ];
}

export function formatTable(rows: readonly ScenarioRow[]): string {
  const cells = [HEADER, ...rows.map(tableRow)];
  const widths = HEADER.map((_, column) => Math.max(...cells.map((line) => line[column]!.length)));
  const line = (values: readonly string[]) => `| ${values.map((value, column) => value.padEnd(widths[column]!)).join(' | ')} |`;
  const lines = [line(HEADER), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...rows.map((row) => line(tableRow(row)))];
  for (const row of rows) {
    const failures = zeroGoalFailures(row);
    if (failures.length === 0 && row.notes.length === 0) continue;
    lines.push('', `${row.scenario}:`);
    for (const failure of failures) lines.push(`  FAIL ${firstLine(failure)}`);
    for (const note of row.notes) lines.push(`  note ${firstLine(note)}`);
  }
  return lines.join('\n');
}

function firstLine(text: string): string {
  const [first = '', ...rest] = text.split('\n');
  return rest.length === 0 ? first : `${first} …`;
}
