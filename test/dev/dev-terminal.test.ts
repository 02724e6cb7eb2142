import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { DevEvent } from '../../src/dev/dev-events.js';
import { createDevTerminal } from '../../src/dev/dev-terminal.js';
import { describeEvent, progressBar, progressLine } from '../../src/dev/dev-view.js';

const progress = (job: string, healthy: number, desired: number): DevEvent => ({ event: 'job', progress: { job, state: healthy === desired ? 'Healthy' : 'Progressing', healthy, desired, version: '1.0.0' } });

function capture(mode: 'tty' | 'plain' | 'json') {
  const chunks: string[] = [];
  const terminal = createDevTerminal(mode, (chunk) => chunks.push(chunk), () => new Date('2026-01-01T00:00:00Z'));
  return { terminal, chunks };
}

describe('dev view', () => {
  it('draws progress bars in proportion, full when nothing is desired', () => {
    assert.equal(progressBar(0, 4, 8), '[--------]');
    assert.equal(progressBar(1, 4, 8), '[##------]');
    assert.equal(progressBar(4, 4, 8), '[########]');
    assert.equal(progressBar(0, 0, 8), '[########]');
  });

  it('says why a rollout failed on the job line', () => {
    const line = progressLine({ job: 'web', state: 'Degraded', healthy: 1, desired: 2, version: '1.1.0', rollout: { state: 'Failed', commit: 'abcdef1234', reason: 'batch 1 not healthy in 60 s' } });
    assert.equal(line, 'web  [##########----------] 1/2 healthy  Degraded  1.1.0  rollout of abcdef1 failed: batch 1 not healthy in 60 s');
  });

  it('names the commit and the first error of a rejection', () => {
    assert.deepEqual(describeEvent({ event: 'commit_rejected', sha: 'abcdef1234', errors: ['a.yaml:1:1: broken', 'b.yaml:2:2: also'] }), ['commit abcdef1 rejected: a.yaml:1:1: broken (and 1 more)']);
  });
});

describe('dev terminal', () => {
  it('prints plain lines without escape codes, and neutralises control characters from outside', () => {
    const { terminal, chunks } = capture('plain');
    terminal.emit(progress('web', 1, 2));
    terminal.emit({ event: 'commit_applied', sha: 'abcdef1234', message: 'evil \u001b[2J message' });
    assert.deepEqual(chunks, ['web  [##########----------] 1/2 healthy  Progressing  1.0.0\n', 'commit abcdef1 applied: evil \\u001b[2J message\n']);
  });

  it('prints one JSON object per event with its time', () => {
    const { terminal, chunks } = capture('json');
    terminal.emit({ event: 'started', what: 'etcd', detail: 'http://127.0.0.1:1' });
    assert.deepEqual(chunks.map((chunk) => JSON.parse(chunk)), [{ time: '2026-01-01T00:00:00.000Z', event: 'started', what: 'etcd', detail: 'http://127.0.0.1:1' }]);
  });

  it('on a terminal, redraws the job block in place once per burst, under the lines that scroll', async () => {
    const { terminal, chunks } = capture('tty');
    terminal.emit(progress('web', 0, 2));
    terminal.emit(progress('db', 0, 1));
    await nextTurn();
    assert.deepEqual(chunks, ['db   [--------------------] 0/1 healthy  Progressing  1.0.0\nweb  [--------------------] 0/2 healthy  Progressing  1.0.0\n']);
    terminal.emit({ event: 'commit_applied', sha: 'abcdef1234', message: 'm' });
    assert.equal(chunks[1], '\u001b[2F\u001b[0Jcommit abcdef1 applied: m\ndb   [--------------------] 0/1 healthy  Progressing  1.0.0\nweb  [--------------------] 0/2 healthy  Progressing  1.0.0\n');
    terminal.emit({ event: 'stopped', processes: 3, jobs: 2 });
    assert.equal(chunks[2], '\u001b[2F\u001b[0Jstopped 3 process(es) and 2 job(s); nothing left running\n');
  });
});

describe('rollout progress', () => {
  it('follows the rollout, not health, while the status carries its batches', () => {
    const line = progressLine({ job: 'web', state: 'Degraded', healthy: 4, desired: 4, version: '1.1.0', rollout: { state: 'InProgress', commit: 'abcdef1234', batch: 2, batches: 4, done: 1, total: 4 } });
    assert.equal(line, 'web  [#####---------------] 4/4 healthy  Degraded  1.1.0  rolling out abcdef1: 1/4 on the new spec, batch 2/4');
  });
});
