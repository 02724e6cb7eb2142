// Waits until a process answers an HTTP path with 200 (or gives up when it exits first).
import { setTimeout as sleep } from 'node:timers/promises';

export async function waitForHttp(url: string, exited: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + timeoutMs;
  while (!gone && Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await response.body?.cancel();
      if (response.ok) return true;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  return false;
}
