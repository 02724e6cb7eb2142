// Commands that show the fleet need a valid model; on errors they print them and stop (exit 1).
import type { FleetIndex } from '../model/fleet-index.js';
import type { Model } from '../model/types.js';
import { formatFinding } from '../repo/finding.js';
import type { CommandIo } from './command.js';
import { loadRepo } from './repo-options.js';

export class InvalidRepoError extends Error {
  readonly code = 'E_INVALID_REPO';
}

export async function requireModel(path: string, ref: string | undefined, io: CommandIo): Promise<{ model: Model; index: FleetIndex }> {
  const result = await loadRepo(path, ref);
  if (!result.model || !result.index) {
    for (const finding of result.findings) io.stderr(formatFinding(finding));
    throw new InvalidRepoError(`${path} does not validate: fix the errors above (ygg validate)`);
  }
  return { model: result.model, index: result.index };
}
