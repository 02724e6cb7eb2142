// Authenticates git webhooks before they may trigger a reconcile. A webhook is an unauthenticated
// door into the controller otherwise, so every path that cannot prove the sender is a rejection.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** GitHub caps payloads at 25 MB but a push event is far smaller; anything bigger is not ours. */
export const MAX_WEBHOOK_BODY_BYTES = 5 * 1024 * 1024;

export type WebhookProvider = 'github' | 'gitlab';

/** A verified webhook: who sent it and, for a push, the branch and the new head. */
export interface WebhookEvent {
  readonly provider: WebhookProvider;
  /** The provider's event name: `push`, `ping` (GitHub), `Push Hook` (GitLab), … */
  readonly event: string;
  readonly ref?: string;
  readonly after?: string;
  /** GitHub's delivery id, for correlating log lines with the provider's delivery log. */
  readonly deliveryId?: string;
}

export type WebhookRejectionCode =
  | 'E_WEBHOOK_NO_SECRET'
  | 'E_WEBHOOK_TOO_LARGE'
  | 'E_WEBHOOK_UNSIGNED'
  | 'E_WEBHOOK_MALFORMED_SIGNATURE'
  | 'E_WEBHOOK_BAD_SIGNATURE';

export interface WebhookRejection {
  readonly ok: false;
  readonly code: WebhookRejectionCode;
  readonly reason: string;
  /** Set when the headers say which provider it claims to be, for logs and metrics. */
  readonly provider?: WebhookProvider;
}

export type WebhookVerification = ({ readonly ok: true } & WebhookEvent) | WebhookRejection;

export interface WebhookRequest {
  /** Node's lower-cased request headers. */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** The raw body exactly as received: the signature covers these bytes, not a re-serialisation. */
  readonly body: Uint8Array;
}

const GITHUB_SIGNATURE = /^sha256=([0-9a-fA-F]{64})$/;

export function verifyWebhook(request: WebhookRequest, secret: string | undefined): WebhookVerification {
  if (secret === undefined || secret === '') {
    return reject('E_WEBHOOK_NO_SECRET', 'no webhook secret is configured, so no webhook can be authenticated');
  }
  if (request.body.byteLength > MAX_WEBHOOK_BODY_BYTES) {
    return reject('E_WEBHOOK_TOO_LARGE', `body of ${request.body.byteLength} bytes exceeds ${MAX_WEBHOOK_BODY_BYTES}`);
  }
  const githubSignature = header(request, 'x-hub-signature-256');
  if (githubSignature !== undefined) return verifyGithub(request, githubSignature, secret);
  const gitlabToken = header(request, 'x-gitlab-token');
  if (gitlabToken !== undefined) return verifyGitlab(request, gitlabToken, secret);
  if (header(request, 'x-hub-signature') !== undefined) {
    // GitHub always sends both; only the SHA-1 one means a proxy stripped the other. SHA-1 is not accepted.
    return reject('E_WEBHOOK_UNSIGNED', 'only a SHA-1 X-Hub-Signature was sent; X-Hub-Signature-256 is required', 'github');
  }
  return reject('E_WEBHOOK_UNSIGNED', 'neither X-Hub-Signature-256 nor X-Gitlab-Token is present');
}

function verifyGithub(request: WebhookRequest, signature: string, secret: string): WebhookVerification {
  const match = GITHUB_SIGNATURE.exec(signature.trim());
  if (match === null) {
    return reject('E_WEBHOOK_MALFORMED_SIGNATURE', 'X-Hub-Signature-256 is not "sha256=" followed by 64 hex digits', 'github');
  }
  const received = Buffer.from(match[1]!, 'hex');
  const expected = createHmac('sha256', secret).update(request.body).digest();
  // timingSafeEqual throws on unequal lengths; the regex already fixes the length, this keeps it so.
  if (received.length !== expected.length || !timingSafeEqual(received, expected)) {
    return reject('E_WEBHOOK_BAD_SIGNATURE', 'X-Hub-Signature-256 does not match the body and the configured secret', 'github');
  }
  return accept('github', header(request, 'x-github-event') ?? 'unknown', request.body, header(request, 'x-github-delivery'));
}

function verifyGitlab(request: WebhookRequest, token: string, secret: string): WebhookVerification {
  // Hashing both sides gives equal-length buffers, so the comparison leaks neither content nor length.
  const received = createHash('sha256').update(token).digest();
  const expected = createHash('sha256').update(secret).digest();
  if (!timingSafeEqual(received, expected)) {
    return reject('E_WEBHOOK_BAD_SIGNATURE', 'X-Gitlab-Token does not match the configured secret', 'gitlab');
  }
  return accept('gitlab', header(request, 'x-gitlab-event') ?? 'unknown', request.body, undefined);
}

function accept(provider: WebhookProvider, event: string, body: Uint8Array, deliveryId: string | undefined): WebhookVerification {
  const payload = parsePayload(body);
  return {
    ok: true,
    provider,
    event,
    ...(typeof payload.ref === 'string' ? { ref: payload.ref } : {}),
    ...(typeof payload.after === 'string' ? { after: payload.after } : {}),
    ...(deliveryId !== undefined ? { deliveryId } : {}),
  };
}

/**
 * The payload only refines a trigger that is already authenticated, so an unparsable one is not an
 * error: the reconcile re-reads the branch anyway. GitHub may send JSON or a form with `payload=`.
 */
function parsePayload(body: Uint8Array): Record<string, unknown> {
  const text = Buffer.from(body).toString('utf8');
  const json = text.startsWith('payload=') ? (new URLSearchParams(text).get('payload') ?? '') : text;
  try {
    const value: unknown = JSON.parse(json);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function header(request: WebhookRequest, name: string): string | undefined {
  const value = request.headers[name];
  // A repeated signature header is ambiguous; joining makes it fail the format check instead of picking one.
  return Array.isArray(value) ? value.join(', ') : (value as string | undefined);
}

function reject(code: WebhookRejectionCode, reason: string, provider?: WebhookProvider): WebhookRejection {
  return provider === undefined ? { ok: false, code, reason } : { ok: false, code, reason, provider };
}
