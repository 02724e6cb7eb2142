// The console's JSON API and event stream, all read from the controller's memory (the audit
// history excepted): /api/tree, /api/jobs/<name>, /api/hosts/<name>, /api/naming, /api/history,
// /api/events. An unknown name answers 404 with the names that were probably meant.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { closestMatches } from '../../util/closest-match.js';
import type { ControllerStatus } from '../controller-status.js';
import type { ChangeSummary } from './change-set.js';
import type { ConsoleSource, HistoryPage } from './console-source.js';
import { EventStream, type EventStreamOptions } from './event-stream.js';
import { FleetFactsCache, type FleetFacts } from './fleet-facts.js';
import { buildHostView, hostNames } from './host-view.js';
import { buildJobView, jobNames } from './job-view.js';
import { buildNamingView } from './naming-view.js';
import { pageRequest } from './page.js';
import { readRenderedConfig } from './rendered-config.js';
import { buildTreeView, type TreeView } from './tree-view.js';

export const MAX_HISTORY_PAGE = 200;
const DEFAULT_HISTORY_PAGE = 50;
const MAX_LISTED_ACTIONS = 100;

export type JsonReply = { readonly code: number; readonly body: unknown };

export interface ConsoleApi {
  /** Undefined when the path is not one of the console's. */
  handle(request: IncomingMessage, response: ServerResponse, url: URL): Promise<JsonReply | 'streaming' | undefined>;
  readonly events: EventStream;
  close(): void;
}

/** What the header needs, small enough to send with every change. */
export function statusHeadline(status: ControllerStatus) {
  const jobStates: Record<string, number> = {};
  for (const job of status.jobs) jobStates[job.state] = (jobStates[job.state] ?? 0) + 1;
  return { commit: status.commit, result: status.result, ...(status.rejected && { rejected: status.rejected }), jobs: status.jobs.length, jobStates, lostHosts: status.lostHosts };
}

export function createConsoleApi(source: ConsoleSource, streamOptions: Pick<EventStreamOptions, 'debounceMs' | 'heartbeatMs'> = {}): ConsoleApi {
  const cache = new FleetFactsCache(source);
  // The tree is the one view every open console asks for after every change: built once per change.
  const trees = new WeakMap<FleetFacts, TreeView>();
  const tree = (facts: FleetFacts) => trees.get(facts) ?? trees.set(facts, buildTreeView(facts)).get(facts)!;
  const events = new EventStream({
    ...streamOptions,
    layout: source.layout,
    subscribe: (listener) => source.subscribe(listener),
    snapshot: () => ({ status: cache.facts().status }),
    describe: (changed: ChangeSummary) => describeChange(cache.facts(), changed),
  });
  const named = (prefix: string, path: string) => (path.startsWith(prefix) && path.length > prefix.length ? decodeName(path.slice(prefix.length)) : undefined);
  return {
    events,
    close: () => events.close(),
    async handle(request, response, url) {
      const path = url.pathname;
      if (path === '/api/events') {
        // HEAD asks whether the stream is there; attaching would hold the connection open for nothing.
        if (request.method === 'HEAD') return ok(null);
        events.attach(request, response);
        return 'streaming';
      }
      if (path === '/api/tree') return ok(tree(cache.facts()));
      if (path === '/api/naming') return ok(await buildNamingView(cache.facts(), readRenderedConfig));
      if (path === '/api/history') return history(source, url.searchParams);
      const job = named('/api/jobs/', path);
      if (job !== undefined) {
        const facts = cache.facts();
        const view = buildJobView(facts, job, pageRequest(url.searchParams), url.searchParams.get('state') ?? undefined);
        return view ? ok(view) : unknown('job', job, jobNames(facts));
      }
      const host = named('/api/hosts/', path);
      if (host !== undefined) {
        const facts = cache.facts();
        const view = buildHostView(facts, host, pageRequest(url.searchParams));
        return view ? ok(view) : unknown('host', host, hostNames(facts));
      }
      return undefined;
    },
  };
}

function describeChange(facts: FleetFacts, changed: ChangeSummary) {
  const jobs = changed.jobs.flatMap((name) => facts.health.get(name) ?? []);
  return { changed, status: statusHeadline(facts.status), jobs };
}

async function history(source: ConsoleSource, query: URLSearchParams): Promise<JsonReply> {
  const asked = Number(query.get('limit') ?? DEFAULT_HISTORY_PAGE);
  const limit = Number.isSafeInteger(asked) && asked > 0 ? Math.min(asked, MAX_HISTORY_PAGE) : DEFAULT_HISTORY_PAGE;
  const before = query.get('before') ?? undefined;
  let page: HistoryPage;
  try {
    page = await source.readHistory(limit, before);
  } catch (error) {
    // The one view read from etcd: while etcd is away it is unavailable, like /api/status, not a
    // server fault logged with a stack trace per request (the controller already says etcd is down).
    return { code: 503, body: { error: 'history unavailable', reason: error instanceof Error ? error.message : String(error) } };
  }
  const records = page.records.map(({ key, record }) => ({
    key,
    time: record.time,
    commit: record.commit,
    trigger: record.trigger,
    outcome: record.outcome,
    // One audit record of a first sync holds an action per instance: the page shows the first few.
    actions: record.actions.slice(0, MAX_LISTED_ACTIONS),
    actionCount: record.actions.length,
    ...(record.note !== undefined && { note: record.note }),
  }));
  return ok({ records, next: page.next ?? null });
}

/** A malformed %-escape is taken literally: it then names nothing, and the 404 says so. */
function decodeName(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return encoded;
  }
}

function ok(body: unknown): JsonReply {
  return { code: 200, body };
}

function unknown(kind: string, name: string, candidates: readonly string[]): JsonReply {
  return { code: 404, body: { error: `no ${kind} named "${name}"`, kind, name, suggestions: closestMatches(name, candidates) } };
}
