// Tells the controller a commit landed, through the same door a git host uses: a push webhook,
// signed with the secret ygg dev gave its controller, so polling is only the fallback.
import { createHmac } from 'node:crypto';

export async function triggerController(consoleUrl: string, secret: string, branch: string, sha: string): Promise<void> {
  const body = JSON.stringify({ ref: `refs/heads/${branch}`, after: sha });
  const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  const response = await fetch(new URL('/hooks/git', consoleUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': signature },
    body,
    signal: AbortSignal.timeout(5000),
  });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`the controller answered ${response.status} to the push webhook`);
}
