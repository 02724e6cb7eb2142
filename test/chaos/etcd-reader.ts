// Reads and writes etcd through its JSON gateway (/v3/kv/*): a stateless request per call, tried on
// each endpoint in turn, so the observer neither depends on the code under test nor keeps a client
// whose reconnect logic a fault could wedge.
const b64 = (text: string) => Buffer.from(text).toString('base64');
const fromB64 = (text: string | undefined) => Buffer.from(text ?? '', 'base64').toString('utf8');

/** The key just after every key that starts with `prefix`. */
function rangeEnd(prefix: string): string {
  const bytes = Buffer.from(prefix);
  bytes[bytes.length - 1]! += 1;
  return bytes.toString('base64');
}

export interface RangeResult {
  readonly revision: number;
  readonly values: Map<string, string>;
}

export class EtcdReader {
  constructor(private readonly endpoints: readonly string[]) {}

  async range(prefix: string): Promise<RangeResult> {
    const body = (await this.call('/v3/kv/range', { key: b64(prefix), range_end: rangeEnd(prefix) })) as { header: { revision: string }; kvs?: { key: string; value?: string }[] };
    return { revision: Number(body.header.revision), values: new Map((body.kvs ?? []).map((kv) => [fromB64(kv.key), fromB64(kv.value)])) };
  }

  async put(key: string, value: string): Promise<number> {
    const body = (await this.call('/v3/kv/put', { key: b64(key), value: b64(value) })) as { header: { revision: string } };
    return Number(body.header.revision);
  }

  /** Every put under `prefix` after `fromRevision`, in order: a watch from that revision, read until it reaches today's revision. */
  async puts(prefix: string, fromRevision: number): Promise<{ key: string; value: string; revision: number }[]> {
    const { revision } = await this.range(prefix);
    const found: { key: string; value: string; revision: number }[] = [];
    if (revision <= fromRevision) return found;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), 10_000);
    try {
      const response = await fetch(`${this.endpoints[0]}/v3/watch`, {
        method: 'POST',
        body: JSON.stringify({ create_request: { key: b64(prefix), range_end: rangeEnd(prefix), start_revision: fromRevision + 1 } }),
        signal: abort.signal,
      });
      let buffered = '';
      let reached = fromRevision;
      for await (const chunk of response.body!) {
        buffered += Buffer.from(chunk).toString('utf8');
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const line of lines.filter((text) => text.trim() !== '')) {
          const events = (JSON.parse(line) as { result?: { events?: { type?: string; kv: { key: string; value?: string; mod_revision: string } }[] } }).result?.events ?? [];
          for (const event of events) {
            reached = Math.max(reached, Number(event.kv.mod_revision));
            if (event.type !== 'DELETE') found.push({ key: fromB64(event.kv.key), value: fromB64(event.kv.value), revision: Number(event.kv.mod_revision) });
          }
        }
        // Events under the prefix stop at its last write, which may be before the store's revision.
        if (reached >= revision || (await this.lastModRevision(prefix)) <= reached) break;
      }
    } finally {
      clearTimeout(timer);
      abort.abort();
    }
    return found;
  }

  private async lastModRevision(prefix: string): Promise<number> {
    const body = (await this.call('/v3/kv/range', { key: b64(prefix), range_end: rangeEnd(prefix), keys_only: true })) as { kvs?: { mod_revision: string }[] };
    return Math.max(0, ...(body.kvs ?? []).map((kv) => Number(kv.mod_revision)));
  }

  private async call(route: string, request: unknown): Promise<unknown> {
    let lastError: unknown;
    for (const endpoint of this.endpoints) {
      try {
        const response = await fetch(`${endpoint}${route}`, { method: 'POST', body: JSON.stringify(request), signal: AbortSignal.timeout(2000) });
        if (response.ok) return await response.json();
        lastError = new Error(`${endpoint}${route}: HTTP ${response.status} ${await response.text()}`);
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError instanceof Error ? lastError : new Error(String(lastError));
  }
}

export function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
