// Limits on one YAML text, checked before it is parsed (document and alias counts) and right after
// (how far aliases expand it), so an alias bomb ("billion laughs": a few hundred bytes that expand to
// 10^9 values) is refused before the schema validator or an error message walks the expansion.
import { Lexer } from 'yaml';
import { formatBytes, limitSetting, type AppliedLimits } from './repo-limits.js';

export interface TextProblem {
  readonly code: string;
  readonly line: number;
  readonly col: number;
  readonly message: string;
}

function lineColAt(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let index = text.indexOf('\n'); index >= 0 && index < offset; index = text.indexOf('\n', index + 1)) {
    line++;
    lineStart = index + 1;
  }
  return { line, col: offset - lineStart + 1 };
}

/** A `---` at the start of a line always starts a document: YAML forbids it inside any scalar. */
const DOCUMENT_START = /^---(?=[ \t\r\n]|$)/gm;

/** The lexer's markers that stand for no source text (document start, flow end, scalar start). */
const VIRTUAL_TOKENS = new Set(['\x02', '\x18', '\x1f']);

/** Offset of the first alias past `max`, read with `yaml`'s lexer (quoted and block text is not an alias). */
function aliasPastLimit(text: string, max: number): number | undefined {
  let offset = 0;
  let aliases = 0;
  for (const token of new Lexer().lex(text)) {
    if (token[0] === '*' && ++aliases > max) return offset;
    if (!VIRTUAL_TOKENS.has(token)) offset += token.length;
  }
  return undefined;
}

/** An alias (*name) needs an anchor (&name): a text without both characters has none. */
export function mayHaveAliases(text: string): boolean {
  return text.includes('&') && text.includes('*');
}

/** Counts that bound parsing, from the raw text. */
export function checkYamlText(text: string, limits: AppliedLimits): TextProblem | undefined {
  // Sizes are checked before reading; a working-tree file may have grown since (each character is a byte or more).
  if (text.length > limits.maxFileBytes) {
    return { code: 'E_FILE_TOO_LARGE', line: 1, col: 1, message: `file is over the ${formatBytes(limits.maxFileBytes, true)} limit ${limitSetting(limits, 'maxFileBytes')}` };
  }
  let documents = text.length > 0 && !text.startsWith('---') ? 1 : 0;
  for (const match of text.matchAll(DOCUMENT_START)) {
    if (++documents > limits.maxDocumentsPerFile) {
      const message = `more than ${limits.maxDocumentsPerFile.toLocaleString('en-US')} YAML documents in one file ${limitSetting(limits, 'maxDocumentsPerFile')}`;
      return { code: 'E_TOO_MANY_DOCUMENTS', ...lineColAt(text, match.index), message };
    }
  }
  const past = mayHaveAliases(text) ? aliasPastLimit(text, limits.maxAliasesPerFile) : undefined;
  if (past !== undefined) {
    const message = `more than ${limits.maxAliasesPerFile.toLocaleString('en-US')} aliases (*name) in one file ${limitSetting(limits, 'maxAliasesPerFile')}`;
    return { code: 'E_TOO_MANY_ALIASES', ...lineColAt(text, past), message };
  }
  return undefined;
}

/**
 * Whether a parsed value, with its aliases expanded, has more than `max` values. An alias is the same
 * object in two places, so counting each object once and adding its count at every use measures
 * the expansion in time proportional to the text, not to the expansion.
 */
export function expandsPast(value: unknown, max: number): boolean {
  const sizes = new Map<object, number>();
  const sizeOf = (node: unknown): number => {
    if (typeof node !== 'object' || node === null) return 1;
    const known = sizes.get(node);
    if (known !== undefined) return known;
    let size = 1;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      size += sizeOf(child);
      // Stop adding once past the bound: the sums themselves would overflow for a deep bomb.
      if (size > max) break;
    }
    sizes.set(node, size);
    return size;
  };
  return sizeOf(value) > max;
}

/**
 * A rough upper bound of a text's nesting (indentation plus open brackets, quotes not understood).
 * `yaml` recurses once per level and takes seconds, or the process down, on 10^5 levels: a text
 * that js-yaml refused and that may be that deep is located by js-yaml's own mark instead.
 */
export function mayNestDeeperThan(text: string, depth: number): boolean {
  let open = 0;
  let indent = 0;
  let atLineStart = true;
  for (let index = 0; index < text.length; index++) {
    const char = text.charCodeAt(index);
    if (char === 10) {
      atLineStart = true;
      indent = 0;
      continue;
    }
    if (atLineStart && (char === 32 || char === 45 || char === 63 || char === 58)) indent++;
    else atLineStart = false;
    if (char === 91 || char === 123) open++;
    else if ((char === 93 || char === 125) && open > 0) open--;
    if (open + indent > depth) return true;
  }
  return false;
}
