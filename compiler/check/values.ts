// Values the elaborator computes with: compile-time scalars and lists, tensors (graph nodes), blocks and instances.

import type { BlockDecl } from './load.js';
import type { Span } from '../../grammar/diagnostics.js';
import { fail } from '../../grammar/diagnostics.js';
import { fmtShape } from '../ir/graph.js';

export type Value =
  | { t: 'num'; v: number }
  | { t: 'str'; v: string }
  | { t: 'bool'; v: boolean }
  | { t: 'list'; items: Value[] }
  | { t: 'tuple'; items: Value[] }
  | { t: 'none' }
  | { t: 'tensor'; id: number }
  | { t: 'block'; decl: BlockDecl }
  | { t: 'layer'; name: string }
  | { t: 'fn'; name: string }
  | { t: 'instance'; inst: Instance };

/** An instantiated block (user-defined or a built-in layer); it owns its parameters, named by `path`. */
export type Instance =
  | { kind: 'user'; decl: BlockDecl; path: string; frozen: boolean; members: Map<string, Value>; span: Span }
  | { kind: 'layer'; layer: string; path: string; frozen: boolean; args: Map<string, Value>; span: Span }
  /** `repeat(n, Block(...))`: n instances named `<path>.0` … `<path>.<n-1>`, called in turn, each on the previous
   *  one's result (further arguments are passed to every one unchanged). */
  | { kind: 'stack'; path: string; frozen: boolean; items: Instance[]; span: Span };

export const num = (v: number): Value => ({ t: 'num', v });
export const tensor = (id: number): Value => ({ t: 'tensor', id });

export function describe(v: Value, shapeOf?: (id: number) => readonly number[]): string {
  switch (v.t) {
    case 'num':
      return `the number ${v.v}`;
    case 'str':
      return `the string "${v.v}"`;
    case 'bool':
      return `\`${v.v}\``;
    case 'list':
      return `a list of ${v.items.length}`;
    case 'tuple':
      return `a tuple of ${v.items.length}`;
    case 'none':
      return 'nothing';
    case 'tensor':
      return shapeOf ? `a tensor of shape ${fmtShape(shapeOf(v.id))}` : 'a tensor';
    case 'block':
      return `the block \`${v.decl.name.name}\` (instantiate it as a member: \`x = ${v.decl.name.name}(...)\`)`;
    case 'layer':
      return `the layer \`${v.name}\``;
    case 'fn':
      return `the function \`${v.name}\``;
    case 'instance':
      return `the instance \`${v.inst.path}\``;
  }
}

export function asNumber(v: Value, what: string, span: Span): number {
  if (v.t === 'num') return v.v;
  if (v.t === 'bool') return v.v ? 1 : 0;
  return fail('SMC3002', `${what} must be a number, got ${describe(v)}`, span);
}

export function asInt(v: Value, what: string, span: Span): number {
  const n = asNumber(v, what, span);
  if (!Number.isInteger(n)) fail('SMC3003', `${what} must be a whole number, got ${n}`, span, 'use `//` for integer division');
  return n;
}

export function asDim(v: Value, what: string, span: Span): number {
  const n = asInt(v, what, span);
  if (n <= 0) fail('SMC3003', `${what} must be positive, got ${n}`, span);
  return n;
}

export function asString(v: Value, what: string, span: Span): string {
  if (v.t === 'str') return v.v;
  return fail('SMC3002', `${what} must be a string, got ${describe(v)}`, span);
}

export function asBool(v: Value, what: string, span: Span): boolean {
  if (v.t === 'bool') return v.v;
  if (v.t === 'num' && (v.v === 0 || v.v === 1)) return v.v === 1;
  return fail('SMC3002', `${what} must be true or false, got ${describe(v)}`, span);
}

export function asList(v: Value, what: string, span: Span): Value[] {
  if (v.t === 'list' || v.t === 'tuple') return v.items;
  return fail('SMC3002', `${what} must be a list, got ${describe(v)}`, span);
}

export function asShape(v: Value, what: string, span: Span): number[] {
  return asList(v, what, span).map((d, i) => asDim(d, `dimension ${i} of ${what}`, span));
}

/** A plain JS value for settings (numbers, strings, booleans, lists of those). */
export function toPlain(v: Value, what: string, span: Span): unknown {
  switch (v.t) {
    case 'num':
    case 'str':
    case 'bool':
      return v.v;
    case 'list':
    case 'tuple':
      return v.items.map((x) => toPlain(x, what, span));
    default:
      return fail('SMC3002', `${what} must be a number, string, boolean or list, got ${describe(v)}`, span);
  }
}
