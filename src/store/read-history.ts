// The newest audit records, newest first, without reading the whole (ever-growing) history.
import type { Etcd3 } from 'etcd3';
import type { KeyLayout } from './keys.js';
import { isSyncHistoryRecord } from './record-checks.js';
import type { SyncHistoryRecord } from './records.js';

export async function readRecentHistory(client: Etcd3, layout: KeyLayout, limit: number): Promise<SyncHistoryRecord[]> {
  return (await readHistoryPage(client, layout, limit)).records.map(({ record }) => record);
}

export interface HistoryRead {
  /** Newest first, each with the key it is stored under. */
  readonly records: { key: string; record: SyncHistoryRecord }[];
  /**
   * The cursor of the next page (the oldest key read), or undefined when the history ends here. It
   * is not the last record's key: a value left out must not end the paging early.
   */
  readonly next: string | undefined;
}

/**
 * Up to `limit` audit records stored under keys before `before` (from the newest when absent),
 * newest first, each with its key. A value that is not an audit record (hand-written, garbled) is
 * left out.
 */
export async function readHistoryPage(client: Etcd3, layout: KeyLayout, limit: number, before?: string): Promise<HistoryRead> {
  // A cursor from elsewhere in the key space would widen the range past the audit records.
  if (before !== undefined && !before.startsWith(layout.syncHistories)) return { records: [], next: undefined };
  const builder = client.getAll();
  if (before === undefined) builder.prefix(layout.syncHistories);
  else builder.inRange({ start: layout.syncHistories, end: before });
  const values = await builder.sort('Key', 'Descend').limit(limit).strings();
  const entries = Object.entries(values).sort(([a], [b]) => (a < b ? 1 : a > b ? -1 : 0));
  const records = entries.flatMap(([key, text]) => {
    const record = parseJson(text);
    return isSyncHistoryRecord(record) ? [{ key, record }] : [];
  });
  return { records, next: entries.length === limit ? entries[entries.length - 1]![0] : undefined };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
