// GET /api/naming: services with their VIPs and live endpoints, and each director with its
// renderer's last status and, where this controller can read it, the config in place.
import type { NamingRecord, VipRecord } from '../../store/records.js';
import type { RenderStatusRecord } from '../../render/render-status.js';
import type { FleetFacts } from './fleet-facts.js';
import { DEFAULT_PAGE_SIZE } from './page.js';
import type { RenderedConfig } from './rendered-config.js';

export interface ServiceView {
  readonly name: string;
  readonly job?: string;
  readonly port?: string;
  readonly vip?: VipRecord['vip'];
  readonly directors: readonly string[];
  /** Live endpoints (healthy instances), the first DEFAULT_PAGE_SIZE of `endpointCount`. */
  readonly endpoints: readonly NamingRecord[];
  readonly endpointCount: number;
}

export interface DirectorView {
  readonly name: string;
  readonly agentLive: boolean;
  readonly render: RenderStatusRecord | null;
  readonly config: RenderedConfig;
}

export interface NamingView {
  readonly services: readonly ServiceView[];
  readonly directors: readonly DirectorView[];
}

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export async function buildNamingView(facts: FleetFacts, readConfig: (render: RenderStatusRecord | undefined) => Promise<RenderedConfig>): Promise<NamingView> {
  const { inForce, observed, extras } = facts.state;
  const names = new Set([...(inForce?.model.services.keys() ?? []), ...observed.vips.keys(), ...extras.naming.keys()]);
  const services = [...names].map((name): ServiceView => {
    const declared = inForce?.model.services.get(name);
    const vip = observed.vips.get(name);
    const live = [...(extras.naming.get(name)?.values() ?? [])].sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : a.port - b.port));
    const job = declared?.job ?? vip?.job;
    const port = declared?.port ?? vip?.port;
    const address = vip?.vip ?? declared?.vip;
    return {
      name,
      ...(job !== undefined && { job }),
      ...(port !== undefined && { port }),
      ...(address && { vip: address }),
      directors: declared?.directors ?? vip?.directors ?? [],
      endpoints: live.slice(0, DEFAULT_PAGE_SIZE),
      endpointCount: live.length,
    };
  });
  const directorNames = new Set([...services.flatMap((service) => service.directors), ...extras.renders.keys()]);
  const directors = await Promise.all(
    [...directorNames].map(async (name): Promise<DirectorView> => {
      const render = extras.renders.get(name);
      return { name, agentLive: observed.liveAgents.has(name), render: render ?? null, config: await readConfig(render) };
    }),
  );
  return { services: services.sort(byName), directors: directors.sort(byName) };
}
