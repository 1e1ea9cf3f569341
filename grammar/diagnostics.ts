// Diagnostics: the front end's diagnostic type (its codes are in catalogue.ts) and the compiler-style printer
// (file:line:col, caret, hint).

export type Severity = 'error' | 'warning';

export interface Span {
  file: string;
  line: number; // 1-based
  column: number; // 1-based
  endColumn?: number; // 1-based, inclusive, on `line`
}

export interface Diagnostic {
  code: string;
  severity: Severity;
  message: string;
  span?: Span;
  hint?: string;
  /** The text of `span.file` when it is no file (`<--set>`: the --set options, one a line), for the caret. */
  sourceText?: string;
}

/** Every code the front end and checker emit, with its title and explanation (printed by `smcirc explain`). */
export { CATALOGUE, type Explanation } from './catalogue.js';
import type { CATALOGUE } from './catalogue.js';
import { LIMITS } from '../compiler/check/limits.js';

export type Code = keyof typeof CATALOGUE;

export function diag(code: Code, message: string, span?: Span, hint?: string, severity: Severity = 'error'): Diagnostic {
  return { code, severity, message, span, hint };
}

/** A diagnostic raised from deep inside the checker; caught at the statement level. */
export class DiagnosticError extends Error {
  constructor(readonly diagnostic: Diagnostic) {
    super(diagnostic.message);
  }
}

export function fail(code: Code, message: string, span?: Span, hint?: string): never {
  throw new DiagnosticError(diag(code, message, span, hint));
}

/** Prints like a compiler: `file:line:col: error SMC2003: message`, the source line, a caret, a hint. */
export function formatDiagnostic(d: Diagnostic, sources: ReadonlyMap<string, string>): string {
  const where = d.span ? `${d.span.file}:${d.span.line}:${d.span.column}: ` : '';
  const lines = [`${where}${d.severity} ${d.code}: ${d.message}`];
  const text = d.span ? (sources.get(d.span.file) ?? d.sourceText) : undefined;
  if (d.span && text !== undefined) {
    const src = sourceLine(text, d.span.line);
    if (src !== undefined) {
      const gutter = String(d.span.line).padStart(4);
      // A long line (minified or generated text) is shown as a window around the caret.
      let from = 0;
      let to = src.length;
      const max = LIMITS.shownLineChars;
      if (src.length > max) {
        from = Math.max(0, Math.min(d.span.column - 1 - (max >> 2), src.length - max));
        to = from + max;
      }
      const shown = `${from > 0 ? '…' : ''}${src.slice(from, to)}${to < src.length ? '…' : ''}`;
      const col = Math.max(0, d.span.column - 1 - from) + (from > 0 ? 1 : 0);
      const width = Math.max(1, Math.min((d.span.endColumn ?? d.span.column) - d.span.column + 1, to - d.span.column + 1));
      lines.push(`${gutter} | ${shown}`);
      lines.push(`${' '.repeat(gutter.length)} | ${' '.repeat(col)}${'^'.repeat(width)}`);
    }
  }
  if (d.hint) lines.push(`  hint: ${d.hint}`);
  return lines.join('\n');
}

/** Line `line` (1-based) of `text`, without splitting the whole text (a diagnostic per line of a big file). */
function sourceLine(text: string, line: number): string | undefined {
  let start = 0;
  for (let i = 1; i < line; i++) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) return undefined;
    start = nl + 1;
  }
  const end = text.indexOf('\n', start);
  const s = text.slice(start, end < 0 ? text.length : end);
  return s.endsWith('\r') ? s.slice(0, -1) : s;
}

/** Damerau-free Levenshtein distance, for "did you mean" hints. */
function distance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}

/** The closest candidate within a small edit distance, as a hint, or undefined. */
export function didYouMean(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  // Bounded work: a hint is a courtesy, never worth quadratic time on a huge generated spec.
  if (name.length > LIMITS.didYouMeanLength) return undefined;
  const limit0 = Math.max(1, Math.floor(name.length / 3));
  let tried = 0;
  for (const c of candidates) {
    if (Math.abs(c.length - name.length) > limit0) continue;
    if (++tried > LIMITS.didYouMeanCandidates) break;
    const d = distance(name.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  const limit = Math.max(1, Math.floor(name.length / 3));
  return best !== undefined && bestD <= limit ? `did you mean \`${best}\`?` : undefined;
}
