// What a rendered config is made from: the VIPs a director serves and the live endpoints of each
// service, as the renderer reads them from etcd (vips/ and naming/). Plain data, sorted, so the same
// input always renders the same bytes.
import type { Vip } from '../model/types.js';

export interface RenderEndpoint {
  readonly host: string;
  readonly ip: string;
  readonly port: number;
  readonly weight: number;
  readonly job: string;
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

export interface RenderData {
  /** The director this config is for (keepalived), or undefined for fleet-wide files (DNS). */
  readonly director?: string;
  /** Sorted by service name. */
  readonly services: readonly RenderService[];
  /** Where the data came from, for the header: the commit of the VIPs and the etcd revision. */
  readonly commit?: string;
  readonly revision: string;
}
