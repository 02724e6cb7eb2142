// The newest audit records, newest first, without reading the whole (ever-growing) history.
import type { Etcd3 } from 'etcd3';
import type { KeyLayout } from './keys.js';
import { isSyncHistoryRecord } from './record-checks.js';
import type { SyncHistoryRecord } from './records.js';

export async function readRecentHistory(client: Etcd3, layout: KeyLayout, limit: number): Promise<SyncHistoryRecord[]> {
  return (await readHistoryPage(client, layout, limit)).map(({ record }) => record);
}

/**
 * Up to `limit` audit records stored under keys before `before` (from the newest when absent),
 * newest first, each with its key: the next page starts before the last one. A value that is not
 * an audit record (hand-written, garbled) is left out.
 */
export async function readHistoryPage(client: Etcd3, layout: KeyLayout, limit: number, before?: string): Promise<{ key: string; record: SyncHistoryRecord }[]> {
  // A cursor from elsewhere in the key space would widen the range past the audit records.
  if (before !== undefined && !before.startsWith(layout.syncHistories)) return [];
  const builder = client.getAll();
  if (before === undefined) builder.prefix(layout.syncHistories);
  else builder.inRange({ start: layout.syncHistories, end: before });
  const values = await builder.sort('Key', 'Descend').limit(limit).strings();
  return Object.entries(values)
    .sort(([a], [b]) => (a < b ? 1 : a > b ? -1 : 0))
    .flatMap(([key, text]) => {
      const record = parseJson(text);
      return isSyncHistoryRecord(record) ? [{ key, record }] : [];
    });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
