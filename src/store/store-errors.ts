// Typed errors of the etcd edge. Callers match on `code`, never on message text; `retryable` says
// whether waiting can help (etcd down: yes; a wrong password or a missing CA: no).

export type StoreErrorCode =
  | 'E_ETCD_BAD_URL'
  | 'E_ETCD_URL_CREDENTIALS'
  | 'E_ETCD_UNAVAILABLE'
  | 'E_ETCD_NOT_ETCD'
  | 'E_ETCD_TLS'
  | 'E_ETCD_AUTH'
  | 'E_ETCD_PERMISSION'
  | 'E_ETCD_CLOSED'
  | 'E_GUARD_FAILED'
  | 'E_LEASE_LOST'
  | 'E_RETRY_ABORTED';

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    readonly retryable = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreError';
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, retryable: this.retryable };
  }
}

/** No endpoint answered: not started yet, down, or unreachable. Worth retrying. */
export class EtcdUnavailableError extends StoreError {
  constructor(
    readonly endpoints: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super('E_ETCD_UNAVAILABLE', `etcd at ${endpoints} is unreachable: ${reason}`, true, options);
    this.name = 'EtcdUnavailableError';
  }
}

/** Something answered at the address, but not etcd's gRPC API (an HTTP or SSH server, the wrong port):
 * configuration, not weather. */
export class EtcdNotEtcdError extends StoreError {
  constructor(
    readonly endpoints: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super('E_ETCD_NOT_ETCD', `the server at ${endpoints} is not etcd: ${reason}`, false, options);
    this.name = 'EtcdNotEtcdError';
  }
}

/** The TLS handshake failed (unknown CA, missing client certificate): configuration, not weather. */
export class EtcdTlsError extends StoreError {
  constructor(
    readonly endpoints: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super('E_ETCD_TLS', `TLS handshake with etcd at ${endpoints} failed: ${reason}`, false, options);
    this.name = 'EtcdTlsError';
  }
}

/** Wrong or missing user/password (E_ETCD_AUTH), or the user may not touch a key (E_ETCD_PERMISSION). */
export class EtcdAuthError extends StoreError {
  constructor(
    code: 'E_ETCD_AUTH' | 'E_ETCD_PERMISSION',
    readonly endpoints: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    const what = code === 'E_ETCD_AUTH' ? 'authentication with' : 'permission denied by';
    super(code, `${what} etcd at ${endpoints} failed: ${reason}`, false, options);
    this.name = 'EtcdAuthError';
  }
}

/** A guarded write found the guard key not holding the expected value: the writer was deposed. */
export class GuardFailedError extends StoreError {
  constructor(
    readonly guardKey: string,
    readonly expected: string,
    /** Ops committed by earlier transactions of the same batch (batches span several transactions). */
    readonly opsWritten: number,
  ) {
    super('E_GUARD_FAILED', `write refused: ${guardKey} no longer holds ${expected} (${opsWritten} ops were written before)`);
    this.name = 'GuardFailedError';
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), guardKey: this.guardKey, expected: this.expected, opsWritten: this.opsWritten };
  }
}

/** A lease expired, was revoked, or could not be renewed in time: keys under it are (or soon will be) gone. */
export class LeaseLostError extends StoreError {
  constructor(
    readonly leaseId: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super('E_LEASE_LOST', `lease ${leaseId} lost: ${reason}`, true, options);
    this.name = 'LeaseLostError';
  }
}

/** retryWithBackoff was stopped by its AbortSignal; `cause` is the last failure, if any. */
export class RetryAbortedError extends StoreError {
  constructor(options?: { cause?: unknown }) {
    super('E_RETRY_ABORTED', 'retry aborted', false, options);
    this.name = 'RetryAbortedError';
  }
}
