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
    const src = text.split(/\r?\n/)[d.span.line - 1];
    if (src !== undefined) {
      const gutter = String(d.span.line).padStart(4);
      const width = Math.max(1, (d.span.endColumn ?? d.span.column) - d.span.column + 1);
      lines.push(`${gutter} | ${src}`);
      lines.push(`${' '.repeat(gutter.length)} | ${' '.repeat(d.span.column - 1)}${'^'.repeat(width)}`);
    }
  }
  if (d.hint) lines.push(`  hint: ${d.hint}`);
  return lines.join('\n');
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
  for (const c of candidates) {
    const d = distance(name.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  const limit = Math.max(1, Math.floor(name.length / 3));
  return best !== undefined && bestD <= limit ? `did you mean \`${best}\`?` : undefined;
}
