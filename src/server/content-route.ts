// GET /content/<sha256>: the repo files jobs name as artifact or dependency, for agents to fetch. Only
// files the commit in force references, looked up by digest, so nothing else of the repo is served;
// the agent verifies the digest again after download.
import type { ServerResponse } from 'node:http';

export const CONTENT_PREFIX = '/content/';

export type ContentLookup = (sha256: string) => Promise<Uint8Array | undefined>;

export async function serveContent(lookup: ContentLookup | undefined, path: string, response: ServerResponse): Promise<void> {
  const sha256 = path.slice(CONTENT_PREFIX.length);
  const reply = (status: number, body: string) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ error: body, sha256 }));
  };
  if (!/^[0-9a-f]{64}$/.test(sha256)) return reply(400, 'expected /content/<sha256 as 64 lowercase hex digits>');
  const content = lookup ? await lookup(sha256) : undefined;
  if (!content) return reply(404, 'no file with this digest in the commit in force');
  response.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': String(content.byteLength),
    // Content-addressed: the same URL always means the same bytes.
    'cache-control': 'public, max-age=31536000, immutable',
    etag: `"${sha256}"`,
  });
  response.end(content);
}
