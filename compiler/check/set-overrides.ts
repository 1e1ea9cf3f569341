// `--set name=value` and `--set section.key=value`: parses each value (a .smcir expression; a bare word where a
// string is expected, e.g. `--set eval.dmfd_stats=batch`; comma lists where a list is) and applies it to the
// loaded Program. Problems are reported on a pseudo-file `<--set>`, one line per `--set`, with a caret.

import type * as A from '../../grammar/ast.js';
import { diag, didYouMean, type Diagnostic, type Span } from '../../grammar/diagnostics.js';
import { parseSmcir } from '../../grammar/to-ast.js';
import { describeKind, exampleOf, kindOf, type ConstKind } from './const-kinds.js';
import { Elaborator } from './elaborate.js';
import type { Program } from './load.js';
import { namesIn } from './names.js';
import { DATA_KEYS, EVAL_KEYS, TRAIN_KEYS, type KeySpec } from './settings.js';
import type { Value } from './values.js';

export const SET_FILE = '<--set>';
const SECTIONS: Record<string, Record<string, KeySpec>> = { train: TRAIN_KEYS, data: DATA_KEYS, eval: EVAL_KEYS };
const PREFIX = 'const _=';

/** Applies `overrides` to `program`; returns the text of `<--set>` (line i: `--set <overrides[i]>`) for printing. */
export function applySetOverrides(program: Program, overrides: string[], diagnostics: Diagnostic[]): string {
  overrides.forEach((o, i) => applyOne(program, o, i + 1, diagnostics));
  return overrides.map((o) => `--set ${o}`).join('\n');
}

function applyOne(program: Program, o: string, line: number, diagnostics: Diagnostic[]): void {
  const at = (col: number, len: number): Span => ({ file: SET_FILE, line, column: col, endColumn: col + Math.max(1, len) - 1 });
  const fail = (span: Span, message: string, hint?: string): void => {
    diagnostics.push(diag('SMC2009', message, span, hint));
  };
  const eq = o.indexOf('=');
  const rawKey = eq < 0 ? o : o.slice(0, eq);
  const key = rawKey.trim();
  const keySpan = at(7 + rawKey.length - rawKey.trimStart().length, key.length);
  if (eq < 0 || !key) {
    return fail(at(7, o.length), `\`--set ${o}\` is not \`name=value\``, 'write `--set name=value`, e.g. `--set eta=0.4` or `--set train.lr=1e-3`');
  }
  const raw = o.slice(eq + 1);
  const text = raw.trim();
  const col = 7 + eq + 1 + (raw.length - raw.trimStart().length);
  const valueSpan = at(col, text.length);

  // What the value is for, and the kind it must have.
  const dot = key.indexOf('.');
  let want: ConstKind | undefined;
  let example: string | undefined;
  let section: string | undefined;
  const name = dot > 0 ? key.slice(dot + 1) : key;
  if (dot > 0) {
    section = key.slice(0, dot);
    const keys = SECTIONS[section];
    if (!keys) {
      return fail(at(keySpan.column, dot), `--set ${key}: there is no section \`${section}\``, didYouMean(section, Object.keys(SECTIONS)) ?? 'sections are train, data and eval');
    }
    const spec = keys[name] ?? (section === 'data' && program.inputs.has(name) ? { kind: 'str' as const, doc: '' } : undefined);
    want = spec && settingKind(spec);
    example = spec && want ? exampleOf(want, spec.default === undefined ? undefined : plain(spec.default)) : undefined;
  } else {
    const decl = program.consts.get(key);
    if (!decl) {
      return fail(keySpan, `--set ${key}: the spec has no constant \`${key}\``, didYouMean(key, program.consts.keys()) ?? 'only `const` declarations can be overridden (settings: `--set train.lr=...`)');
    }
    try {
      const v = new Elaborator(program, { batch: 1, training: false }).evalGlobal(decl.value);
      want = kindOf(v, decl.value, program);
      example = want && exampleOf(want, v);
    } catch {
      want = undefined; // its own error is reported where it is declared
    }
  }
  const shown = (ex: string) => `--set ${key}=${want?.k === 'string' ? ex.replace(/^"(.*)"$/, '$1') : want?.k === 'list' && want.items?.k === 'string' ? ex.replace(/"/g, '') : ex}`;
  const takes = want && example ? `\`${key}\` takes ${describeKind(want)}, e.g. \`${shown(example)}\`` : undefined;
  if (!text) return fail(at(col, 1), `\`--set ${key}=\` has no value`, takes ?? 'write a value after `=`');

  const expr = parseValue(text, want, line, col, valueSpan);
  if (!expr) {
    const hint = want?.k === 'string' || (want?.k === 'list' && want.items?.k === 'string')
      ? `a string with spaces or symbols is a quoted .smcir string, quoted again for the shell: --set '${key}="${text.replace(/^"|"$/g, '')}"'`
      : `use a number, a quoted string, true/false, or a list like [1, 2]${takes ? `; ${takes}` : ''}`;
    return fail(valueSpan, `the value in \`--set ${o}\` is not a valid expression`, hint);
  }
  const unsafe = wholeNumbers(expr).find((v) => !Number.isSafeInteger(v));
  if (unsafe !== undefined) {
    return fail(valueSpan, `\`${text}\` in \`--set ${key}=…\` is ${Number.isFinite(unsafe) ? `${unsafe.toExponential(3)}, beyond the whole numbers smcirc represents exactly (2^53)` : 'infinite'}`, takes ?? 'use a whole number of a sensible size');
  }
  if (expr.kind === 'name' && want && !program.consts.has(expr.name) && !program.dims.has(expr.name)) {
    return fail(valueSpan, `\`${expr.name}\` in \`--set ${o}\` is neither a value nor a constant`, takes);
  }
  for (const n of namesIn(expr)) program.referenced.add(n);

  if (section) {
    const sec = program.sections.get(section) ?? { name: section, span: keySpan, values: new Map(), groups: new Map() };
    program.sections.set(section, sec);
    sec.values.set(name, { key: { name, span: keySpan }, value: expr });
    return;
  }
  const original = program.consts.get(key)!;
  const decl = { kind: 'const' as const, name: { name: key, span: keySpan }, value: expr, span: at(1, 6 + o.length) };
  program.replaced.push({ decl, original });
  program.consts.set(key, decl);
}

/** The value as an expression, spans on `<--set>` line `line` from column `col`; undefined if it does not parse. */
function parseValue(text: string, want: ConstKind | undefined, line: number, col: number, span: Span): A.Expr | undefined {
  const str = (value: string): A.Expr => ({ kind: 'str', value, span });
  if (want?.k === 'string' && isBare(text)) return str(text);
  if (want?.k === 'list') {
    const bracketed = text.startsWith('[') && text.endsWith(']');
    const inner = bracketed ? text.slice(1, -1) : text;
    const parts = inner.split(',').map((p) => p.trim());
    if (want.items?.k === 'string' && inner.trim() && parts.every(isBare)) return { kind: 'list', items: parts.map(str), span };
    if (!bracketed && text.includes(',')) return parse(`[${text}]`, line, col - 1);
  }
  return parse(text, line, col);
}

function parse(text: string, line: number, col: number): A.Expr | undefined {
  const src = `${'\n'.repeat(line - 1)}${PREFIX}${' '.repeat(Math.max(0, col - 1 - PREFIX.length))}${text}`;
  const { ast, diagnostics } = parseSmcir(src, SET_FILE);
  const d = ast.decls[0];
  return diagnostics.length || ast.decls.length !== 1 || d?.kind !== 'const' ? undefined : d.value;
}

/** A word that can only be meant as a string: no spaces, quotes, brackets, commas or `=`. */
function isBare(s: string): boolean {
  return /^[^\s"'[\](),=#]+$/.test(s);
}

function settingKind(spec: KeySpec): ConstKind | undefined {
  switch (spec.kind) {
    case 'num':
      return { k: 'number' };
    case 'int':
      return { k: 'int' };
    case 'str':
      return { k: 'string' };
    case 'bool':
      return { k: 'bool' };
    case 'nums':
      return { k: 'list', items: { k: spec.integers ? 'int' : 'number' } };
    case 'strs':
      return { k: 'list', items: { k: 'string' } };
    case 'expr':
      return undefined;
  }
}

function plain(v: unknown): Value | undefined {
  if (typeof v === 'number') return { t: 'num', v };
  if (typeof v === 'string') return { t: 'str', v };
  if (typeof v === 'boolean') return { t: 'bool', v };
  if (Array.isArray(v)) {
    const items = v.map(plain);
    return items.every((x) => x) ? { t: 'list', items: items as Value[] } : undefined;
  }
  return undefined;
}

/** The whole-number literals (written without `.` or an exponent) of an override's value. */
function wholeNumbers(e: A.Expr): number[] {
  switch (e.kind) {
    case 'num':
      return e.float ? [] : [e.value];
    case 'unary':
      return wholeNumbers(e.operand);
    case 'list':
    case 'tuple':
      return e.items.flatMap(wholeNumbers);
    case 'binary':
      return [...wholeNumbers(e.left), ...wholeNumbers(e.right)];
    default:
      return [];
  }
}
