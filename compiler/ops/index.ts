// What the rest of the compiler reads of the op table: the op name unions and lists, the matmul-epilogue
// activations, the spec functions, and lookups of each op's semantics, VJP and WGSL form.
import { BINARY } from './binary.js';
import { UNARY } from './unary.js';
import type { BinaryDef, UnaryDef } from './types.js';

export { UNARY } from './unary.js';
export { BINARY } from './binary.js';
export { erf, sigmoid } from './math.js';
export type { BinaryDef, BinaryVjpArgs, Domain, Grad, UnaryDef, UnaryVjpArgs, WgslContext } from './types.js';

export type UnaryOp = keyof typeof UNARY;
export type BinaryOp = keyof typeof BINARY;

export const UNARY_OPS = Object.keys(UNARY) as readonly UnaryOp[];
export const BINARY_OPS = Object.keys(BINARY) as readonly BinaryOp[];

/** Unary ops a matmul may apply in its epilogue (records with `epilogue: true`). */
export type EpilogueActivation = { [K in UnaryOp]: (typeof UNARY)[K]['epilogue'] extends true ? K : never }[UnaryOp];
/** Unary ops specs call as functions (records with `spec: true`). */
export type SpecUnaryOp = { [K in UnaryOp]: (typeof UNARY)[K]['spec'] extends true ? K : never }[UnaryOp];

export const unaryDef = (op: UnaryOp): UnaryDef => UNARY[op];
export const binaryDef = (op: BinaryOp): BinaryDef => BINARY[op];

export const isEpilogueActivation = (op: UnaryOp): op is EpilogueActivation => UNARY[op].epilogue;
export const SPEC_UNARY_OPS = UNARY_OPS.filter((op): op is SpecUnaryOp => UNARY[op].spec);
