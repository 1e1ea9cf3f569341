// Diagnostics: the catalogue of front-end error codes and the compiler-style printer (file:line:col, caret, hint).

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
}

/** Every code the front end and checker emit, with a one-line title (printed by `smcirc explain`). */
export const CATALOGUE = {
  // 1xxx: syntax
  SMC1001: 'unexpected character',
  SMC1002: 'unterminated string',
  SMC1003: 'syntax error',
  SMC1004: 'missing token',
  // 2xxx: names, imports, declarations
  SMC2001: 'unknown name',
  SMC2002: 'duplicate declaration',
  SMC2003: 'unknown layer or function',
  SMC2004: 'wrong number of arguments',
  SMC2005: 'unknown keyword argument',
  SMC2006: 'missing argument',
  SMC2007: 'import not found',
  SMC2008: 'cyclic import',
  SMC2009: 'bad override',
  SMC2010: 'unknown setting',
  SMC2011: 'missing model',
  SMC2012: 'forward parameter is not an input',
  SMC2013: 'unused binding',
  SMC2014: 'unused parameter',
  SMC2015: 'recursive block',
  SMC2016: 'not callable',
  SMC2017: 'missing setting',
  SMC2018: 'unknown output',
  SMC2019: 'parameter group matches no parameter',
  // 3xxx: types and shapes
  SMC3001: 'shape mismatch',
  SMC3002: 'type mismatch',
  SMC3003: 'not an integer dimension',
  SMC3004: 'bad value',
  SMC3005: 'division by zero',
  SMC3006: 'index out of range',
  SMC3007: 'tuple arity mismatch',
} as const;

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
  const text = d.span ? sources.get(d.span.file) : undefined;
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
