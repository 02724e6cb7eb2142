// One zone file kept current from etcd: the shipped dns-zone.hbs template over zones/<origin> and
// the live naming, checked with named-checkzone where it is installed. For callers that run renderers
// themselves (`ygg dev`); `ygg render dns` is the same with every knob as a flag.
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { EtcdConnectionOptions } from '../store/etcd-connection.js';
import { commandAvailable, namedCheckzone } from './check-commands.js';
import { DEFAULT_MAX_WAIT_MS, DEFAULT_MIN_WAIT_MS, type RenderStatusRecord } from './debounced-renderer.js';
import { runRenderer, type RunningRenderer } from './run-renderer.js';
import { TEMPLATES_DIR } from './template-dir.js';

export interface ZoneFileOptions {
  readonly etcd: EtcdConnectionOptions;
  readonly etcdPrefix: string;
  /** The origin of a Zone document of the commit in force. */
  readonly zone: string;
  readonly target: string;
  readonly logger: Logger;
}

export interface RunningZoneFile extends RunningRenderer {
  /** The first render's outcome: `lastError` set when it failed (e.g. E_RENDER_UNKNOWN_ZONE), `held` when the gate held it. */
  readonly first: RenderStatusRecord;
}

/** Renders the zone to `target` now, then follows etcd until `close()` (or `signal`). */
export async function startZoneFile(options: ZoneFileOptions, signal?: AbortSignal): Promise<RunningZoneFile> {
  const templateText = await readFile(new URL('dns-zone.hbs', TEMPLATES_DIR), 'utf8');
  const check = (await commandAvailable('named-checkzone')) ? namedCheckzone(options.zone) : undefined;
  const running = await runRenderer(
    {
      kind: 'dns',
      etcd: options.etcd,
      etcdPrefix: options.etcdPrefix,
      zone: options.zone,
      target: options.target,
      templateText,
      write: check ? { check } : {},
      minWaitMs: DEFAULT_MIN_WAIT_MS,
      maxWaitMs: DEFAULT_MAX_WAIT_MS,
      logger: options.logger,
    },
    signal,
  );
  await running.renderer.start();
  return Object.assign(running, { first: running.renderer.status });
}
