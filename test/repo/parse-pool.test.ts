import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { sleep } from '../fixtures/controller-harness.js';
import { ParsePool, type ParseReply } from '../../src/repo/parse-pool.js';
import { applyLimits } from '../../src/repo/repo-limits.js';

const dir = mkdtempSync(path.join(tmpdir(), 'ygg-parse-pool-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const limits = applyLimits({ maxFileBytes: 64 * 1024 * 1024, maxDocumentsPerFile: 100_000 }, 'ygg.yaml');
const location = { kind: 'tree' as const, dir };

function write(file: string, text: string) {
  writeFileSync(path.join(dir, file), text);
  return { path: file, id: file };
}

const documentsOf = (reply: ParseReply) => ('parsed' in reply ? reply.parsed[0]!.documents.length : reply);

describe('parse pool', () => {
  it('stops an idle worker, giving its memory back, and starts one again for new work', { timeout: 60_000 }, async () => {
    const pool = new ParsePool({ maxWorkers: 1, idleMs: 200, maxHeapMb: 256, requestTimeoutMs: 60_000 });
    const file = write('host.yaml', 'apiVersion: ygg/v1\nkind: Host\nmetadata: { name: a }\nspec: { ip: 10.0.0.1 }\n');
    assert.equal(documentsOf(await pool.run({ kind: 'parse', location, files: [file], limits })), 1);
    assert.equal(pool.size, 1);
    await sleep(600);
    assert.equal(pool.size, 0, 'the idle worker was stopped');
    assert.equal(documentsOf(await pool.run({ kind: 'parse', location, files: [file], limits })), 1);
    await pool.close();
  });

  it('fails a request that exhausts a worker heap, and goes on with a fresh worker', { timeout: 60_000 }, async () => {
    const pool = new ParsePool({ maxWorkers: 1, idleMs: 60_000, maxHeapMb: 32, requestTimeoutMs: 60_000 });
    const rows = Array.from({ length: 400_000 }, (_, index) => `  k${index}: [${index}, x${index}, { y: ${index} }]`);
    const huge = write('huge.yaml', `apiVersion: ygg/v1\nkind: Host\nmetadata: { name: a }\nspec:\n${rows.join('\n')}\n`);
    await assert.rejects(pool.run({ kind: 'parse', location, files: [huge], limits }), /parsing ran out of memory \(the parse worker's heap is capped at 32 MiB\)/);
    const small = write('small.yaml', 'apiVersion: ygg/v1\nkind: Host\nmetadata: { name: b }\nspec: { ip: 10.0.0.2 }\n');
    assert.equal(documentsOf(await pool.run({ kind: 'parse', location, files: [small], limits })), 1);
    await pool.close();
  });

  it('fails a request that takes too long and stops its worker', { timeout: 60_000 }, async () => {
    // A worker starting under tsx takes far longer than 1 ms: the first request stands for a hung parse.
    const pool = new ParsePool({ maxWorkers: 1, idleMs: 60_000, maxHeapMb: 256, requestTimeoutMs: 1 });
    const file = write('slow.yaml', 'apiVersion: ygg/v1\nkind: Host\nmetadata: { name: c }\nspec: { ip: 10.0.0.3 }\n');
    await assert.rejects(pool.run({ kind: 'parse', location, files: [file], limits }), /parsing took longer than 0.001 s/);
    assert.equal(pool.size, 0, 'the worker was stopped');
    await pool.close();
  });
});
