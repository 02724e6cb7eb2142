// Says once when the whole fleet first runs healthy (with how long it took, the console, etcd and
// the paths), and again each time it settles after a change. Renderers count too: the files they
// keep (each director's keepalived.conf) must exist before the fleet is called up.
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fleetEvents, isSettled, type DevEvent, type FleetReading } from './dev-events.js';
import type { DevLayout } from './dev-layout.js';

export interface SettleContext {
  readonly startedAt: number;
  readonly consoleUrl: string;
  readonly etcdUrl: string;
  /** With --secure: the read-only credential file, for the `ygg status` it suggests. */
  readonly etcdCredentials?: string;
  readonly layout: DevLayout;
  /** The files the run keeps rendered (keepalived.conf of each director, and any other renderer's). */
  readonly renderedFiles: () => Iterable<string>;
}

/** Says once when the whole fleet first runs healthy, and again each time it settles after a change. */
export class SettleWatch {
  private last: FleetReading | undefined;
  private converged = false;
  private settled = false;

  constructor(
    private readonly emit: (event: DevEvent) => void,
    private readonly context: SettleContext,
  ) {}

  onReading(reading: FleetReading): void {
    for (const event of fleetEvents(this.last, reading)) this.emit(event);
    this.last = reading;
    this.recheck();
  }

  recheck(): void {
    const reading = this.last;
    if (!reading) return;
    const settled = isSettled(reading.status) && [...this.context.renderedFiles()].every((file) => existsSync(file));
    if (settled && !this.settled) {
      const { layout } = this.context;
      if (!this.converged) {
        this.converged = true;
        this.emit({
          event: 'converged',
          seconds: (performance.now() - this.context.startedAt) / 1000,
          jobs: reading.status.jobs.length,
          consoleUrl: this.context.consoleUrl,
          etcdUrl: this.context.etcdUrl,
          ...(this.context.etcdCredentials !== undefined && { etcdCredentials: this.context.etcdCredentials }),
          paths: { repo: layout.repo, hosts: layout.hostsDir, keepalived: layout.keepalivedDir, dns: layout.dnsDir, prometheus: layout.prometheusTargets, logs: layout.logDir },
        });
      } else {
        this.emit({ event: 'settled', jobs: reading.status.jobs.length, commit: reading.status.commit?.sha ?? '' });
      }
    }
    this.settled = settled;
  }
}

