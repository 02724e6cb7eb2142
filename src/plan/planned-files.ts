// The files a change makes the renderers write: every director's keepalived.conf and every zone file,
// rendered for both states with the real templates and diffed. Endpoints come from placement —
// every placed instance's host ip:port counts as live — since a plan runs before anything is
// deployed. Headers name a fixed commit and revision (and zones serial 0) so only what is served
// differs. Pure: the templates' text is passed in.
import type { Model } from '../model/types.js';
import { resolveZone, type ResolvedZone } from '../model/zone-records.js';
import { renderConfig } from '../render/render-config.js';
import type { RenderData, RenderEndpoint, RenderService } from '../render/render-data.js';
import { renderZone } from '../render/render-zone.js';
import type { DesiredState } from './compute-plan.js';
import { unifiedDiff } from './unified-diff.js';

export interface PlanTemplates {
  readonly keepalived: string;
  readonly zone: string;
}

export interface PlannedFile {
  readonly kind: 'keepalived' | 'zone';
  /** The director (keepalived) or the zone's origin. */
  readonly name: string;
  /** '' when the state renders no such file. */
  readonly before: string;
  readonly after: string;
  /** Unified diff, ---/+++ header and hunks; absent when a side could not be rendered. */
  readonly diff?: string;
  /** Why a side could not be rendered (a value a renderer refuses). */
  readonly error?: string;
}

/** What the header of a planned file names: no commit is in force yet, no etcd revision exists. */
const PLANNED = { commit: 'planned', revision: '0' } as const;
const WEIGHT = 1;

/** Every service with its VIP and the endpoints placement gives it. */
function plannedServices(state: DesiredState): RenderService[] {
  const { model, placement } = state;
  return [...model.services.values()]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((service) => {
      const job = model.jobs.get(service.job);
      const port = job?.spec.ports[service.port];
      const endpoints: RenderEndpoint[] =
        job && port !== undefined
          ? (placement.get(job.name) ?? []).flatMap((hostName) => {
              const host = model.hosts.get(hostName);
              return host ? [{ host: host.name, ip: host.ip, port, weight: WEIGHT, job: job.name }] : [];
            })
          : [];
      return { name: service.name, job: service.job, port: service.port, ...(service.vip && { vip: service.vip }), directors: [...service.directors].sort(), endpoints };
    });
}

function directorsOf(model: Model | undefined): Set<string> {
  return new Set([...(model?.services.values() ?? [])].flatMap((service) => (service.vip ? service.directors : [])));
}

function resolvedZones(model: Model): ResolvedZone[] {
  const services = [...model.services.keys()];
  return [...model.zones.values()].map((zone) => resolveZone(zone, services).resolved).sort((a, b) => (a.zone < b.zone ? -1 : 1));
}

function render(produce: () => string): { text: string } | { error: string } {
  try {
    return { text: produce() };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

function plannedFile(kind: PlannedFile['kind'], name: string, before: () => string, after: () => string): PlannedFile | undefined {
  const old = render(before);
  const next = render(after);
  if ('error' in old || 'error' in next) {
    const error = 'error' in next ? `head: ${next.error}` : `base: ${(old as { error: string }).error}`;
    return { kind, name, before: 'text' in old ? old.text : '', after: 'text' in next ? next.text : '', error };
  }
  if (old.text === next.text) return undefined;
  const label = kind === 'keepalived' ? `${name}/keepalived.conf` : `${name}.zone`;
  return { kind, name, before: old.text, after: next.text, diff: unifiedDiff(label, old.text === '' ? undefined : old.text, next.text === '' ? undefined : next.text) };
}

/** The keepalived.conf of every director and the file of every zone that differ between the states, sorted. */
export function plannedFiles(base: DesiredState | undefined, head: DesiredState, templates: PlanTemplates): PlannedFile[] {
  const baseServices = base ? plannedServices(base) : [];
  const headServices = plannedServices(head);
  const files: PlannedFile[] = [];
  const baseDirectors = directorsOf(base?.model);
  const headDirectors = directorsOf(head.model);
  for (const director of [...new Set([...baseDirectors, ...headDirectors])].sort()) {
    const data = (services: RenderService[]): RenderData => ({ director, ...PLANNED, services: services.filter((service) => service.vip && service.directors.includes(director)) });
    const file = plannedFile(
      'keepalived',
      director,
      () => (baseDirectors.has(director) ? renderConfig(templates.keepalived, data(baseServices)) : ''),
      () => (headDirectors.has(director) ? renderConfig(templates.keepalived, data(headServices)) : ''),
    );
    if (file) files.push(file);
  }
  const baseZones = base ? resolvedZones(base.model) : [];
  const headZones = resolvedZones(head.model);
  for (const origin of [...new Set([...baseZones, ...headZones].map((zone) => zone.zone))].sort()) {
    const zoneFile = (zones: ResolvedZone[], services: RenderService[]) => () =>
      zones.some((zone) => zone.zone === origin) ? renderZone(templates.zone, { ...PLANNED, services, zones }, origin, 0) : '';
    const file = plannedFile('zone', origin, zoneFile(baseZones, baseServices), zoneFile(headZones, headServices));
    if (file) files.push(file);
  }
  return files;
}
