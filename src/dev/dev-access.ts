// `ygg dev --secure`: the dev cluster with etcd's authentication on, the way production should run:
// what `ygg etcd-setup` makes (a role per host, the controller's, a read-only one), one credential
// file per process, so every process of the run logs in as itself. After the first setup the
// controller keeps access following each commit in force (--root-password-file, --credentials-out),
// in the order that never cuts off a host still running a job. The root password is random, kept
// with the credentials.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { CONTROLLER_FILE, planAccess, READONLY_FILE, RENDERER_FILE } from '../authz/access-plan.js';
import { applyAccess } from '../authz/apply-access.js';
import { CredentialDirectory, generatePassword, readCredentialFile, type EtcdCredential } from '../authz/credential-files.js';
import { connectAsRoot, ROOT_USER } from '../authz/etcd-root.js';
import { buildFleetIndex } from '../model/fleet-index.js';
import type { Model } from '../model/types.js';
import { keyLayout } from '../store/keys.js';

/** Credential file names (etcd-setup's): the controller's, the read-only one, the renderers', root's. */
export const CONTROLLER_LOGIN = CONTROLLER_FILE;
export const READONLY_LOGIN = READONLY_FILE;
export const RENDERER_LOGIN = RENDERER_FILE;
const ROOT_LOGIN = '_root';
/** The bare root password, as the controller's --root-password-file takes it. */
const ROOT_PASSWORD_FILE = '_root.password';

export class DevAccess {
  private constructor(private readonly credentials: CredentialDirectory) {}

  /** Turns auth on in the run's fresh etcd and makes the credentials of `model`'s fleet. */
  static async enable(etcdUrl: string, dir: string, model: Model): Promise<DevAccess> {
    const credentials = new CredentialDirectory(dir);
    const password = generatePassword();
    await credentials.write(ROOT_LOGIN, { user: ROOT_USER, password });
    await writeFile(credentials.file(ROOT_PASSWORD_FILE), `${password}\n`, { mode: 0o600 });
    const { client } = await connectAsRoot({ endpoints: [etcdUrl] }, password);
    try {
      const prefix = model.config.etcdPrefix;
      await applyAccess({ client, plan: planAccess(model, buildFleetIndex(model), prefix), layout: keyLayout(prefix), credentials });
    } finally {
      client.close();
    }
    return new DevAccess(credentials);
  }

  /** What the controller needs besides its login to keep access following each commit. */
  controllerAccessFlags(): string[] {
    return ['--root-password-file', this.file(ROOT_PASSWORD_FILE), '--credentials-out', this.credentials.file('')];
  }

  /**
   * Resolves once a host's credential file exists: the controller writes it for a host a commit adds
   * before that host's assignments. False after `timeoutMs` (the controller did not apply the commit).
   */
  async waitForCredential(login: string, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!existsSync(this.file(login))) {
      if (Date.now() >= deadline) return false;
      await sleep(100);
    }
    return true;
  }

  /** The flags a `ygg` process logs in with: a host's name, or CONTROLLER_LOGIN / READONLY_LOGIN / RENDERER_LOGIN. */
  flags(login: string): string[] {
    return ['--etcd-credentials', this.file(login)];
  }

  /** The credential file of a login (a host's name, or the controller's or read-only one). */
  file(login: string): string {
    return this.credentials.file(login);
  }

  /** The read-only credential, for what the run itself reads from etcd. */
  readonly(): Promise<EtcdCredential> {
    return readCredentialFile(this.credentials.file(READONLY_LOGIN));
  }
}
