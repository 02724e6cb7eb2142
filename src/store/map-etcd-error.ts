// etcd3 reports failures as a zoo of gRPC error classes with long messages; callers of the store
// need three answers: is etcd unreachable (retry), is our configuration wrong (TLS, auth: stop and
// say so), or something else (pass it on unchanged).
import {
  ClientClosedError,
  EtcdAuthenticationFailedError,
  EtcdInvalidAuthTokenError,
  EtcdPermissionDeniedError,
  GRPCDeadlineExceededError,
  GRPCInternalError,
  GRPCInvalidArgumentError,
  GRPCNotImplementedError,
  GRPCResourceExhastedError,
  GRPCUnauthenticatedError,
  GRPCUnavailableError,
  GRPCUnknownError,
} from 'etcd3';
import { EtcdAuthError, EtcdTlsError, EtcdUnavailableError, StoreError } from './store-errors.js';

const TLS_FAILURE = /certificate|ssl|tls|handshake/i;

/** Maps etcd3's error to a StoreError when it is one we mean; returns anything else unchanged. */
export function toStoreError(error: unknown, endpoints: string): unknown {
  if (error instanceof StoreError || !(error instanceof Error)) return error;
  const reason = describeCause(error.message);
  const options = { cause: error };
  if (
    error instanceof EtcdAuthenticationFailedError ||
    error instanceof EtcdInvalidAuthTokenError ||
    error instanceof GRPCUnauthenticatedError ||
    // etcd with auth enabled, asked without credentials
    (error instanceof GRPCInvalidArgumentError && error.message.includes('user name is empty'))
  ) {
    return new EtcdAuthError('E_ETCD_AUTH', endpoints, reason, options);
  }
  // used after close(): a bug or a shutdown race, never worth retrying
  if (error instanceof ClientClosedError) return new StoreError('E_ETCD_CLOSED', `the client for etcd at ${endpoints} is closed`, false, options);
  if (error instanceof EtcdPermissionDeniedError) return new EtcdAuthError('E_ETCD_PERMISSION', endpoints, reason, options);
  // BrokenCircuitError comes from cockatiel (etcd3's fault handling), matched by name so as not to
  // depend on a package we do not declare.
  if (error instanceof GRPCUnavailableError || error instanceof GRPCDeadlineExceededError || error.name === 'BrokenCircuitError') {
    if (TLS_FAILURE.test(error.message)) return new EtcdTlsError(endpoints, reason, options);
    return new EtcdUnavailableError(endpoints, reason, options);
  }
  return error;
}

/**
 * True when a server answered, but not as etcd does: an HTTP/1 server or SSH (grpc-js: "Protocol
 * error"), an HTTP/2 server that is not gRPC ("Received HTTP status code 404", "Call ended without
 * gRPC status", or its body read as a gRPC frame of absurd length), or a gRPC server without etcd's
 * services (UNIMPLEMENTED). Only connectEtcd's first request, a read of one key, asks: later a proxy
 * in front of etcd may answer so for a moment while etcd restarts, and a large read is legitimate.
 */
export function answeredButNotEtcd(error: unknown): boolean {
  if (error instanceof GRPCNotImplementedError) return true;
  if (error instanceof GRPCUnavailableError) return /Protocol error/i.test(error.message);
  if (error instanceof GRPCResourceExhastedError) return /Received message larger than max/i.test(error.message);
  if (error instanceof GRPCInternalError || error instanceof GRPCUnknownError) return /without gRPC status|Received HTTP status code/i.test(error.message);
  return false;
}

/** "14 UNAVAILABLE: No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:1. Resolution note: "
 * → "connect ECONNREFUSED 127.0.0.1:1". */
export function describeCause(message: string): string {
  const lastError = /Last error: (?:Error: )?(.*?)\.?\s*(?:Resolution note:.*)?$/s.exec(message)?.[1];
  const cause = lastError || message.replace(/^\w*Error: /, '').replace(/^\d+ [A-Z_]+: /, '');
  // grpc-js stamps some causes with the time: "Protocol error (2026-11-28T08:20:10.566Z)"
  return cause.replace(/\s*\(\d{4}-\d\d-\d\dT[\d:.]+Z\)$/, '').trim() || message;
}
