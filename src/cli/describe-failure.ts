// One line for an error that ends a command: its message, and for the conditions ygg expects to meet
// (etcd refusing us, a server that is not etcd) what to do about it.

/** What to check, by error code: the flags are the same for every command that talks to etcd. */
const HINTS: Readonly<Record<string, string>> = {
  E_ETCD_UNAVAILABLE: 'is etcd running there? Check --etcd',
  E_ETCD_NOT_ETCD: "check that --etcd names etcd's client URL (port 2379 unless configured otherwise)",
  E_ETCD_AUTH: 'check --etcd-credentials, or --etcd-user and its password (--etcd-password-file or $YGG_ETCD_PASSWORD)',
  E_ETCD_PERMISSION: "grant the etcd user's role read and write on the keys under --etcd-prefix",
  E_ETCD_TLS: 'check --etcd-ca, --etcd-cert and --etcd-key',
};

export function describeFailure(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string') return `${message} (unexpected: YGG_DEBUG=1 shows the stack trace)`;
  const hint = HINTS[code];
  return hint ? `${message}; ${hint}` : message;
}

/** With YGG_DEBUG=1, the stack trace to print after that line. */
export function debugStack(error: unknown): string | undefined {
  if (process.env['YGG_DEBUG'] !== '1') return undefined;
  return error instanceof Error ? error.stack : undefined;
}
