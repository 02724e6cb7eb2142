// The fault handling we give etcd3: a per-host gate that makes requests cheap while the host is down,
// and a global policy that retries an "unreachable" failure on the next host.
//
// Why a gate: after every request that fails as unreachable, etcd3 closes and rebuilds all gRPC
// channels to the host, 10–20 ms of CPU each time. Watches, leases, elections and registration all
// retry while etcd is down, and together that was several % of a core for as long as the outage
// lasted. So once a request to a host has failed that way, the next ones first try a plain TCP
// connect (next to free) and, while it is refused, fail at once in the same way. The first success
// opens the gate again. An open port does not prove that etcd answers: the request itself decides.
// (etcd3's default here, a circuit breaker, refuses every call for 5 s after 3 failures, which only
// delays recovery.)
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { GRPCUnavailableError, isRecoverableError, type IOptions } from 'etcd3';

type FaultHandling = NonNullable<IOptions['faultHandling']>;
type Policy = NonNullable<FaultHandling['global']>;
type Operation<T> = (context: { signal: AbortSignal }) => T | PromiseLike<T>;

// Minimal objects in the shape of cockatiel's policies (etcd3 only calls `execute`), so that we do
// not import cockatiel, which is etcd3's dependency and not ours.
const neverAborted = new AbortController().signal;

/** `endpoint` as etcd3 passes it: an entry of `hosts`, `http(s)://host:port`. */
export function hostGate(endpoint: string, connectTimeoutMs: number): Policy {
  const { protocol, hostname, port } = new URL(endpoint);
  // URL keeps the brackets of an IPv6 literal (net.connect wants the bare address) and leaves out a
  // scheme's default port
  const address = { host: hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(port) || (protocol === 'https:' ? 443 : 80) };
  let down = false;
  return {
    execute: async <T>(fn: Operation<T>) => {
      if (down) {
        const refused = await connectFailure(address, connectTimeoutMs);
        // worded like gRPC's own message, so that error mapping sees the same thing either way
        if (refused) throw new GRPCUnavailableError(`14 UNAVAILABLE: No connection established. Last error: ${refused}`);
      }
      try {
        const result = await fn({ signal: neverAborted });
        down = false;
        return result;
      } catch (error) {
        if (isRecoverable(error)) down = true;
        throw error;
      }
    },
  } as unknown as Policy;
}

/**
 * Retries an "unreachable" failure up to `attempts` times in all (etcd3 then picks the next host), and
 * a request that raced a change of etcd's users or roles up to AUTH_RACE_ATTEMPTS times: etcd checked
 * it against an older auth revision than its own and applied nothing, so sending it again is safe
 * (etcd's Go client does the same). The controller changes access with commits that add or remove
 * hosts; without this, agents' writes at that moment failed.
 */
export function retryRecoverable(attempts: number): Policy {
  return {
    execute: async <T>(fn: Operation<T>) => {
      for (let unreachable = 0, authRaces = 0; ; ) {
        try {
          return await fn({ signal: neverAborted });
        } catch (error) {
          if (isRecoverable(error) && ++unreachable < attempts) continue;
          // a burst of grants (a commit adding hosts) moves the revision on again: give it a moment
          if (isAuthRace(error) && ++authRaces < AUTH_RACE_ATTEMPTS) {
            await sleep(10 * authRaces);
            continue;
          }
          throw error;
        }
      }
    },
  } as unknown as Policy;
}

const AUTH_RACE_ATTEMPTS = 10;

function isAuthRace(error: unknown): boolean {
  return error instanceof Error && error.message.includes('etcdserver: revision of auth store is old');
}

function isRecoverable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && isRecoverableError(error as Error);
}

/** Undefined when a TCP connection succeeds, else why not. */
function connectFailure(address: { host: string; port: number }, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect(address);
    const done = (failure: string | undefined) => {
      socket.destroy();
      resolve(failure);
    };
    socket.setTimeout(timeoutMs, () => done(`connect ETIMEDOUT ${address.host}:${address.port}`));
    socket.once('connect', () => done(undefined));
    socket.once('error', (error) => done(error.message));
  });
}
