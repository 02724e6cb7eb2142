// The console's page, styles and ES modules: plain files under console/ at the package root (beside
// schemas/ and templates/), served as they are — no build step, no CDN, so it works offline and the
// same from a clone (src/) and an installed package (dist/). Only files present at start are served:
// the URL never becomes a path on disk.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CONSOLE_DIR = new URL('../../../console/', import.meta.url);

/** Scripts and styles from this server only; nothing inline, no frames, no forms, no other origin. */
export const CONSOLE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export interface StaticFile {
  readonly contentType: string;
  readonly body: Buffer;
}

/** URL path → file: `/` is index.html, every other file is under `/console/`. */
export async function loadConsoleFiles(dir: URL = CONSOLE_DIR): Promise<ReadonlyMap<string, StaticFile>> {
  const root = fileURLToPath(dir);
  const files = new Map<string, StaticFile>();
  let entries;
  try {
    entries = await readdir(root, { recursive: true, withFileTypes: true });
  } catch (error) {
    // A package without its console/ folder still runs the controller: / answers 404, the API works.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return files;
    throw error;
  }
  for (const entry of entries) {
    const contentType = CONTENT_TYPES[path.extname(entry.name)];
    if (!entry.isFile() || contentType === undefined) continue;
    const relative = path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join('/');
    const file = { contentType, body: await readFile(path.join(entry.parentPath, entry.name)) };
    files.set(`/console/${relative}`, file);
    if (relative === 'index.html') files.set('/', file);
  }
  return files;
}

export function staticHeaders(file: StaticFile): Record<string, string> {
  return {
    'Content-Type': file.contentType,
    'Content-Security-Policy': CONSOLE_CSP,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    // Revalidate every time: after an upgrade the page and its modules must not mix versions.
    'Cache-Control': 'no-cache',
  };
}
