// Credential files: one `user:password` line per file, mode 0600, one file per host in the
// directory `ygg etcd-setup --out` fills for distribution, read by `--etcd-credentials FILE`.
import { randomBytes } from 'node:crypto';
import { access, constants, mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../repo/write-file-atomic.js';

export interface EtcdCredential {
  readonly user: string;
  readonly password: string;
}

/** A credential file that cannot be used: missing, unreadable or not `user:password`. */
export class CredentialFileError extends Error {
  readonly code = 'E_CREDENTIAL_FILE';
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`credential file ${file}: ${reason}`);
    this.name = 'CredentialFileError';
  }
}

const FILE_MODE = 0o600;
/** 24 random bytes: 192 bits; base64url never holds the `:` that separates user and password. */
const PASSWORD_BYTES = 24;

export function generatePassword(): string {
  return randomBytes(PASSWORD_BYTES).toString('base64url');
}

/** Splits `user:password` (the password may itself hold `:`); the text is the file's, trimmed. */
export function parseCredential(text: string, file: string): EtcdCredential {
  const line = text.trim();
  const colon = line.indexOf(':');
  if (colon <= 0 || colon === line.length - 1 || line.includes('\n')) throw new CredentialFileError(file, 'expected one line "user:password"');
  return { user: line.slice(0, colon), password: line.slice(colon + 1) };
}

export async function readCredentialFile(file: string): Promise<EtcdCredential> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new CredentialFileError(file, `cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return parseCredential(text, file);
}

/** The --out directory: a file per user, named by the access plan (a host's name, `_controller`, …). */
export class CredentialDirectory {
  constructor(readonly dir: string) {}

  /** The credential in `name`, or undefined when there is none that parses. */
  async read(name: string): Promise<EtcdCredential | undefined> {
    try {
      return await readCredentialFile(this.file(name));
    } catch (error) {
      if (error instanceof CredentialFileError) return undefined;
      throw error;
    }
  }

  /** Makes the directory and checks it takes files: the fs error (ENOTDIR, EEXIST, EACCES) when not. */
  async prepare(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await access(this.dir, constants.W_OK);
  }

  async write(name: string, credential: EtcdCredential): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.file(name), `${credential.user}:${credential.password}\n`, { mode: FILE_MODE });
  }

  async remove(name: string): Promise<void> {
    await rm(this.file(name), { force: true });
  }

  file(name: string): string {
    return path.join(this.dir, name);
  }
}
