// What a rendered config is made from: the VIPs a director serves and the live endpoints of each
// service, as the renderer reads them from etcd (vips/ and naming/). Plain data, sorted, so the same
// input always renders the same bytes.
import type { Vip } from '../model/types.js';
import type { ResolvedZone } from '../model/zone-records.js';

export interface RenderEndpoint {
  readonly host: string;
  readonly ip: string;
  readonly port: number;
  readonly weight: number;
  readonly job: string;
  /** The job's service-tree tag, when the agent wrote it into naming. */
  readonly tag?: string;
}

/** A host of the fleet (hosts/) and where its agent serves /metrics, for fleet-wide files. */
export interface RenderHost {
  readonly name: string;
  readonly ip: string;
  readonly labels: Readonly<Record<string, string>>;
  /** agents/<host> metricsAddress, kept while the host is in the fleet (a dead agent stays a target). */
  readonly metricsAddress?: string;
}

export interface RenderService {
  readonly name: string;
  readonly job: string;
  /** The job's port name the service points at. */
  readonly port: string;
  /** Absent for a service without LVS: DNS still names its endpoints. */
  readonly vip?: Vip;
  readonly directors: readonly string[];
  /** Live, healthy endpoints, sorted by ip then port. */
  readonly endpoints: readonly RenderEndpoint[];
}

/** A record the render left out (not a valid record, or a value that cannot reach the file). */
export interface SkippedInput {
  /** The key relative to the etcd prefix, e.g. `naming/web/h1:80`. */
  readonly key: string;
  readonly problem: string;
}

export interface RenderData {
  /** The director this config is for (keepalived), or undefined for fleet-wide files (DNS). */
  readonly director?: string;
  /** Sorted by service name. */
  readonly services: readonly RenderService[];
  /** DNS only: the zones the commit in force declares (zones/), sorted by origin. */
  readonly zones?: readonly ResolvedZone[];
  /** Where the data came from, for the header: the commit in force (sync/current) and the etcd revision. */
  readonly commit?: string;
  readonly revision: string;
  /** Fleet-wide files only (no director): every host, sorted by name. */
  readonly hosts?: readonly RenderHost[];
  /** Records left out of `services`, each with why: they are reported, never a reason to stop rendering. */
  readonly skipped?: readonly SkippedInput[];
}
