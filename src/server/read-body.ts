// Reads a request body into memory with a hard cap, so a client cannot make the controller buffer
// an unbounded upload before anything has been authenticated.
import type { IncomingMessage } from 'node:http';

export type BodyReadResult = { readonly ok: true; readonly body: Buffer } | { readonly ok: false; readonly receivedBytes: number };

export async function readBody(request: IncomingMessage, limitBytes: number): Promise<BodyReadResult> {
  const declared = Number(request.headers['content-length']);
  // Refuse a declared oversize body before reading a byte of it.
  if (Number.isFinite(declared) && declared > limitBytes) return { ok: false, receivedBytes: declared };
  const chunks: Buffer[] = [];
  let receivedBytes = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    receivedBytes += buffer.length;
    if (receivedBytes > limitBytes) return { ok: false, receivedBytes };
    chunks.push(buffer);
  }
  return { ok: true, body: Buffer.concat(chunks, receivedBytes) };
}
