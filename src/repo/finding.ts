// A problem found in the repo. Findings are collected, never thrown, so one run reports them all.
import type { DocumentOrigin } from '../model/types.js';

export type Severity = 'error' | 'warning';

/** A path into a YAML document, like ajv's instancePath split into segments. */
export type DocumentPath = readonly (string | number)[];

/** A finding tied to a document node, located later (only erroneous files are re-parsed for positions). */
export interface PendingFinding {
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
  readonly file: string;
  readonly docIndex: number;
  readonly path: DocumentPath;
  /** Point at the key of the last path segment instead of its value (unknown fields). */
  readonly atKey?: boolean;
}

/** How a cross-document check reports a finding at a path of a document. */
export type Report = (origin: DocumentOrigin, path: DocumentPath, code: string, message: string, severity?: Severity) => void;

export interface Finding {
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

export function compareFindings(a: Finding, b: Finding): number {
  return a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.col - b.col || (a.message < b.message ? -1 : a.message > b.message ? 1 : 0);
}

export function formatFinding(finding: Finding): string {
  const prefix = finding.severity === 'warning' ? 'warning: ' : '';
  return `${finding.file}:${finding.line}:${finding.col}: ${prefix}${finding.message}`;
}

/** GitHub Actions workflow command; `%`, CR and LF must be escaped in the message and properties. */
export function formatGithubAnnotation(finding: Finding): string {
  const escapeData = (text: string) => text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
  const escapeProperty = (text: string) => escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
  return `::${finding.severity} file=${escapeProperty(finding.file)},line=${finding.line},col=${finding.col},title=${escapeProperty(finding.code)}::${escapeData(finding.message)}`;
}

export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some((finding) => finding.severity === 'error');
}
