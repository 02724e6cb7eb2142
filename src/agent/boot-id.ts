// Which boot of the machine this is. A file written but not fsynced survives a crash of the agent
// (it is in the page cache) but maybe not a crash of the machine; so whatever the agent wrote without
// fsync can be trusted in the boot that wrote it, and checked again after a reboot.
import { readFile } from 'node:fs/promises';

const BOOT_ID_FILE = '/proc/sys/kernel/random/boot_id';

let bootId: Promise<string | undefined> | undefined;

/** The kernel's random id of this boot (Linux); undefined where it cannot be read. */
export function currentBootId(): Promise<string | undefined> {
  bootId ??= readFile(BOOT_ID_FILE, 'utf8').then(
    (text) => text.trim() || undefined,
    () => undefined,
  );
  return bootId;
}
