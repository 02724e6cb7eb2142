// Names inside a job's release directory that the agent owns, so the repo may not place files there.

/** Written last into a release: a release directory without it is incomplete and never activated. */
export const RELEASE_MARKER = '.ygg-release.json';
