// Turns document paths into file:line:col. Only files with findings get here, so the slower
// position-keeping parser (`yaml`) runs on them alone; the fast path never keeps positions.
import { isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments, type Node } from 'yaml';
import type { DocumentPath, Finding, PendingFinding } from './finding.js';

interface LocatedNode {
  readonly offset: number;
}
function childOf(node: unknown, segment: string | number): { key?: Node; value?: Node } | undefined {
  if (isMap(node)) {
    const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment));
    if (!pair) return undefined;
    return { key: pair.key as Node, value: (pair.value ?? undefined) as Node | undefined };
  }
  if (isSeq(node) && typeof segment === 'number') {
    const item = node.items[segment];
    return item === undefined ? undefined : { value: item as Node };
  }
  return undefined;
}

/** The deepest node on `path` that exists; a missing field is reported at its parent. */
function findNode(root: Node | null, path: DocumentPath, atKey: boolean): LocatedNode | undefined {
  let current: Node | null = root;
  let best: LocatedNode | undefined = current?.range ? { offset: current.range[0] } : undefined;
  for (let index = 0; index < path.length && current; index++) {
    const last = index === path.length - 1;
    const child = childOf(current, path[index]!);
    if (!child) break;
    const target = last && atKey ? child.key : (child.value ?? child.key);
    if (target?.range) best = { offset: target.range[0] };
    current = child.value ?? null;
  }
  return best;
}

/** Locates findings of one file, given its text. */
export function locateFindings(text: string, pending: readonly PendingFinding[]): Finding[] {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter, uniqueKeys: false });
  const list = Array.isArray(documents) ? documents : [];
  return pending.map((finding) => {
    const document = list[finding.docIndex];
    const located = document ? findNode(document.contents as Node | null, finding.path, finding.atKey ?? false) : undefined;
    const offset = located?.offset ?? document?.range[0] ?? 0;
    const { line, col } = lineCounter.linePos(offset);
    return {
      code: finding.code,
      severity: finding.severity,
      message: finding.message,
      file: finding.file,
      line: Math.max(1, line),
      col: Math.max(1, col),
    };
  });
}

/** The first syntax error `yaml` reports, with its position; undefined if it finds none. */
export function locateSyntaxError(text: string): { line: number; col: number; message: string } | undefined {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter, uniqueKeys: false });
  const list = Array.isArray(documents) ? documents : [documents];
  for (const document of list) {
    const error = document.errors[0];
    if (error) {
      const position = error.linePos?.[0] ?? lineCounter.linePos(error.pos[0]);
      // yaml appends a code excerpt after the first line; keep the one-line message.
      const message = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      return { line: position.line, col: position.col, message };
    }
  }
  return undefined;
}
