// The shape of an elementwise primitive's record: every piece is required, so an op without a VJP rule or a WGSL
// form does not compile (an op that passes no gradient says so with `vjp: 'none'`).
import type { GraphBuilder } from '../ir/graph.js';
import type { HelperName, WgslHelper } from '../kernels/wgsl-common.js';

/** Where an op is defined and smooth: tests sample it there ('positive': every operand > 0). */
export type Domain = 'all' | 'positive';

/** What a WGSL form may ask of the kernel generator emitting it. */
export interface WgslContext {
  /** A literal at the expression's width: `0.0`, or `vec4<f32>(0.0)` (the matmul epilogue always spells the type). */
  splat(literal: string): string;
  /** The name of a helper function at this width: one of wgsl-common's, or one the op brings. */
  helper(h: HelperName | WgslHelper): string;
}

/** A unary VJP rule's view of the node: input x, output y, cotangent d, and cached scalar constants. */
export interface UnaryVjpArgs {
  g: GraphBuilder;
  x: number;
  y: number;
  d: number;
  c(value: number): number;
}

export interface UnaryDef {
  /** One line for `smcirc stdlib` (and the spec function, when `spec`). */
  doc: string;
  /** A function specs can call by the op's name (compiler/check/builtins.ts). */
  spec: boolean;
  /** Reference semantics in f64: the graph interpreter and the kernel reference both evaluate this. */
  ref(x: number): number;
  /** The gradient w.r.t. x as new nodes (give the return type: `({ g, d }): number => ...`), or 'none'. */
  vjp: ((a: UnaryVjpArgs) => number) | 'none';
  /** The WGSL expression of operand `a` (a WGSL value of the kernel's width). */
  wgsl(a: string, cx: WgslContext): string;
  /** May be folded into a matmul's epilogue as its activation. */
  epilogue: boolean;
  domain?: Domain;
}

export type Grad = number | undefined;

/**
 * A binary VJP rule's view: operands a and b, output y, cotangent d, the scalar 0, and `grad(k, f)`, which builds
 * f() only when operand k needs a gradient and sums it down to k's shape (broadcasting) right away.
 */
export interface BinaryVjpArgs {
  g: GraphBuilder;
  a: number;
  b: number;
  y: number;
  d: number;
  zero: number;
  grad(k: 0 | 1, f: () => number): Grad;
}

export interface BinaryDef {
  doc: string;
  ref(a: number, b: number): number;
  /** Gradients w.r.t. [a, b] through `grad` (give the return type: `(...): [Grad, Grad] => ...`), or 'none'. */
  vjp: ((a: BinaryVjpArgs) => [Grad, Grad]) | 'none';
  wgsl(a: string, b: string, cx: WgslContext): string;
  domain?: Domain;
}
