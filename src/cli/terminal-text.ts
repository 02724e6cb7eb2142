// Everything ygg prints passes through here: commit messages, author names, file names, values read
// from etcd and error messages can all come from someone else, and a terminal obeys the escape
// sequences in them (recolouring, moving the cursor, rewriting the title, hiding text).
import type { CommandIo } from './command.js';

/**
 * C0 controls but newline and tab, DEL, C1 controls (8-bit CSI and friends), and the bidirectional
 * overrides and isolates that make text display in another order than it reads ("Trojan Source").
 */
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Shows each unsafe character as a `\uXXXX` escape: visible in text, and inside a JSON string the very
 * escape JSON itself uses, so `--output json` still parses to the same values.
 */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `io` with everything written to it made safe. */
export function terminalSafeIo(io: CommandIo): CommandIo {
  return { stdout: (text) => io.stdout(terminalSafe(text)), stderr: (text) => io.stderr(terminalSafe(text)) };
}
