// A renderer process's life: connect to etcd (retrying: a director must come up while etcd is down,
// leaving the file in place), watch VIPs and endpoints, render debounced. Shared by `ygg render` and
// the agent's director role (`ygg agent --render-keepalived FILE`).
import type { Logger } from 'pino';
import { createConnectionLog } from '../store/connection-log.js';
import { connectEtcd, type EtcdConnectionOptions } from '../store/etcd-connection.js';
import { keyLayout, RENDERER_STATUS_NAME } from '../store/keys.js';
import { retryWithBackoff } from '../store/retry-with-backoff.js';
import { EtcdStateStore } from '../store/state-store.js';
import type { Etcd3 } from 'etcd3';
import { DebouncedRenderer } from './debounced-renderer.js';
import { EndpointView } from './endpoint-view.js';
import { dnsFormat, PROMETHEUS_FORMAT } from './render-formats.js';
import type { WriteCheckedOptions } from './write-checked-file.js';

export type RenderKind = 'keepalived' | 'dns' | 'prometheus';

export interface RendererConfig {
  readonly kind: RenderKind;
  readonly etcd: EtcdConnectionOptions;
  readonly etcdPrefix: string;
  readonly director?: string;
  readonly zone?: string;
  readonly target: string;
  readonly templateText: string;
  readonly write: WriteCheckedOptions;
  readonly minWaitMs: number;
  readonly maxWaitMs: number;
  readonly logger: Logger;
  /** Render once and stop: no retry of etcd, no status record. */
  readonly once?: boolean;
  /** The render gate's knobs (render-gate.ts). */
  readonly allowMassRemoval?: boolean;
  readonly maxRemovedPercent?: number;
}

export interface RunningRenderer {
  readonly renderer: DebouncedRenderer;
  readonly view: EndpointView;
  close(): Promise<void>;
}

export async function runRenderer(config: RendererConfig, signal?: AbortSignal): Promise<RunningRenderer> {
  const { logger } = config;
  const layout = keyLayout(config.etcdPrefix);
  const connect = () => connectEtcd({ ...config.etcd, dialTimeoutMs: config.etcd.dialTimeoutMs ?? 3000 });
  let client: Etcd3 | undefined;
  let view: EndpointView | undefined;
  try {
    client = config.once
      ? await connect()
      : await retryWithBackoff(connect, { ...(signal ? { signal } : {}), onRetry: (error, _attempt, delayMs) => logger.warn({ event: 'etcd_unavailable', delayMs, error: (error as Error).message }, 'etcd unreachable; the file stays as it is') });
    const store = new EtcdStateStore(client, layout);
    view = new EndpointView(store, layout, {
      onProblem: (key, problem) => logger.warn({ key }, problem),
      onRevisionBackwards: (from, to) => logger.error({ event: 'etcd_revision_backwards', from, to }, `etcd revision went backwards from ${from} to ${to}: etcd was restored or replaced; treating it as reset`),
    });
    const started = view;
    const connectionLog = createConnectionLog(logger, { consequence: 'the file stays as it is' });
    started.on('disconnected', () => connectionLog.report(false));
    started.on('changed', () => connectionLog.report(started.connected));
    if (config.once) await started.start();
    else await retryWithBackoff(() => started.start(), { ...(signal ? { signal } : {}) });
    const renderer = new DebouncedRenderer({
      view,
      ...(config.kind === 'keepalived' && config.director ? { director: config.director } : {}),
      templateText: config.templateText,
      target: config.target,
      write: config.write,
      minWaitMs: config.minWaitMs,
      maxWaitMs: config.maxWaitMs,
      logger,
      ...(config.kind === 'dns' && { format: dnsFormat(config.zone!) }),
      ...(config.kind === 'prometheus' && { format: PROMETHEUS_FORMAT }),
      ...(config.allowMassRemoval !== undefined && { allowMassRemoval: config.allowMassRemoval }),
      ...(config.maxRemovedPercent !== undefined && { maxRemovedPercent: config.maxRemovedPercent }),
      ...(config.kind === 'keepalived' && config.director && !config.once && { status: { store, key: layout.status(config.director, RENDERER_STATUS_NAME) } }),
    });
    const running = { view, client };
    return {
      renderer,
      view,
      async close() {
        connectionLog.close();
        await renderer.stop();
        await running.view.close();
        running.client.close();
      },
    };
  } catch (error) {
    await view?.close();
    client?.close();
    throw error;
  }
}
