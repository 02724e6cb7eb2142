import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FileInventory } from '../../src/render/file-inventory.js';
import { checkDirector, judgeRender, type GateInput, type StoreFacts } from '../../src/render/render-gate.js';
import { UnknownDirectorError } from '../../src/render/render-errors.js';

/** `{ 'vip-a': 4 }` → group vip-a with members m1..m4. */
function inventory(groups: Record<string, number>, header: { commit?: string; revision?: string } = { commit: 'c1', revision: '100' }): FileInventory {
  return { ...header, groups: new Map(Object.entries(groups).map(([group, count]) => [group, new Set(Array.from({ length: count }, (_, index) => `m${index + 1}`))])) };
}

const healthy: StoreFacts = { connected: true, revision: '120', syncCommit: 'c1', sourceRecords: 2 };
const file = inventory({ a: 4, b: 4 });

function judge(overrides: Partial<GateInput>) {
  return judgeRender({ reference: file, proposed: file, declared: new Set(['a', 'b']), store: healthy, ...overrides });
}

describe('judgeRender', () => {
  it('writes a render that removes nothing, whatever the store looks like', () => {
    for (const store of [healthy, { ...healthy, connected: false }, { connected: true, revision: '5', sourceRecords: 0 }]) {
      assert.deepEqual(judge({ proposed: inventory({ a: 5, b: 4 }), store, recovering: true }), { write: true });
    }
  });

  it('writes the fleet’s own losses: a few real servers, or every real server of one VIP among several', () => {
    assert.equal(judge({ proposed: inventory({ a: 3, b: 4 }) }).write, true);
    assert.equal(judge({ proposed: inventory({ a: 4 }) }).write, true, '4 of 8 is not more than half');
  });

  it('holds most real servers going at once, and lets the flag or a higher threshold through', () => {
    const proposed = inventory({ a: 1, b: 2 });
    const held = judge({ proposed });
    assert.equal(held.write, false);
    assert.match(held.write ? '' : held.reason, /5 of 8 real servers \(63% > 50%\)/);
    assert.equal(judge({ proposed, allowMassRemoval: true }).write, true);
    assert.equal(judge({ proposed, maxRemovedPercent: 70 }).write, true);
  });

  it('holds the loss of every virtual server, even of a file with one real server', () => {
    const one = inventory({ a: 1 });
    const verdict = judge({ reference: one, proposed: inventory({}) });
    assert.equal(verdict.write, false);
    assert.match(verdict.write ? '' : verdict.reason, /all virtual servers of the file \(a\)/);
  });

  it('accepts VIPs a commit removed: records gone and sync/current past the file’s commit', () => {
    const proposed = inventory({});
    assert.equal(judge({ proposed, declared: new Set(), store: { ...healthy, syncCommit: 'c2', sourceRecords: 0 } }).write, true);
    // the records are gone but no commit says so: held
    assert.equal(judge({ proposed, declared: new Set(), store: { ...healthy, sourceRecords: 0 } }).write, false);
    // a new commit, but the VIPs are still declared: their real servers were not removed by it
    assert.equal(judge({ proposed, store: { ...healthy, syncCommit: 'c2' } }).write, false);
    // one VIP removed by the commit is explained; the other's real servers are the fleet's loss (4 of 8)
    assert.equal(judge({ proposed: inventory({ a: 4 }), declared: new Set(['a']), store: { ...healthy, syncCommit: 'c2' } }).write, true);
    assert.equal(judge({ proposed: inventory({ a: 1 }), declared: new Set(['a']), store: { ...healthy, syncCommit: 'c2' } }).write, false);
  });

  it('treats a missing sync/current, a store without records and a revision below the file’s as a reset', () => {
    const proposed = inventory({ a: 4, b: 3 });
    const cases: [StoreFacts, RegExp][] = [
      [{ connected: true, revision: '120', sourceRecords: 2 }, /sync\/current is missing while the file names commit c1/],
      [{ ...healthy, sourceRecords: 0 }, /none of the records the file is made from/],
      [{ ...healthy, revision: '7' }, /revision 7, below the file's 100/],
    ];
    for (const [store, reason] of cases) {
      const verdict = judge({ proposed, store, allowMassRemoval: true });
      assert.equal(verdict.write, false, String(reason));
      assert.match(verdict.write ? '' : verdict.reason, reason);
      assert.equal(verdict.write ? undefined : verdict.reset, true);
    }
  });

  it('holds any loss while disconnected or recovering from a reset, until a new commit is in force', () => {
    const proposed = inventory({ a: 4, b: 3 });
    const cut = judge({ proposed, store: { ...healthy, connected: false } });
    assert.equal(cut.write, false);
    assert.equal(cut.write ? undefined : cut.reset, false, 'a disconnect is not a reset');
    const recovering = judge({ proposed, recovering: true });
    assert.equal(recovering.write, false);
    assert.equal(recovering.write ? undefined : recovering.reset, true);
    assert.equal(judge({ proposed, recovering: true, store: { ...healthy, syncCommit: 'c2' } }).write, true);
  });

  it('writes real servers their live agents deregistered (a commit scaling a job down drains them), however many', () => {
    const scaledDown = inventory({ a: 1, b: 1 });
    assert.equal(judge({ proposed: scaledDown }).write, false, 'without knowing why: 6 of 8 at once is held');
    const live = new Set(['m2', 'm3', 'm4']);
    assert.deepEqual(judge({ proposed: scaledDown, deregistered: (member) => live.has(member) }), { write: true });
    // agents gone (a wipe, a partition): not deregistered on purpose, still held
    assert.equal(judge({ proposed: scaledDown, deregistered: () => false }).write, false);
  });
});

describe('checkDirector', () => {
  it('knows a director named by a VIP or a host, holds on an empty store, and names the likeliest typo first', () => {
    assert.equal(checkDirector('lb1', new Set(['lb1'])), 'known');
    assert.equal(checkDirector('lb1', new Set()), 'store-empty');
    assert.throws(
      () => checkDirector('c3-lvs01', new Set(['c3-lvs-02', 'a1-lvs-01', 'c3-lvs-01'])),
      (error: unknown) => {
        assert.ok(error instanceof UnknownDirectorError);
        assert.equal(error.code, 'E_RENDER_UNKNOWN_DIRECTOR');
        assert.deepEqual(error.known, ['c3-lvs-01', 'a1-lvs-01', 'c3-lvs-02']);
        assert.match(error.message, /did you mean c3-lvs-01\?/);
        return true;
      },
    );
  });
});
