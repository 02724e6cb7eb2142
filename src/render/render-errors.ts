// The ways a render can fail, each with a stable code callers match on. Pure: no I/O here, so the
// text rendering can import it.

export interface RenderInputProblem {
  /** The service the value belongs to; undefined for file-wide values (director, commit, zone). */
  readonly service: string | undefined;
  /** Where in RenderData the value sits, e.g. `vip.check.http.path` or `endpoints[2].ip`. */
  readonly field: string;
  readonly message: string;
}

/** A value that would reach a rendered file is invalid: nothing is rendered. Lists every problem. */
export class RenderInputError extends Error {
  readonly code = 'E_RENDER_INPUT';
  readonly retryable = false;
  readonly service: string | undefined;
  readonly field: string;
  constructor(readonly problems: readonly RenderInputProblem[]) {
    const first = problems[0] ?? { service: undefined, field: '(unknown)', message: 'invalid input' };
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    super(`${first.service === undefined ? '' : `service ${first.service}: `}${first.field}: ${first.message}${more}`);
    this.name = 'RenderInputError';
    this.service = first.service;
    this.field = first.field;
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, problems: this.problems };
  }
}

/** The checker (e.g. `keepalived -t`) refused the rendered file, or there was nothing to write. */
export class RenderCheckError extends Error {
  readonly code = 'E_RENDER_CHECK';
  readonly retryable = false;
  constructor(
    readonly file: string,
    reason: string,
    /** The checker's first stderr lines, as it printed them. */
    readonly details: readonly string[] = [],
  ) {
    super(`${file}: ${reason}${details.length > 0 ? `: ${details.join(' | ')}` : ''}`);
    this.name = 'RenderCheckError';
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, file: this.file, details: this.details };
  }
}

/**
 * The new file is in place but the reload failed. The next identical render reports "unchanged"
 * and would not reload again, so the caller must retry the reload itself.
 */
export class RenderReloadError extends Error {
  readonly code = 'E_RENDER_RELOAD';
  readonly retryable = true;
  constructor(
    readonly file: string,
    readonly checksum: string,
    readonly reason: unknown,
  ) {
    super(`${file}: written (sha256 ${checksum}) but reload failed: ${reason instanceof Error ? reason.message : String(reason)}`);
    this.name = 'RenderReloadError';
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, file: this.file, checksum: this.checksum };
  }
}

const MAX_NAMED_DIRECTORS = 20;

/** No VIP record and no hosts/ record names the director: most likely a typo. Nothing is written. */
export class UnknownDirectorError extends Error {
  readonly code = 'E_RENDER_UNKNOWN_DIRECTOR';
  readonly retryable = false;
  constructor(
    readonly director: string,
    /** The directors etcd knows, the closest to `director` first. */
    readonly known: readonly string[],
    readonly closest: string | undefined,
  ) {
    const hint = closest === undefined ? '' : ` (did you mean ${closest}?)`;
    // A fleet has thousands of hosts: the message names the first few, `known` has them all.
    const more = known.length > MAX_NAMED_DIRECTORS ? ` and ${known.length - MAX_NAMED_DIRECTORS} more` : '';
    super(`unknown director ${JSON.stringify(director)}${hint}: no VIP record and no host names it; known directors: ${known.slice(0, MAX_NAMED_DIRECTORS).join(', ')}${more}`);
    this.name = 'UnknownDirectorError';
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, director: this.director, known: this.known };
  }
}

/** The commit in force declares no Zone with this origin: nothing is written. */
export class UnknownZoneError extends Error {
  readonly code = 'E_RENDER_UNKNOWN_ZONE';
  readonly retryable = false;
  constructor(
    readonly zone: string,
    /** The zones etcd holds (zones/), sorted. */
    readonly known: readonly string[],
  ) {
    const listed = known.length === 0 ? 'etcd holds no zone: declare one in the repo (kind: Zone) and let the controller publish it' : `known zones: ${known.join(', ')}`;
    super(`unknown zone ${JSON.stringify(zone)}: the commit in force declares no Zone with that origin; ${listed}`);
    this.name = 'UnknownZoneError';
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, zone: this.zone, known: this.known };
  }
}
