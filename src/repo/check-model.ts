// Cross-document checks on an assembled model: dangling references, jobs with nowhere to run,
// port clashes between jobs that can share a host, addresses, services and their VIPs, zones.
import type { FleetIndex } from '../model/fleet-index.js';
import type { Host, Job, Model } from '../model/types.js';
import { checkFleetAddresses } from './check-addresses.js';
import { checkServices, type InvalidDeclaration } from './check-services.js';
import { checkZones } from './check-zones.js';
import { jobTemplateVariables, templateLabels } from './check-template.js';
import type { DocumentPath, PendingFinding, Report } from './finding.js';

export function checkModel(model: Model, index: FleetIndex, isInvalid: InvalidDeclaration = () => false): PendingFinding[] {
  const findings: PendingFinding[] = [];
  const report: Report = (origin, path, code, message, severity = 'error') =>
    findings.push({ code, severity, message, file: origin.file, docIndex: origin.docIndex, path });
  checkFleetAddresses(model, report);
  checkTreeNodes(model, index, isInvalid, report);
  checkJobs(model, index, report);
  checkPortClashes(index, report);
  checkServices(model, index, isInvalid, report);
  checkZones(model, report);
  return findings;
}

function checkTreeNodes(model: Model, index: FleetIndex, isInvalid: InvalidDeclaration, report: Report): void {
  for (const node of model.treeNodes.values()) {
    node.hosts?.forEach((name, position) => {
      if (!model.hosts.has(name) && !isInvalid('Host', name)) report(node.origin, ['spec', 'hosts', position], 'E_REF_HOST', `unknown host "${name}" (no Host document has that name)`);
    });
    if (node.selector && index.nodeHosts(node).length === 0) {
      report(node.origin, ['spec', 'selector'], 'W_EMPTY_SELECTOR', 'selector matches no host', 'warning');
    }
  }
}

function checkJobs(model: Model, index: FleetIndex, report: Report): void {
  for (const job of model.jobs.values()) {
    const node = index.jobNode(job);
    if (!node) {
      report(job.origin, ['metadata', 'tag'], 'E_NO_TREE_NODE', `no TreeNode at or above tag "${job.tag}": the job has no hosts to run on`);
      continue;
    }
    checkLabelsInTemplates(job, index.nodeHosts(node), report);
    const online = index.onlineHosts(node).length;
    const replicas = job.spec.replicas;
    if (replicas !== undefined && replicas > online) {
      report(job.origin, ['spec', 'replicas'], 'W_REPLICAS', `replicas ${replicas} but tree node ${node.tag} has only ${online} online host(s)`, 'warning');
    }
  }
}

const labelReferences = new WeakMap<Job, readonly { label: string; path: DocumentPath }[]>();

/** Which host labels a job's templates read, and where (remembered per job object). */
function labelsReadBy(job: Job): readonly { label: string; path: DocumentPath }[] {
  let references = labelReferences.get(job);
  if (references) return references;
  const variables = jobTemplateVariables(job);
  const templates: [string, DocumentPath][] = [
    ...job.spec.command.map((argument, index): [string, DocumentPath] => [argument, ['spec', 'command', index]]),
    ...job.spec.configs.map((config, index): [string, DocumentPath] => [config.template, ['spec', 'configs', index, 'template']]),
    ...job.spec.cron.flatMap((task, taskIndex) => task.command.map((argument, index): [string, DocumentPath] => [argument, ['spec', 'cron', taskIndex, 'command', index]])),
  ];
  references = templates.flatMap(([template, path]) => templateLabels(template, variables).map((label) => ({ label, path })));
  labelReferences.set(job, references);
  return references;
}

/** A template that reads `host.labels.X` fails to render on a host without label X: say so now. */
function checkLabelsInTemplates(job: Job, hosts: readonly Host[], report: Report): void {
  for (const { label, path } of labelsReadBy(job)) {
    const missing = hosts.filter((host) => !Object.hasOwn(host.labels, label)).map((host) => host.name);
    if (missing.length === 0) continue;
    const names = missing.length > 3 ? `${missing.slice(0, 3).join(', ')} and ${missing.length - 3} more` : missing.join(', ');
    report(job.origin, path, 'E_TEMPLATE_LABEL', `the template reads host.labels.${label}, but host(s) ${names} of the job's tree node have no label "${label}"`);
  }
}

/**
 * Jobs clash when they declare the same port number and their tree nodes share a host. Hosts bound
 * by the same set of tree nodes see the same jobs, so each distinct set is checked once.
 */
function checkPortClashes(index: FleetIndex, report: Report): void {
  const nodesByHost = new Map<Host, Job[][]>();
  for (const [node, jobs] of index.jobsByNode) {
    for (const host of index.nodeHosts(node)) {
      const groups = nodesByHost.get(host);
      if (groups) groups.push(jobs as Job[]);
      else nodesByHost.set(host, [jobs as Job[]]);
    }
  }
  const hostsBySignature = new Map<string, { groups: Job[][]; hosts: string[] }>();
  for (const [host, groups] of nodesByHost) {
    const signature = groups.map((jobs) => jobs[0]!.name).join('\0');
    const entry = hostsBySignature.get(signature);
    if (entry) entry.hosts.push(host.name);
    else hostsBySignature.set(signature, { groups, hosts: [host.name] });
  }
  const reported = new Set<string>();
  for (const { groups, hosts } of hostsBySignature.values()) {
    const owners = new Map<number, { job: Job; portName: string }>();
    const jobs = groups.flat().sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const job of jobs) {
      for (const [portName, port] of Object.entries(job.spec.ports)) {
        const owner = owners.get(port);
        if (!owner) {
          owners.set(port, { job, portName });
          continue;
        }
        const key = `${owner.job.name}\0${job.name}\0${port}`;
        if (reported.has(key) || owner.job === job) continue;
        reported.add(key);
        const where = hosts.length > 3 ? `${hosts.slice(0, 3).join(', ')} and ${hosts.length - 3} more` : hosts.join(', ');
        report(job.origin, ['spec', 'ports', portName], 'E_PORT_CLASH', `port ${port} clashes with port "${owner.portName}" of job ${owner.job.name} (${owner.job.origin.file}): both can run on ${where}`);
      }
    }
  }
}
