// Checks of what a file with imports (or `--set`) does to the constants it imports, reported at the override:
// an override must keep the kind of the constant it replaces (SMC3008), and a constant that replaces nothing
// and is used nowhere is almost always a misspelt override (SMC2020: `const use_mse = false` next to an
// imported `use_msse`).

import { dirname, relative } from 'node:path';
import { diag, didYouMean, DiagnosticError, type Diagnostic } from '../../grammar/diagnostics.js';
import { describeKind, exampleOf, fits, kindOf, type ConstKind } from './const-kinds.js';
import { Elaborator } from './elaborate.js';
import type { ConstDecl, Program } from './load.js';
import { describe, type Value } from './values.js';

export interface OverrideCheck {
  diagnostics: Diagnostic[];
  /** An override has the wrong kind or does not evaluate: checking further would only repeat it at its uses. */
  stop: boolean;
}

export function checkOverrides(program: Program): OverrideCheck {
  const diagnostics: Diagnostic[] = [];
  let stop = false;
  const ev = new Elaborator(program, { batch: 1, training: false });
  for (const { decl, original } of program.replaced) {
    const name = decl.name.name;
    const winner = program.consts.get(name) === decl;
    let want: ConstKind | undefined;
    let was: Value;
    try {
      was = ev.evalGlobal(original.value);
      want = kindOf(was, original.value, program);
    } catch {
      continue; // the replaced declaration is dead code: its own problems do not matter
    }
    let v: Value;
    try {
      v = winner ? ev.constValue(name, decl.value.span) : ev.evalGlobal(decl.value);
    } catch (e) {
      if (winner && e instanceof DiagnosticError) {
        diagnostics.push(e.diagnostic);
        stop = true;
      }
      continue;
    }
    if (!want || fits(want, v)) continue;
    const viaSet = decl.span.file === '<--set>';
    const from = viaSet ? process.cwd() : dirname(decl.span.file);
    const where = `${relative(from, original.span.file) || original.span.file}:${original.span.line}`;
    const example = viaSet ? `--set ${name}=${bare(exampleOf(want, v, was), want)}` : `const ${name} = ${exampleOf(want, v, was)}`;
    const widen = want.k === 'int' && v.t === 'num' ? `, or declare it as \`${sourceOf(program, original).replace(/(-?\d+)$/, '$1.0')}\` there if fractions are meant` : '';
    diagnostics.push(
      diag(
        'SMC3008',
        `\`${name}\` is ${describeKind(want)}, but this ${viaSet ? '--set' : 'override'} makes it ${describe(v)}`,
        decl.value.span,
        `it replaces \`${sourceOf(program, original)}\` (${where}); write ${describeKind(want)}, e.g. \`${example}\`${widen}`,
      ),
    );
    stop = true;
  }
  for (const { decl, imported } of program.added) {
    const name = decl.name.name;
    if (name.startsWith('_') || program.referenced.has(name)) continue;
    diagnostics.push(
      diag(
        'SMC2020',
        `constant \`${name}\` replaces no imported constant and is used nowhere`,
        decl.name.span,
        didYouMean(name, imported) ?? `no imported file declares \`${name}\`: an override must use the imported name exactly; otherwise use \`${name}\` or delete it`,
      ),
    );
  }
  return { diagnostics, stop };
}

/** `const eta = 0.6`, as written (without its comment). */
function sourceOf(program: Program, d: ConstDecl): string {
  const line = program.sources.get(d.value.span.file)?.split(/\r?\n/)[d.value.span.line - 1];
  const s = d.value.span;
  const text = line !== undefined && s.endColumn !== undefined ? line.slice(s.column - 1, s.endColumn) : '…';
  return `const ${d.name.name} = ${text}`;
}

/** A string example for `--set` is written bare (`--set completion=zero`). */
function bare(example: string, k: ConstKind): string {
  return k.k === 'string' ? example.replace(/^"(.*)"$/, '$1') : example;
}
