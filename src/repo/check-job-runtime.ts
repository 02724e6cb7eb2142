// What the agent and the controller would refuse or never manage with a schema-valid job, checked
// at validate time: a spec too big for etcd, files placed where the agent keeps its own or where
// another file is a folder (prepareRelease), URLs fetchArtifact cannot open, health commands written
// as templates (they run as given), and a rollout whose batches can never settle in time (rollJob).
import { RELEASE_MARKER } from '../model/release-layout.js';
import type { Job } from '../model/types.js';
import type { DocumentProblem } from './check-document.js';

export function checkJobRuntime(job: Job): DocumentProblem[] {
  return [...checkSpecSize(job), ...checkPlacedFiles(job), ...checkUrls(job), ...checkHealthCommand(job), ...checkRollout(job)];
}

/**
 * etcd refuses a request over 1.5 MiB, and assign/<host>/<job> carries the job's spec twice while it
 * rolls (the new one and the previous one, to revert to): a bigger spec could never be written, and
 * the controller would retry the write forever.
 */
export const MAX_JOB_SPEC_BYTES = 600 * 1024;

function checkSpecSize(job: Job): DocumentProblem[] {
  const bytes = new TextEncoder().encode(JSON.stringify(job.spec)).length;
  if (bytes <= MAX_JOB_SPEC_BYTES) return [];
  const kib = (value: number) => `${Math.ceil(value / 1024)} KiB`;
  return [{ code: 'E_JOB_TOO_LARGE', path: ['spec'], message: `the job's spec is ${kib(bytes)} as JSON, over ${kib(MAX_JOB_SPEC_BYTES)}: an assignment carries it twice during a rollout and etcd takes at most 1.5 MiB per request; ship big files as dependencies instead of config templates` }];
}

/** Configs and dependencies share the release directory: one path may not be a file and a folder. */
function checkPlacedFiles(job: Job): DocumentProblem[] {
  const placed = [
    ...job.spec.configs.map((config, index) => ({ path: config.path, at: ['spec', 'configs', index, 'path'] })),
    ...job.spec.dependencies.map((dependency, index) => ({ path: dependency.path, at: ['spec', 'dependencies', index, 'path'] })),
  ];
  const files = new Set(placed.map(({ path }) => path));
  const problems: DocumentProblem[] = [];
  for (const { path, at } of placed) {
    if (path === RELEASE_MARKER) {
      problems.push({ code: 'E_RESERVED_PATH', path: at, message: `${path} is where the agent marks a complete release: choose another name` });
      continue;
    }
    const segments = path.split('/');
    for (let length = 1; length < segments.length; length++) {
      const parent = segments.slice(0, length).join('/');
      if (!files.has(parent)) continue;
      problems.push({ code: 'E_PATH_CONFLICT', path: at, message: `${path} needs ${parent} to be a folder, but the job also places a file there` });
      break;
    }
  }
  return problems;
}

/** The agent opens file URLs on its own host, so they name a local path; http(s) URLs must parse as WHATWG URLs. */
function urlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `${url} is not a URL the agent can fetch (a port above 65535, a malformed host?)`;
  }
  if (parsed.protocol !== 'file:') return undefined;
  if (parsed.hostname !== '' && parsed.hostname !== 'localhost') return `${url} names host "${parsed.hostname}": a file URL is read on the agent's own host, write file:///path`;
  if (/%2f|%00/i.test(parsed.pathname)) return `${url} encodes "/" or a NUL byte in its path, which no file path can hold`;
  return undefined;
}

function checkUrls(job: Job): DocumentProblem[] {
  const urls = [
    ...(job.spec.artifact.url !== undefined ? [{ url: job.spec.artifact.url, at: ['spec', 'artifact', 'url'] }] : []),
    ...job.spec.dependencies.flatMap((dependency, index) => (dependency.url !== undefined ? [{ url: dependency.url, at: ['spec', 'dependencies', index, 'url'] }] : [])),
  ];
  return urls.flatMap(({ url, at }) => {
    const message = urlProblem(url);
    return message ? [{ code: 'E_URL', path: at, message }] : [];
  });
}

function checkHealthCommand(job: Job): DocumentProblem[] {
  const command = job.spec.health?.exec?.command ?? [];
  return command.flatMap((argument, index) =>
    argument.includes('{{')
      ? [{ code: 'E_TEMPLATE', path: ['spec', 'health', 'exec', 'command', index], message: `health check commands are not templates: "${argument}" would be passed as is; the check gets the host's ip as $YGG_HOST_IP and runs in the release directory` }]
      : [],
  );
}

/**
 * A batch settles once its instances have been healthy for minHealthySeconds, and fails when that has
 * not happened progressDeadlineSeconds after they were assigned. The old instance drains for
 * drainSeconds before the new one starts, so that time is spent inside the deadline too: when the two
 * together are not shorter than it, every rollout of the job fails (and reverts).
 */
function checkRollout(job: Job): DocumentProblem[] {
  const { minHealthySeconds, progressDeadlineSeconds, drainSeconds } = job.spec.rollout;
  const fails = ': no batch could become healthy in time, every rollout would fail';
  if (minHealthySeconds >= progressDeadlineSeconds) {
    return [{ code: 'E_ROLLOUT', path: ['spec', 'rollout', 'minHealthySeconds'], message: `minHealthySeconds ${minHealthySeconds} is not shorter than progressDeadlineSeconds ${progressDeadlineSeconds}${fails}` }];
  }
  if (drainSeconds + minHealthySeconds >= progressDeadlineSeconds) {
    return [{ code: 'E_ROLLOUT', path: ['spec', 'rollout', 'drainSeconds'], message: `drainSeconds ${drainSeconds} plus minHealthySeconds ${minHealthySeconds} is not shorter than progressDeadlineSeconds ${progressDeadlineSeconds}${fails}` }];
  }
  return [];
}
