// Prints diagnostics for a terminal: paths relative to the working directory, errors and warnings counted.

import { relative } from 'node:path';
import { formatDiagnostic, type Diagnostic } from '../grammar/diagnostics.js';

export function printDiagnostics(diagnostics: Diagnostic[], sources: ReadonlyMap<string, string>, out: (s: string) => void = (s) => process.stderr.write(s)): void {
  const rel = new Map<string, string>();
  for (const [k, v] of sources) rel.set(displayPath(k), v);
  for (const d of diagnostics) {
    const shown = d.span ? { ...d, span: { ...d.span, file: displayPath(d.span.file) } } : d;
    out(`${formatDiagnostic(shown, rel)}\n`);
  }
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.length - errors;
  if (diagnostics.length) out(`${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}\n`);
}

export function displayPath(p: string): string {
  if (p.startsWith('<')) return p;
  const r = relative(process.cwd(), p);
  return r.startsWith('..') && r.split('/').filter((x) => x === '..').length > 2 ? p : r || p;
}
