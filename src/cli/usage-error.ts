// The two ways a command fails on purpose: a mistake in how it was called (exit 2, with the usage
// line), or a condition the user can fix that it met while running (exit 1, one line saying what to do).
export class UsageError extends Error {
  readonly code = 'E_USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export class CommandFailedError extends Error {
  readonly code = 'E_COMMAND_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CommandFailedError';
  }
}

export const EXIT_OK = 0;
export const EXIT_FINDINGS = 1;
export const EXIT_USAGE = 2;
