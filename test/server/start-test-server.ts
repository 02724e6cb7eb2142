// Starts the real HTTP server on 127.0.0.1, an ephemeral port, with a pino logger whose JSON lines
// the test can read, and every injected dependency replaceable.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { ControllerStatus } from '../../src/server/controller-status.js';
import { startHttpServer, type HttpServerOptions, type RunningHttpServer } from '../../src/server/http-server.js';
import { createControllerMetrics } from '../../src/server/metrics.js';
import type { WebhookEvent } from '../../src/server/webhook-verification.js';

export const SECRET = 'shared-webhook-secret-for-tests';

export const SAMPLE_STATUS: ControllerStatus = {
  commit: { sha: '0123456789abcdef0123456789abcdef01234567', author: 'Ada <ada@example.com>', message: 'bump dispatcher to 1.4.2', time: '2024-05-01T10:00:00.000Z' },
  result: 'Synced',
  jobs: [{ name: 'alias-job-dispatcher', desired: 2, healthy: 2, progressing: 0, state: 'Healthy', version: '1.4.2' }],
  lostHosts: [],
  history: [],
};

export interface TestServer extends RunningHttpServer {
  readonly pushes: WebhookEvent[];
  /** Parsed log lines written so far. */
  logs(): Record<string, unknown>[];
  readonly options: HttpServerOptions;
}

export async function startTestServer(overrides: Partial<HttpServerOptions> = {}): Promise<TestServer> {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter((line) => line !== ''));
      callback();
    },
  });
  const pushes: WebhookEvent[] = [];
  const options: HttpServerOptions = {
    host: '127.0.0.1',
    port: 0,
    logger: pino({ level: 'debug' }, sink),
    metrics: createControllerMetrics(),
    isReady: () => ({ ready: true }),
    getStatus: () => SAMPLE_STATUS,
    webhookSecret: SECRET,
    onPush: (event) => void pushes.push(event),
    now: () => new Date('2024-05-01T10:05:00.000Z'),
    ...overrides,
  };
  const server = await startHttpServer(options);
  return { url: server.url, close: () => server.close(), pushes, options, logs: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}
