// Which parts of the console a batch of etcd changes touches, so a client refetches only what it
// shows: jobs and hosts by name, naming by service or director, the status header, the history.
import type { MirrorChange } from '../../controller/fleet-informer.js';
import { keySegments, RENDERER_STATUS_NAME, type KeyLayout } from '../../store/keys.js';

export interface ChangeSummary {
  readonly jobs: readonly string[];
  readonly hosts: readonly string[];
  /** Services and directors whose naming page entry changed. */
  readonly naming: readonly string[];
  readonly status: boolean;
  readonly history: boolean;
  /** The mirror was rebuilt (etcd compacted or reset): every view may have changed. */
  readonly full: boolean;
}

export class ChangeSet {
  private readonly jobs = new Set<string>();
  private readonly hosts = new Set<string>();
  private readonly naming = new Set<string>();
  private status = false;
  private history = false;
  private full = false;

  constructor(private readonly layout: KeyLayout) {}

  get empty(): boolean {
    return !this.full && !this.status && !this.history && this.jobs.size + this.hosts.size + this.naming.size === 0;
  }

  add(change: MirrorChange): void {
    if ('resync' in change) {
      this.full = true;
      return;
    }
    const [kind, first, second] = keySegments(change.key, this.layout.prefix);
    if (first === undefined || first === '') return;
    if ((kind === 'assign' || kind === 'status') && second === RENDERER_STATUS_NAME) this.naming.add(first);
    else if (kind === 'assign' || kind === 'status') {
      this.hosts.add(first);
      if (second) this.jobs.add(second);
      // An instance changing state changes the job's health, which the header counts.
      this.status = true;
    } else if (kind === 'agents' || kind === 'hosts' || kind === 'lost') {
      this.hosts.add(first);
      this.status = true;
    } else if (kind === 'rollouts') {
      this.jobs.add(first);
      this.status = true;
    } else if (kind === 'naming' || kind === 'vips') this.naming.add(first);
    else if (kind === 'sync') {
      if (first === 'current') this.status = true;
      else this.history = true;
    }
  }

  /** What changed since the last take, sorted; empties the set. */
  take(): ChangeSummary {
    const sorted = (set: Set<string>) => [...set].sort();
    const summary = { jobs: sorted(this.jobs), hosts: sorted(this.hosts), naming: sorted(this.naming), status: this.status, history: this.history, full: this.full };
    this.jobs.clear();
    this.hosts.clear();
    this.naming.clear();
    this.status = this.history = this.full = false;
    return summary;
  }
}
