// The kind of a constant — a whole number, a number, true/false, a string or a list — which an override must
// keep: `const eta = 0.8` may become `1` (a whole number is a number) but not `"0.4"`; `const heads = 8` may
// not become `2.5`. A number literal written with a `.` or an exponent (`10.0`, `1e-3`) is a number, not an int.

import type * as A from '../../grammar/ast.js';
import type { Program } from './load.js';
import type { Value } from './values.js';

export type ConstKind =
  | { k: 'int' | 'number' | 'bool' | 'string' }
  /** `items`: the one kind every element has, if they agree. */
  | { k: 'list'; items?: ConstKind };

/** Whether `e` is a whole-number expression by its form: int literals, dims, and `+ - * // % **` of those. */
export function intExpr(e: A.Expr, program: Program, seen: Set<string> = new Set()): boolean {
  switch (e.kind) {
    case 'num':
      return !e.float;
    case 'name': {
      const c = program.consts.get(e.name);
      if (c) {
        if (seen.has(e.name)) return false;
        seen.add(e.name);
        return intExpr(c.value, program, seen);
      }
      return program.dims.has(e.name);
    }
    case 'unary':
      return e.op === '-' && intExpr(e.operand, program, seen);
    case 'binary':
      return ['+', '-', '*', '//', '%', '**'].includes(e.op) && intExpr(e.left, program, seen) && intExpr(e.right, program, seen);
    case 'if':
      return intExpr(e.then, program, seen) && intExpr(e.else, program, seen);
    default:
      return false;
  }
}

/** The kind of a constant's value; `e` (its expression, if known) tells an int from a number. */
export function kindOf(v: Value, e: A.Expr | undefined, program: Program): ConstKind | undefined {
  switch (v.t) {
    case 'num':
      return Number.isInteger(v.v) && (!e || intExpr(e, program)) ? { k: 'int' } : { k: 'number' };
    case 'bool':
      return { k: 'bool' };
    case 'str':
      return { k: 'string' };
    case 'list':
    case 'tuple': {
      const exprs = e && (e.kind === 'list' || e.kind === 'tuple') ? e.items : [];
      const kinds = v.items.map((x, i) => kindOf(x, exprs[i], program));
      return { k: 'list', items: joinAll(kinds) };
    }
    default:
      return undefined;
  }
}

function joinAll(kinds: (ConstKind | undefined)[]): ConstKind | undefined {
  if (kinds.length === 0 || kinds.some((k) => !k)) return undefined;
  let acc = kinds[0]!;
  for (const k of kinds.slice(1)) {
    const j = join(acc, k!);
    if (!j) return undefined;
    acc = j;
  }
  return acc;
}

function join(a: ConstKind, b: ConstKind): ConstKind | undefined {
  if (a.k === 'list' || b.k === 'list') return a.k === 'list' && b.k === 'list' ? { k: 'list' } : undefined;
  if (a.k === b.k) return a;
  const nums = ['int', 'number'];
  return nums.includes(a.k) && nums.includes(b.k) ? { k: 'number' } : undefined;
}

/** Whether `v` may replace a constant of kind `want`. */
export function fits(want: ConstKind, v: Value): boolean {
  switch (want.k) {
    case 'int':
      return v.t === 'num' && Number.isInteger(v.v);
    case 'number':
      return v.t === 'num';
    case 'bool':
      return v.t === 'bool';
    case 'string':
      return v.t === 'str';
    case 'list':
      return (v.t === 'list' || v.t === 'tuple') && (!want.items || v.items.every((x) => fits(want.items!, x)));
  }
}

/** `a whole number`, `a list of strings`, … */
export function describeKind(k: ConstKind): string {
  switch (k.k) {
    case 'int':
      return 'a whole number';
    case 'number':
      return 'a number';
    case 'bool':
      return 'true or false';
    case 'string':
      return 'a string';
    case 'list':
      return k.items ? `a list of ${plural(k.items)}` : 'a list';
  }
}

function plural(k: ConstKind): string {
  switch (k.k) {
    case 'int':
      return 'whole numbers';
    case 'number':
      return 'numbers';
    case 'bool':
      return 'booleans';
    case 'string':
      return 'strings';
    case 'list':
      return 'lists';
  }
}

/** A value of kind `k` as .smcir source, for hints: derived from `near` (the wrong value) where it can be
 * (`"0.4"` → `0.4`), else `fallback` (the replaced value). */
export function exampleOf(k: ConstKind, near?: Value, fallback?: Value): string {
  if (near && fits(k, near)) return show(near);
  const numeric = near?.t === 'str' && near.v.trim() !== '' && Number.isFinite(Number(near.v)) ? Number(near.v) : undefined;
  const guess = ((): string | undefined => {
    switch (k.k) {
      case 'int':
        if (near?.t === 'num') return String(Math.round(near.v));
        if (near?.t === 'bool') return near.v ? '1' : '0';
        return numeric !== undefined && Number.isInteger(numeric) ? String(numeric) : undefined;
      case 'number':
        if (near?.t === 'bool') return near.v ? '1' : '0';
        return numeric !== undefined ? String(numeric) : undefined;
      case 'bool':
        if (near?.t === 'num' && (near.v === 0 || near.v === 1)) return String(near.v === 1);
        return near?.t === 'str' && ['true', 'false'].includes(near.v) ? near.v : undefined;
      case 'string':
        return near?.t === 'num' || near?.t === 'bool' ? `"${near.v}"` : undefined;
      case 'list':
        return undefined;
    }
  })();
  if (guess !== undefined) return guess;
  if (fallback && fits(k, fallback)) return show(fallback);
  return { int: '8', number: '0.5', bool: 'true', string: '"name"', list: '[1, 2]' }[k.k];
}

function show(v: Value): string {
  switch (v.t) {
    case 'num':
    case 'bool':
      return String(v.v);
    case 'str':
      return `"${v.v}"`;
    case 'list':
    case 'tuple':
      return `[${v.items.map(show).join(', ')}]`;
    default:
      return '…';
  }
}
