// Structural checks of the records in records.ts: required fields present with the right JSON types,
// enums among their values. Not the full schema (that is for the repo loader): enough that a reader
// can trust the types it is handed, and skip and report anything hand-edited or foreign.
import type {
  AgentRecord,
  AssignmentEntry,
  AssignmentRecord,
  HostRecord,
  LostHostRecord,
  NamingRecord,
  RemovalRecord,
  RolloutRecord,
  StatusRecord,
  SyncCurrentRecord,
  SyncHistoryRecord,
  VipRecord,
  ZoneRecord,
} from './records.js';
import { arrayOf, boolean, exactly, nullable, number, object, oneOf, optional, recordCheck, recordOf, string, type Shape } from './record-shape.js';

const strings = arrayOf(string);

const jobSpec: Shape = object({
  version: string,
  artifact: object({ path: optional(string), url: optional(string), sha256: string }),
  command: strings,
  env: recordOf(string),
  ports: recordOf(number),
  configs: arrayOf(object({ path: string, template: string, mode: optional(string) })),
  dependencies: arrayOf(object({ path: string, source: optional(string), url: optional(string), sha256: string })),
  cron: arrayOf(object({ name: string, schedule: string, command: strings, timeoutSeconds: optional(number) })),
  health: optional(
    object({
      http: optional(object({ port: string, path: string, host: optional(string) })),
      tcp: optional(object({ port: string, host: optional(string) })),
      exec: optional(object({ command: strings })),
      intervalSeconds: number,
      timeoutSeconds: number,
    }),
  ),
  resources: optional(object({ memoryMB: optional(number), cpu: optional(number) })),
  replicas: optional(number),
  rollout: object({ maxParallel: number, minHealthySeconds: number, autoRevert: boolean, progressDeadlineSeconds: optional(number), drainSeconds: optional(number) }),
  secretVersions: optional(recordOf(object({ version: number, revision: string }))),
});

export const isAssignmentRecord = recordCheck<AssignmentRecord>(
  'AssignmentRecord',
  object({
    job: string,
    tag: string,
    host: object({ name: string, ip: string, labels: recordOf(string) }),
    spec: jobSpec,
    specHash: string,
    commit: string,
    assignedAt: string,
    services: optional(arrayOf(object({ name: string, port: string }))),
    previous: optional(object({ tag: string, host: object({ name: string, ip: string, labels: recordOf(string) }), spec: jobSpec, specHash: string, commit: string })),
  }),
);

export const isRemovalRecord = recordCheck<RemovalRecord>('RemovalRecord', object({ job: string, removed: exactly(true), commit: string, removedAt: string }));

/** What assign/<host>/<job> may hold: an assignment or a removal. */
export const isAssignmentEntry = recordCheck<AssignmentEntry>('AssignmentEntry', (value) => {
  const removal = typeof value === 'object' && value !== null && 'removed' in value;
  return removal ? isRemovalRecord.problems(value) : isAssignmentRecord.problems(value);
});

export const isHostRecord = recordCheck<HostRecord>(
  'HostRecord',
  object({ name: string, ip: string, labels: recordOf(string), state: oneOf('online', 'spare', 'maintenance'), commit: string }),
);

const instanceState = oneOf('Starting', 'Running', 'Healthy', 'Unhealthy', 'CrashLoop', 'Stopped', 'Failed');

export const isStatusRecord = recordCheck<StatusRecord>(
  'StatusRecord',
  object({
    specHash: string,
    release: optional(string),
    pid: optional(number),
    state: instanceState,
    restarts: number,
    lastExit: optional(object({ code: nullable(number), signal: nullable(string), at: string })),
    lastError: optional(string),
    orphaned: optional(object({ since: string, reason: string })),
    since: string,
    updatedAt: string,
    metrics: optional(object({ cpuSeconds: number, rssBytes: number, openFds: number, uptimeSeconds: number })),
  }),
);

export const isAgentRecord = recordCheck<AgentRecord>(
  'AgentRecord',
  object({
    host: string,
    hostname: string,
    ips: strings,
    cpus: number,
    memoryBytes: number,
    diskFreeBytes: number,
    os: string,
    agentVersion: string,
    process: optional(object({ pid: number, startTime: number })),
    metricsAddress: optional(string),
    startedAt: string,
    updatedAt: string,
  }),
);

export const isNamingRecord = recordCheck<NamingRecord>(
  'NamingRecord',
  object({ ip: string, port: number, weight: number, host: string, job: string, specHash: string, tag: optional(string) }),
);

const vip: Shape = object({
  address: string,
  port: number,
  protocol: oneOf('TCP', 'UDP'),
  lbAlgo: oneOf('rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq'),
  lbKind: oneOf('DR', 'NAT', 'TUN'),
  persistenceSeconds: number,
  check: object({
    tcp: optional(object({})),
    http: optional(object({ path: string, statusCode: optional(number) })),
    connectTimeoutSeconds: number,
    delayLoopSeconds: number,
  }),
  sorryServer: optional(object({ address: string, port: number })),
});

export const isVipRecord = recordCheck<VipRecord>(
  'VipRecord',
  object({ service: string, job: string, port: string, vip, directors: strings, commit: string }),
);

const commitRef: Shape = object({ sha: string, author: string, email: string, message: string, timestamp: number });
const syncResult = oneOf('Synced', 'Progressing', 'Rejected', 'Failed');

export const isSyncCurrentRecord = recordCheck<SyncCurrentRecord>(
  'SyncCurrentRecord',
  object({
    commit: commitRef,
    result: syncResult,
    time: string,
    rejected: optional(object({ commit: commitRef, errors: strings })),
  }),
);

export const isSyncHistoryRecord = recordCheck<SyncHistoryRecord>(
  'SyncHistoryRecord',
  object({
    commit: commitRef,
    time: string,
    trigger: string,
    actions: arrayOf(() => []),
    outcome: oneOf('Synced', 'Progressing', 'Rejected', 'Failed', 'RolloutFailed'),
    note: optional(string),
  }),
);

export const isRolloutRecord = recordCheck<RolloutRecord>(
  'RolloutRecord',
  object({
    job: string,
    jobSpecHash: string,
    state: oneOf('InProgress', 'Failed'),
    commit: string,
    startedAt: string,
    batch: optional(number),
    batches: optional(number),
    total: optional(number),
    deadline: optional(string),
    reason: optional(string),
    failedAt: optional(string),
    failedHosts: optional(strings),
    done: optional(number),
    revertedHosts: optional(strings),
    revertedTo: optional(string),
  }),
);

export const isLostHostRecord = recordCheck<LostHostRecord>('LostHostRecord', object({ host: string, since: string, rescheduledAt: optional(string), partitioned: optional(exactly(true)) }));

export const isZoneRecord = recordCheck<ZoneRecord>(
  'ZoneRecord',
  object({
    zone: string,
    ttlSeconds: number,
    soa: object({ hostmaster: string, refreshSeconds: number, retrySeconds: number, expireSeconds: number, negativeTtlSeconds: number }),
    nameServers: arrayOf(object({ name: string, addresses: strings })),
    records: arrayOf(object({ name: string, service: string })),
    commit: string,
  }),
);
