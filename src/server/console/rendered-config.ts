// A director's rendered keepalived.conf, read from where its renderer says it wrote it — possible
// when the controller shares the machine (ygg dev) or the file system. The renderer's record
// comes from etcd, so its path is not trusted: the file is shown only when its sha256 is the
// checksum the renderer recorded, which a record pointing at some other file cannot know.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { RenderStatusRecord } from '../../render/render-status.js';

export type RenderedConfig = { readonly text: string } | { readonly unavailable: string };

/** A keepalived.conf for thousands of real servers is a few hundred KB. */
export const MAX_RENDERED_CONFIG_BYTES = 4 * 1024 * 1024;

export async function readRenderedConfig(render: RenderStatusRecord | undefined): Promise<RenderedConfig> {
  if (!render?.checksum || !render.target.startsWith('/')) return { unavailable: 'the renderer has not recorded a file it wrote' };
  let bytes: Buffer;
  try {
    const file = await open(render.target, 'r');
    try {
      const { size } = await file.stat();
      if (size > MAX_RENDERED_CONFIG_BYTES) return { unavailable: `the file is larger than ${MAX_RENDERED_CONFIG_BYTES} bytes` };
      bytes = await file.readFile();
    } finally {
      await file.close();
    }
  } catch (error) {
    return { unavailable: `not readable here (${(error as NodeJS.ErrnoException).code ?? 'error'}): the director's file is on its own machine` };
  }
  if (createHash('sha256').update(bytes).digest('hex') !== render.checksum) return { unavailable: 'the file here is not the one the renderer recorded' };
  return { text: bytes.toString('utf8') };
}
