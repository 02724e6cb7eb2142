// `ygg dev --secure`: the dev cluster with etcd's authentication on, the way production should run:
// what `ygg etcd-setup` makes (a role per host, the controller's, a read-only one), one credential
// file per process, applied again for each commit in force (hosts added or removed), so every
// process of the run logs in as itself. The root password is random, kept with the credentials.
import type { Etcd3 } from 'etcd3';
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

export class DevAccess {
  /** Applications run one after another: two commits in force close together must not race. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly root: Etcd3,
    private readonly credentials: CredentialDirectory,
  ) {}

  /** Turns auth on in the run's fresh etcd and makes the credentials of `model`'s fleet. */
  static async enable(etcdUrl: string, dir: string, model: Model): Promise<DevAccess> {
    const credentials = new CredentialDirectory(dir);
    const password = generatePassword();
    await credentials.write(ROOT_LOGIN, { user: ROOT_USER, password });
    const { client } = await connectAsRoot({ endpoints: [etcdUrl] }, password);
    const access = new DevAccess(client, credentials);
    try {
      await access.apply(model);
    } catch (error) {
      client.close();
      throw error;
    }
    return access;
  }

  /** Users and roles for `model`'s hosts: new hosts get theirs, removed ones are revoked. */
  apply(model: Model): Promise<void> {
    const prefix = model.config.etcdPrefix;
    const run = this.queue.then(() => applyAccess({ client: this.root, plan: planAccess(model, buildFleetIndex(model), prefix), layout: keyLayout(prefix), credentials: this.credentials }));
    this.queue = run.catch(() => undefined);
    return run.then(() => undefined);
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

  close(): void {
    this.root.close();
  }
}
