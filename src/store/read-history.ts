// The newest audit records, newest first, without reading the whole (ever-growing) history.
import type { Etcd3 } from 'etcd3';
import type { KeyLayout } from './keys.js';
import { isSyncHistoryRecord } from './record-checks.js';
import type { SyncHistoryRecord } from './records.js';

export async function readRecentHistory(client: Etcd3, layout: KeyLayout, limit: number): Promise<SyncHistoryRecord[]> {
  const values = await client.getAll().prefix(layout.syncHistories).sort('Key', 'Descend').limit(limit).json();
  return Object.values(values).filter((value): value is SyncHistoryRecord => isSyncHistoryRecord(value));
}
