// The READMEs promise only what exists: every `ygg COMMAND` they show (a command line in a code
// block, or inline code) is a command `ygg --help` lists, unless the sentence says it is still to
// come; every `npm run SCRIPT` is a script of package.json.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { runCli } from './cli/run-cli.js';

const REPO = path.resolve(import.meta.dirname, '..');
const READMES = ['README.md', 'example-repo/README.md', 'bench/README.md', 'test/chaos/README.md'];
const INVOCATION = String.raw`(?:npx\s+ygg|ygg|node\s+bin/ygg\.js)\s+([a-z][a-z-]*)`;
const NOT_YET = /still to come|not yet|to be built/i;

interface Mention {
  readonly file: string;
  readonly text: string;
  readonly name: string;
}

/** `ygg COMMAND` as a command line in a fenced block, or at the start of inline code outside a sentence that says "still to come". */
function commandMentions(file: string): Mention[] {
  const markdown = readFileSync(path.join(REPO, file), 'utf8');
  const mentions: Mention[] = [];
  const blocks = [...markdown.matchAll(/^```[^\n]*\n([\s\S]*?)^```/gm)];
  for (const [, body] of blocks) {
    for (const line of body!.split('\n')) {
      const match = new RegExp(`^\\s*(?:\\$\\s+)?${INVOCATION}`).exec(line);
      if (match) mentions.push({ file, text: line.trim(), name: match[1]! });
    }
  }
  const prose = markdown.replace(/^```[^\n]*\n[\s\S]*?^```/gm, '\n\n');
  for (const paragraph of prose.split(/\n\s*\n/)) {
    for (const sentence of paragraph.replace(/\s+/g, ' ').split(/(?<=[.!?])\s+(?=[A-Z`*])/)) {
      if (NOT_YET.test(sentence)) continue;
      for (const [text, name] of sentence.matchAll(new RegExp(`\`${INVOCATION}[^\`]*\``, 'g'))) mentions.push({ file, text, name: name! });
    }
  }
  return mentions;
}

test('every ygg command the READMEs show exists', async () => {
  const help = await runCli('--help');
  const commands = new Set([...help.stdout.matchAll(/^ {2}([a-z-]+) /gm)].map((match) => match[1]!));
  assert.ok(commands.has('validate') && commands.has('agent'), help.stdout);
  const mentions = READMES.flatMap(commandMentions);
  assert.ok(mentions.length > 20, `found ${mentions.length} mentions`);
  const unknown = mentions.filter((mention) => !commands.has(mention.name)).map((mention) => `${mention.file}: ${mention.text}`);
  assert.deepEqual(unknown, []);
});

test('every npm script the READMEs show exists', () => {
  const scripts = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const named = READMES.flatMap((file) => [...readFileSync(path.join(REPO, file), 'utf8').matchAll(/\bnpm (?:run ([\w:-]+)|(test)\b)/g)].map((match) => ({ file, script: (match[1] ?? match[2])! })));
  assert.ok(named.some((entry) => entry.script === 'test') && named.some((entry) => entry.script === 'demo'));
  assert.deepEqual(named.filter((entry) => !(entry.script in scripts)), []);
});
