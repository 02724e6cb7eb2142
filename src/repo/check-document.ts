// Checks that need one schema-valid document alone (cached with its blob): tag structure,
// cron schedules, template variables, duplicate entries inside a job, addresses nothing can reach.
import { Cron } from 'croner';
import { templateSecrets } from '../model/secret-references.js';
import { parseTag, TagSyntaxError, tagLevelValue } from '../model/tag.js';
import type { Host, Job, Service } from '../model/types.js';
import { unusableAddress } from './check-addresses.js';
import { checkJobRuntime } from './check-job-runtime.js';
import { checkTemplate, jobTemplateVariables } from './check-template.js';
import type { LoadedDocument } from './parse-file.js';

export interface DocumentProblem {
  readonly code: string;
  readonly path: readonly (string | number)[];
  readonly message: string;
}

export function checkDocument(document: LoadedDocument): DocumentProblem[] {
  switch (document.kind) {
    case 'TreeNode':
      return checkTag(document.value.tag, ['metadata', 'tag']);
    case 'Job':
      return checkJob(document.value);
    case 'Host':
      return checkHost(document.value);
    case 'Service':
      return checkService(document.value);
    default:
      return [];
  }
}

/** A problem when nothing can connect to `ip`; `consequence` says what that breaks. */
function addressProblems(ip: string, path: readonly (string | number)[], field: string, consequence: string): DocumentProblem[] {
  const problem = unusableAddress(ip);
  return problem ? [{ code: 'E_ADDRESS', path, message: `${field} ${ip} ${problem}: ${consequence}` }] : [];
}

function checkHost(host: Host): DocumentProblem[] {
  return addressProblems(host.ip, ['spec', 'ip'], 'ip', 'nothing can connect to the host there (naming registers it, LVS and health checks connect to it)');
}

function checkService(service: Service): DocumentProblem[] {
  const { vip } = service;
  if (!vip) return [];
  return [
    ...addressProblems(vip.address, ['spec', 'vip', 'address'], 'vip address', 'clients cannot reach a virtual server there'),
    ...(vip.sorryServer ? addressProblems(vip.sorryServer.address, ['spec', 'vip', 'sorryServer', 'address'], 'sorry server', 'LVS cannot send traffic there') : []),
  ];
}

function checkTag(tag: string, path: readonly string[]): DocumentProblem[] {
  try {
    parseTag(tag);
    return [];
  } catch (error) {
    if (error instanceof TagSyntaxError) return [{ code: error.code, path, message: error.message }];
    throw error;
  }
}

function checkJob(job: Job): DocumentProblem[] {
  const problems = checkTag(job.tag, ['metadata', 'tag']);
  const tagJob = tagLevelValue(job.tag, 'job');
  if (problems.length === 0 && tagJob !== job.name) {
    problems.push({ code: 'E_JOB_TAG', path: ['metadata', 'tag'], message: `the tag's job level must be the job's name: expected "_job.${job.name}" at the end of the tag` });
  }
  const { spec } = job;
  const variables = jobTemplateVariables(job);
  const template = (text: string, path: (string | number)[]) => {
    for (const message of checkTemplate(text, variables)) problems.push({ code: 'E_TEMPLATE', path, message });
  };
  // An argv is readable by every user of the host (ps, /proc/<pid>/cmdline): secrets go through env or files.
  const argument = (text: string, path: (string | number)[]) => {
    template(text, path);
    if (templateSecrets(text).length > 0) problems.push({ code: 'E_SECRET_ARGV', path, message: 'a secret in a command line is readable by every user of the host (ps): pass it in env or a config file' });
  };
  spec.command.forEach((text, index) => argument(text, ['spec', 'command', index]));
  for (const [name, value] of Object.entries(spec.env)) template(value, ['spec', 'env', name]);
  spec.configs.forEach((config, index) => template(config.template, ['spec', 'configs', index, 'template']));
  spec.cron.forEach((task, index) => {
    const scheduleProblem = checkSchedule(task.schedule);
    if (scheduleProblem) problems.push({ code: 'E_CRON', path: ['spec', 'cron', index, 'schedule'], message: scheduleProblem });
    task.command.forEach((text, argumentIndex) => argument(text, ['spec', 'cron', index, 'command', argumentIndex]));
  });
  problems.push(...findDuplicates(spec.cron.map((task) => task.name), ['spec', 'cron'], 'name', 'cron task'));
  const files = [...spec.configs.map((config) => config.path), ...spec.dependencies.map((dependency) => dependency.path)];
  problems.push(...findDuplicates(files, ['spec'], 'path', 'file').map((problem) => ({ ...problem, path: filePath(spec, problem.path) })));
  const health = spec.health;
  const probe = health?.http ? 'http' : 'tcp';
  const healthHost = health?.http?.host ?? health?.tcp?.host;
  if (healthHost !== undefined) problems.push(...addressProblems(healthHost, ['spec', 'health', probe, 'host'], 'health check host', 'a check cannot connect there'));
  const healthPort = health?.http?.port ?? health?.tcp?.port;
  if (healthPort !== undefined && !Object.hasOwn(spec.ports, healthPort)) {
    problems.push({ code: 'E_REF_PORT', path: ['spec', 'health', probe, 'port'], message: `health check port "${healthPort}" is not one of the job's ports (${Object.keys(spec.ports).join(', ') || 'none'})` });
  }
  problems.push(...checkJobRuntime(job));
  return problems;
}

/** Croner looks for the next run from here: any fixed time will do, the clock stays out of the loader. */
const SCHEDULE_REFERENCE = new Date(Date.UTC(2000, 0, 1));

const scheduleProblems = new Map<string, string | undefined>();

/** The problem with a cron schedule, if any; jobs share a few schedules, so answers are remembered. */
function checkSchedule(schedule: string): string | undefined {
  if (scheduleProblems.has(schedule)) return scheduleProblems.get(schedule);
  let problem: string | undefined;
  try {
    // A date that never comes (30 February) parses, and the task would silently never run.
    if (new Cron(schedule).nextRun(SCHEDULE_REFERENCE) === null) problem = `cron schedule "${schedule}" never fires (no such date)`;
  } catch (error) {
    problem = `invalid cron schedule "${schedule}": ${(error as Error).message.replace(/^CronPattern: /, '')}`;
  }
  if (scheduleProblems.size > 10_000) scheduleProblems.clear();
  scheduleProblems.set(schedule, problem);
  return problem;
}

function findDuplicates(values: readonly string[], base: readonly (string | number)[], field: string, what: string): DocumentProblem[] {
  const seen = new Set<string>();
  const problems: DocumentProblem[] = [];
  values.forEach((value, index) => {
    if (seen.has(value)) problems.push({ code: 'E_DUPLICATE', path: [...base, index, field], message: `duplicate ${what} ${field} "${value}"` });
    seen.add(value);
  });
  return problems;
}

/** Maps an index into configs ++ dependencies back to the document path. */
function filePath(spec: Job['spec'], path: readonly (string | number)[]): (string | number)[] {
  const index = path[1] as number;
  return index < spec.configs.length ? ['spec', 'configs', index, 'path'] : ['spec', 'dependencies', index - spec.configs.length, 'path'];
}
